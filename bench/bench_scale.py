"""Studies of any size: `codesign tally` on a ballot file, and counting a round from the
database, at 1,000 and 20,000 participants x 80 outcomes (80,000 and 1.6 million answers).

Run: .venv/bin/python bench/bench_scale.py [--sizes 1000,20000] [--postgres] [--skip-files] [--skip-db]
     [--skip-sqlite]

Each measurement runs in a fresh child process and prints its wall time, CPU time (user + system)
and peak resident memory (the child's ru_maxrss, read by a wrapper process of its own so no other
child's peak is mixed in). `codesign tally` is timed whole, from starting Python to the JSON on
stdout, REPEATS times (the median run is printed, with the range). From a database: one round
(`count_round`) and a pooled round run in three sessions of a panel (`count_pooled`, the people
split 40/35/25%), each counted REPEATS times in a process that has imported the app (its wall
time is mostly those imports); the count's median and range are
printed. The database is bulk-loaded first (executemany on SQLite, COPY on PostgreSQL; not timed).
PostgreSQL: `--postgres` under tests/with_postgres.sh, or CODESIGN_BENCH_POSTGRES_URL naming a
database on loopback that may be written to.
Target (issue 14): 20,000 x 80 under 2 s and 500 MB on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import GROUPS, N_OUTCOMES, rating_ballots
from load_setup import ROOT, BenchError, codesign_command, database, migrate

from codesign.voting import ballots_to_csv

# Runs a command and reports its own children's peak memory: a fresh wrapper per measurement.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024, "stderr": done.stderr.decode()[-2000:],
                  "stdout_tail": done.stdout.decode()[-300:]}))
"""

_COUNT = """
import json, sys, time
from codesign import db
from codesign.config import Settings
from codesign.models import Round
from codesign.queries.pooled import count_pooled, member_rounds
from codesign.queries.rounds import count_round
engine = db.make_engine(Settings(database_url=sys.argv[1], env="development"))
seconds = []
for _ in range(int(sys.argv[3])):
    with db.read_session(engine) as s:
        found = s.get(Round, int(sys.argv[2]))
        start = time.perf_counter()
        if found.panel_round_id is None:
            view = count_round(s, found)
        else:
            view = count_pooled(s, member_rounds(s, found.panel_round_id))[0]
        seconds.append(time.perf_counter() - start)
print(json.dumps({"count_seconds": seconds, "outcomes": len(view.results.outcomes)}))
"""
REPEATS = 3  # each count runs this many times in its process; the median is reported


def measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrapper failed: {done.stderr}")
    result: dict[str, object] = json.loads(done.stdout)
    if result["rc"] != 0:
        raise BenchError(f"{' '.join(command[:3])}... failed: {result['stderr']}")
    return result


def ranking_all(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Every participant ranks all 80 outcomes."""
    frame = rating_ballots(n, rng)
    frame["value"] = (np.argsort(np.argsort(-rng.random((n, N_OUTCOMES)), axis=1), axis=1) + 1).ravel()
    return frame


def points_spread(n: int, rng: np.random.Generator, budget: int = 100) -> pd.DataFrame:
    """Every participant gives each of the 80 outcomes 0 or 1 point (at most 80 of a budget of 100)."""
    frame = rating_ballots(n, rng)
    frame["value"] = rng.integers(0, 2, n * N_OUTCOMES)
    assert frame.groupby("participant")["value"].sum().max() <= budget
    return frame


def write_files(workdir: Path, n: int) -> dict[str, Path]:
    rng = np.random.default_rng(n)
    frames = {"rating": rating_ballots(n, rng), "ranking": ranking_all(n, rng), "points": points_spread(n, rng)}
    frames["rating"]["value"] = frames["rating"]["value"].astype("Int64")
    paths = {}
    for method, frame in frames.items():
        paths[method] = workdir / f"{method}-{n}.csv"
        paths[method].write_text(ballots_to_csv(frame, method), encoding="utf-8")  # type: ignore[arg-type]
    return paths


def bench_files(workdir: Path, sizes: list[int]) -> None:
    """Each file tallied REPEATS times, a fresh process each time: the median run is reported
    (this machine's times vary by a third between identical runs), with the range and the
    largest peak."""
    for n in sizes:
        for method, path in write_files(workdir, n).items():
            extra = ["--budget", "100"] if method == "points" else []
            runs = sorted((measure([*codesign_command(), "tally", str(path), "--method", method, *extra])
                           for _ in range(REPEATS)), key=lambda r: float(r["wall"]))  # type: ignore[arg-type]
            median = dict(runs[len(runs) // 2])
            median["peak_mb"] = max(float(r["peak_mb"]) for r in runs)  # type: ignore[arg-type]
            report(f"codesign tally {method}", n, median,
                   f"  (median of {len(runs)}, {runs[0]['wall']:.2f}-{runs[-1]['wall']:.2f} s)")


def report(what: str, n: int, result: dict[str, object], note: str = "") -> None:
    print(f"{what:<34}{n:>8,} x {N_OUTCOMES}  wall {result['wall']:6.2f} s  cpu {result['cpu']:6.2f} s  "
          f"peak {result['peak_mb']:6.0f} MB{note}", flush=True)


def load_round(url: str, n: int, pooled: bool = False) -> int:
    """A session with an open rating round of 80 outcomes and n participants' answers; its id.
    `pooled`: a panel's round run in three sessions (two rooms, one online) with n participants
    between them (40%, 35%, 25%); the first member round's id."""
    from sqlmodel import col, select

    from codesign import db
    from codesign.config import Settings
    from codesign.models import Outcome, OutcomeStatus, Round, StakeholderGroup
    from codesign.services import accounts, panel_people, panels, population, rounds, sessions
    from codesign.services import pooled as pooling

    engine = db.make_engine(Settings(database_url=url, env="development"))
    try:
        with db.write_session(engine) as s:
            admin = accounts.create_user(s, "bench-admin@example.nhs.uk", "admin", "bench-password-123456")
            group = population.create_population_group(s, admin, "Scale benchmark",
                                                       template_slug="adults-with-diabetes")
            assert group.id is not None
            workshop = sessions.create_session(s, admin, group.id, "Scale benchmark")
            assert workshop.id is not None
            outcomes = [Outcome(population_group_id=group.id, statement=f"Benchmark outcome {j:02d}",
                                status=OutcomeStatus.accepted) for j in range(N_OUTCOMES)]
            s.add_all(outcomes)
            s.flush()
            ids = [o.id for o in outcomes]
            form = {"title": "Rating at scale", "method": "rating", "combine": "weighted", "in_min": "70",
                    "in_max_low": "15", "out_min": "70", "out_max_high": "15", "min_group_size": "5",
                    "budget": "10", "outcomes": ",".join(str(i) for i in ids)}
            made = rounds.create_round(s, admin, workshop.id, form)
            assert made.id is not None
            members = [made]
            if pooled:
                panel = panels.create_panel(s, admin, group.id, "Scale benchmark panel")
                assert panel.id is not None
                panel_people.attach_session(s, admin, panel.id, str(workshop.id))
                others = [panel_people.create_panel_session(s, admin, panel.id, "Second room", "2027-01-02", "room"),
                          panel_people.create_panel_session(s, admin, panel.id, "Online", "", "online")]
                pooling.run_in_sessions(s, admin, workshop.id, made.id, [str(o.id) for o in others])
                members = list(s.exec(select(Round).where(Round.panel_round_id == s.get(Round, made.id)
                                                          .panel_round_id).order_by(col(Round.id))))
            for member in members:
                assert member.id is not None
                rounds.open_round(s, admin, member.session_id, member.id, acknowledge_small=True)
            group_ids = {g.key: g.id for g in s.exec(select(StakeholderGroup).where(
                StakeholderGroup.population_group_id == group.id))}
            member_ids = [int(m.id or 0) for m in members]
        frame = rating_ballots(n, np.random.default_rng(n))
        cuts = [0, n] if not pooled else [0, n * 40 // 100, n * 75 // 100, n]
        with engine.begin() as conn:
            for member_id, low, high in zip(member_ids, cuts[:-1], cuts[1:], strict=True):
                _insert_answers(conn, url, member_id, group_ids, ids, frame, low, high)
        return member_ids[0]
    finally:
        engine.dispose()


def _insert_answers(conn: Any, url: str, round_id: int, group_ids: dict[str, int | None], ids: list[int | None],
                    frame: pd.DataFrame, low: int, high: int) -> None:
    """Participants low..high-1 of `frame` as ballots of the round (bulk, not timed)."""
    from codesign.models import Ballot

    conn.execute(Ballot.__table__.insert(), [  # type: ignore[attr-defined]
        {"round_id": round_id, "voter_key": f"x:{i}", "stakeholder_group_id": group_ids[GROUPS[i % 4]],
         "draft_json": "", "source": "import", "updated_at": pd.Timestamp.now("UTC").to_pydatetime()}
        for i in range(low, high)])
    ballot_ids = [r[0] for r in conn.exec_driver_sql(
        f"SELECT id FROM ballot WHERE round_id = {round_id} ORDER BY id")]
    values = frame["value"].to_numpy()[low * N_OUTCOMES:high * N_OUTCOMES]
    who = np.repeat(np.array(ballot_ids), N_OUTCOMES)
    outcome = np.tile(np.array(ids), high - low)
    rows = ((int(b), int(o), None if np.isnan(v) else int(v)) for b, o, v in zip(who, outcome, values, strict=True))
    raw = conn.connection.driver_connection
    now = pd.Timestamp.now("UTC").to_pydatetime()
    if url.startswith("sqlite"):
        raw.executemany("INSERT INTO ballot_answer (ballot_id, outcome_id, value, reason, updated_at) "
                        "VALUES (?, ?, ?, '', ?)", ((b, o, v, now.isoformat(" ")) for b, o, v in rows))
    else:
        with raw.cursor() as cur, cur.copy(
                "COPY ballot_answer (ballot_id, outcome_id, value, reason, updated_at) FROM STDIN") as copy:
            for b, o, v in rows:
                copy.write_row((b, o, v, "", now))
        conn.exec_driver_sql("ANALYZE ballot_answer")


def bench_database(workdir: Path, sizes: list[int], postgres: bool) -> None:
    label = "PostgreSQL" if postgres else "SQLite"
    for n in sizes:
        for pooled in (False, True):
            name = f"db-{n}-{'pooled' if pooled else 'one'}"
            with database(SimpleNamespace(postgres=postgres), workdir / name) as url:  # type: ignore[arg-type]
                (workdir / name).mkdir(exist_ok=True)
                migrate(url)
                start = time.perf_counter()
                round_id = load_round(url, n, pooled)
                loaded = time.perf_counter() - start
                result = measure([sys.executable, "-c", _COUNT, url, str(round_id), str(REPEATS)])
                inner = json.loads(str(result["stdout_tail"]).strip().splitlines()[-1])
                runs = sorted(inner["count_seconds"])
                what = "pooled count (3 sessions)" if pooled else "count_round"
                report(f"{what} from {label}", n, result,
                       f"  (the count itself: median {runs[len(runs) // 2]:.2f} s of {len(runs)}, "
                       f"{runs[0]:.2f}-{runs[-1]:.2f}; loaded in {loaded:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000")
    parser.add_argument("--postgres", action="store_true", help="the database count on PostgreSQL too "
                        "(run under tests/with_postgres.sh)")
    parser.add_argument("--skip-files", action="store_true")
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true", help="with --postgres: the database count on "
                        "PostgreSQL only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="codesign-scale-") as tmp:
        workdir = Path(tmp)
        if not args.skip_files:
            bench_files(workdir, sizes)
        if not args.skip_db and not args.skip_sqlite:
            bench_database(workdir, sizes, postgres=False)
        if not args.skip_db and args.postgres:
            bench_database(workdir, sizes, postgres=True)


if __name__ == "__main__":
    main()
