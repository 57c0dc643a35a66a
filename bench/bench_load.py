"""Vote submission under load: many participants posting ballots to one `codesign serve`.

Run: .venv/bin/python bench/bench_load.py [--workers N] [--duration S] [--connections C]
                                         [--participants P] [--postgres]

Starts a real server on 127.0.0.1 over a fresh database (SQLite in a temporary directory, or with
--postgres a database on a throwaway PostgreSQL 15 cluster made by tests/with_postgres.sh), creates
a population group from the "adults-with-diabetes" template, a session and an open rating round
over 20 outcomes, joins P participants over HTTP (each keeps its signed cookie and CSRF token), then
drives it with wrk (Debian: apt-get install -y wrk):

1. the trivial endpoint GET /healthz (no database work), then
2. rating answers, POST /s/{code}/rounds/{round}/q/{n}, spread over every participant and question,
   each with a new device key (so each request is a real new submission, never an idempotent no-op),

with the same wrk settings, and prints requests per second, p50/p99 latency and the ratio
vote/trivial (target: at least 0.4). Requests are sent for --duration seconds; then no new request
is sent and wrk waits for the ones in flight (so every request sent gets its answer read, and the
count of acknowledged ballots is exact). Requests per second: acknowledged answers from the first
request to the last answer. Also printed: the server's (and PostgreSQL's) CPU time per request,
which other programs on a shared machine disturb far less than requests per second.

wrk settings: -t1 -c32 by default. On 2 cores one wrk thread needs about a third of a core to
drive /healthz at ~10,000 req/s (and almost nothing for votes), which leaves the rest of the
machine to the server; the script prints the cores each side used, and what other programs took.

Afterwards, with the server stopped, it checks that every acknowledged ballot (a 303 to the next
question) is in the database exactly once: no key twice, no key that was never sent, each submission
on the ballot of the participant whose cookie sent it, at most one answer per participant and
outcome, and, key by key, the keys sent against the keys stored: when every request sent was
acknowledged (no socket errors, timeouts or other answers) the stored keys must be exactly the keys
sent; otherwise at most the unacknowledged ones may be missing, and stored-but-unacknowledged is
printed. Exit status 1 if a check fails, 2 if the benchmark could not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_checks import (  # noqa: I001
    check_exactly_once,
    print_environment,
    print_results,
)
from load_http import (
    join_participants,
    smoke_vote,
)
from load_setup import (
    BenchError,
    Options,
    PREFIXES,
    ROOT,
    Server,
    TARGET_RATIO,
    create_fixture,
    database,
    database_notes,
    free_port,
    migrate,
    parse_args,
    postgres_pid,
)
from load_wrk import (
    Phase,
    run_wrk,
)

# ---------------------------------------------------------------------------------------------


def reexec_with_postgres(argv: list[str]) -> int:
    script = ROOT / "tests" / "with_postgres.sh"
    command = [str(script), sys.executable, str(Path(__file__).resolve()), *argv]
    print(f"Running under {script.relative_to(ROOT)} (a throwaway PostgreSQL 15 cluster)", flush=True)
    try:
        return subprocess.run(command, cwd=ROOT, check=False, timeout=1800).returncode
    except subprocess.TimeoutExpired:
        print("bench_load: the PostgreSQL run took more than 30 minutes; stopped", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    opts = parse_args(raw)
    if shutil.which("wrk") is None:
        print("bench_load: wrk is not installed. On Debian: apt-get install -y wrk (as root).", file=sys.stderr)
        return 2
    if opts.postgres and not os.environ.get("CODESIGN_TEST_DATABASE_URL"):
        return reexec_with_postgres(raw)
    workdir = Path(tempfile.mkdtemp(prefix="codesign-bench-"))
    try:
        return run(opts, workdir)
    except BenchError as exc:
        print(f"bench_load: {exc}", file=sys.stderr)
        return 2
    finally:
        if opts.keep:
            print(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(opts: Options, workdir: Path) -> int:
    with database(opts, workdir) as database_url:
        migrate(database_url)
        fixture = create_fixture(database_url, opts.outcomes)
        engine = create_engine(database_url)
        try:
            print_environment(opts, database_notes(engine))
            db_pid = postgres_pid(engine)
            port = free_port()
            server = Server(database_url, port, opts.workers, workdir / "server.log")
            phases: list[Phase] = []
            try:
                server.wait_ready(opts.workers)
                started = time.monotonic()
                people = join_participants(port, fixture, opts.participants, time.monotonic() + 300)
                print(f"Joined {len(people)} participants over HTTP in {time.monotonic() - started:.1f} s; "
                      f"round {fixture.round_id} has {len(fixture.outcome_ids)} outcomes; join code "
                      f"{fixture.join_code}")
                smoke_vote(port, fixture, people[0])
                if opts.warmup:
                    run_wrk(Phase("warm-up trivial", "trivial", "triv"), opts, workdir, port, fixture, people,
                            opts.warmup, server, db_pid, engine)
                    phases.append(run_wrk(Phase("warm-up", "vote", PREFIXES["warm-up"]), opts, workdir, port,
                                          fixture, people, opts.warmup, server, db_pid, engine))
                trivial = run_wrk(Phase("trivial", "trivial", "triv"), opts, workdir, port, fixture, people,
                                  opts.duration, server, db_pid, engine)
                vote = run_wrk(Phase("vote", "vote", PREFIXES["vote"]), opts, workdir, port, fixture, people,
                               opts.duration, server, db_pid, engine)
                phases.append(vote)
            except BaseException:
                print(f"server log (last lines):\n{server.log_tail()}", file=sys.stderr)
                raise
            finally:
                server.stop()
            print()
            ratio = print_results(trivial, vote)
            checks, totals = check_exactly_once(engine, fixture, phases, opts, people)
        finally:
            engine.dispose()
    print("\nExactly once (checked in the database after the server stopped):")
    print(f"  {totals['submissions']} ballot_submission rows in the round ({totals.get('vote', 0)} from the "
          f"measured run, {totals.get('warm', 0)} from the warm-up, {totals.get('smoke', 0)} by hand); "
          f"{totals['answers']} ballot_answer rows")
    for check in checks:
        print(f"  [{'ok' if check.passed else 'FAIL'}] {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(f"\nSummary: vote {vote.rps:.1f} req/s, trivial {trivial.rps:.1f} req/s, ratio {ratio:.3f} "
          f"(target {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'not met'}); exactly-once checks: "
          f"{'all passed' if not failed else f'{len(failed)} FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
