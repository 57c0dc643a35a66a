"""Importing a round's ballots (paper ballots, a survey run elsewhere) while the room votes.

Run: .venv/bin/python bench/bench_import.py [--sizes 1000,5000,20000] [--outcomes 20] [--postgres]

For each size, a fresh open rating round is given a ballot file of that many voters, each
answering every outcome (about one in eight "unable to score"), through the two steps the web
app takes: reading and checking the file (nothing locked: the room votes on) and saving it (on
SQLite every vote in the room waits for this step; on PostgreSQL only the round's own row is
locked, shared). Then the same file again (every voter's answers replaced). Each size runs in a
fresh child process, which prints the steps' wall times and its peak resident memory.
PostgreSQL: `--postgres` under tests/with_postgres.sh.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_setup import BenchError, Options, create_fixture, database, migrate

GROUPS = ("patient", "carer", "clinician", "commissioner")


def ballot_file(voters: int, outcome_ids: list[int], seed: int = 7) -> str:
    pick = random.Random(seed)
    scores = [str(v) for v in range(1, 10)] + ["U"]
    lines = ["participant,group,outcome,value"]
    for n in range(voters):
        group = GROUPS[n % len(GROUPS)]
        lines.extend(f"V-{n},{group},{o},{scores[pick.randrange(len(scores) + 1) % len(scores)]}" for o in outcome_ids)
    return "\n".join(lines) + "\n"


def one(database_url: str, voters: int, outcomes: int) -> dict[str, float]:
    """In a child process: one size, timed step by step."""
    from sqlmodel import select

    from codesign import db
    from codesign.config import Settings
    from codesign.models import User
    from codesign.services import round_import

    fixture = create_fixture(database_url, outcomes)
    text = ballot_file(voters, fixture.outcome_ids)
    engine = db.make_engine(Settings(database_url=database_url, env="development"))
    figures: dict[str, float] = {}
    try:
        for label in ("new", "again"):
            start = time.perf_counter()
            with db.read_session(engine) as reader:
                checked = round_import.check_import(reader, fixture.session_id, fixture.round_id, text, "bench.csv")
            checked_at = time.perf_counter()
            with db.write_session(engine) as writer:
                admin = writer.exec(select(User)).first()
                assert admin is not None
                saved = round_import.save_import(writer, admin, fixture.session_id, fixture.round_id, checked)
            assert saved.voters == voters
            figures[f"{label}_check"] = checked_at - start
            figures[f"{label}_save"] = time.perf_counter() - checked_at
    finally:
        engine.dispose()
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--outcomes", type=int, default=20)  # the template has 23
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # database URL, voters, outcomes
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), int(args.one[2]))))
        return
    options = Options(workers=1, duration=0, connections=0, participants=0, threads=0, timeout=0, warmup=0,
                      outcomes=args.outcomes, csrf_header=False, postgres=args.postgres, keep=False)
    print(f"Importing ballots, {args.outcomes} outcomes each, on {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(f"{'voters':>7} {'answers':>9} | {'check':>6} {'save':>6} | again: {'check':>6} {'save':>6} | peak")
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as work, database(options, Path(work)) as url:
            migrate(url)
            done = subprocess.run([sys.executable, __file__, "--one", url, str(size), str(args.outcomes)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BenchError(done.stderr[-3000:])
            f = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{size:>7,} {size * args.outcomes:>9,} | {f['new_check']:>5.2f}s {f['new_save']:>5.2f}s | "
                  f"       {f['again_check']:>5.2f}s {f['again_save']:>5.2f}s | {f['peak_mb']:.0f} MB")
    print("check: read and checked, nothing locked; save: the write (on SQLite, what a vote in the room waits for)")


if __name__ == "__main__":
    main()
