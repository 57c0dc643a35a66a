"""A session's people page and console after a big ballot import (a user trial: 5,000 voters'
paper ballots imported into a session's round made the people page 1.9 MB, every voter listed).

Run: .venv/bin/python bench/bench_people.py [--sizes 5000,20000] [--postgres] [--code DIR]

For each size, a fresh database gets a room session with 30 people who joined (each with an answer
in the round) and an open rating round of 10 outcomes into which the real import
(`round_import.import_ballots`, timed) brings that many voters' ballots (10 answers each). Then,
each in a fresh child process (its peak memory its own, VmHWM):
- the people page's query (`queries.get_people`, page 1),
- the people page over HTTP: page 1, the last page, and a search for one imported voter by the
  reference the file gave (wall time of the second request of each: the first also compiles the
  templates; and the HTML size),
- a person's page (an imported voter's; a room participant's, with its merge list),
- the console over HTTP (its size, and what it says about who joined), and the round's console
  (its progress reads every participant and ballot of the round).
`--code DIR` runs those steps with the app's code from DIR (e.g. an export of an older commit, to
measure "before"); the data is loaded by this checkout's code. Nothing is asserted.
PostgreSQL: `--postgres` under tests/with_postgres.sh.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_setup import ROOT, BenchError, database, migrate

PASSWORD = "bench-password-123456"
ADMIN = "bench-admin@example.nhs.uk"
GROUP_KEYS = ("patient", "carer", "clinician", "commissioner")
ROOM = 30
OUTCOMES = 10


def ballot_csv(n: int, outcome_ids: list[int]) -> str:
    rows = ["participant,group,outcome,value"]
    rows += [f"PAPER-{i:06d},{GROUP_KEYS[i % 4]},{o},{1 + (i + j) % 9}"
             for i in range(n) for j, o in enumerate(outcome_ids)]
    return "\n".join(rows) + "\n"


def load(url: str, n: int) -> dict[str, object]:
    """The session, its room, its open round and (timed) the import of n voters' ballots."""
    import uuid

    from sqlmodel import select

    from codesign import db
    from codesign.config import Settings
    from codesign.models import Outcome, OutcomeStatus, Participant
    from codesign.services import accounts, ballots, population, round_import, rounds, sessions

    engine = db.make_engine(Settings(database_url=url, env="development"))
    try:
        with db.write_session(engine) as s:
            admin = accounts.create_user(s, ADMIN, "admin", PASSWORD)
            group = population.create_population_group(s, admin, "People benchmark",
                                                       template_slug="adults-with-diabetes")
            assert group.id is not None
            made = sessions.create_session(s, admin, group.id, "Big survey workshop", "")
            assert made.id is not None
            outcomes = [Outcome(population_group_id=group.id, statement=f"Benchmark outcome {j:02d}",
                                status=OutcomeStatus.accepted) for j in range(OUTCOMES)]
            s.add_all(outcomes)
            s.commit()
            ids = [o.id or 0 for o in outcomes]
            form = {"title": "Round 1", "method": "rating", "combine": "weighted", "in_min": "70",
                    "in_max_low": "15", "out_min": "70", "out_max_high": "15", "min_group_size": "5",
                    "budget": "10", "outcomes": ",".join(map(str, ids))}
            found = rounds.create_round(s, admin, made.id, form)
            assert found.id is not None
            rounds.open_round(s, admin, made.id, found.id, acknowledge_small=True)
            room = [sessions.join_session(s, made.id, GROUP_KEYS[i % 4], f"Person {i}", str(1 + i % 6))
                    for i in range(ROOM)]
            for person in room:
                ballots.answer_rating(s, found.id, person.id or 0, ids[0], "7", uuid.uuid4().hex)
            text = ballot_csv(n, ids)
            start = time.perf_counter()
            imported = round_import.import_ballots(s, admin, made.id, found.id, text, "paper.csv")
            seconds = time.perf_counter() - start
            assert imported.voters == n
            voter = s.exec(select(Participant.id).where(Participant.external_ref == f"PAPER-{n // 2:06d}")).one()
        if not url.startswith("sqlite"):
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        return {"session_id": made.id, "round_id": found.id, "voter_id": voter, "room_id": room[0].id,
                "ref": f"PAPER-{n // 2:06d}", "import_seconds": seconds}
    finally:
        engine.dispose()


# Each step runs in its own process: it prints one JSON line with its timings and its peak memory.
_STEP = r"""
import json, re, sys, time
def peak_mb():
    # VmHWM, not ru_maxrss: a child keeps the ru_maxrss of the process it was forked from (across exec).
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
step, url, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from codesign import db, queries
from codesign.config import Settings
settings = Settings(database_url=url, env="development", secret_key="b" * 48, secure_cookies=False)
engine = db.make_engine(settings)
out = {}
sid = ids["session_id"]
if step == "query":
    with db.read_session(engine) as s:
        start = time.perf_counter()
        queries.get_people(s, sid)
        out["seconds"] = time.perf_counter() - start
else:
    from starlette.testclient import TestClient
    from codesign.app import create_app
    with TestClient(create_app(settings), follow_redirects=False) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
        signed = client.post("/signin", data={"email": sys.argv[4], "password": sys.argv[5], "csrf_token": token})
        assert signed.status_code == 303, signed.text[:300]
        path = {"page": f"/sessions/{sid}/people", "last": f"/sessions/{sid}/people?page=1000000",
                "search": f"/sessions/{sid}/people?q={ids['ref']}",
                "voter": f"/sessions/{sid}/people/{ids['voter_id']}",
                "person": f"/sessions/{sid}/people/{ids['room_id']}", "console": f"/sessions/{sid}",
                "round": f"/sessions/{sid}/rounds/{ids['round_id']}"}[step]
        start = time.perf_counter()
        response = client.get(path)
        out["first_seconds"] = time.perf_counter() - start  # with the templates' compiling
        start = time.perf_counter()
        response = client.get(path)
        out["seconds"] = time.perf_counter() - start
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        out["html_kb"] = len(response.content) / 1024
        out["ref_found"] = ids["ref"] in response.text
        said = re.search(r"<strong>([0-9,]+ (?:person|people))</strong> joined", response.text)
        out["joined"] = said.group(1) if said else ""
out["peak_mb"] = peak_mb()
print(json.dumps(out))
"""


def step(name: str, url: str, ids: dict[str, object], code: Path) -> dict[str, object]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _STEP, name, url, json.dumps(ids), ADMIN, PASSWORD],
                          capture_output=True, text=True, cwd=code, check=False)  # `-c`: cwd's codesign first
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"{name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    return result


def line(what: str, n: int, result: dict[str, object], note: str = "") -> None:
    html = f"  HTML {float(str(result['html_kb'])):,.0f} KB" if "html_kb" in result else ""
    print(f"{what:<42}{n:>8,} imported  {float(str(result['seconds'])):6.3f} s  "
          f"peak {float(str(result['peak_mb'])):5.0f} MB{html}{note}", flush=True)


def bench(workdir: Path, n: int, postgres: bool, code: Path) -> None:
    label = "PostgreSQL" if postgres else "SQLite"
    with database(SimpleNamespace(postgres=postgres), workdir / f"{label}-{n}") as url:  # type: ignore[arg-type]
        migrate(url)
        ids = load(url, n)
        print(f"[{label}] import of {n:,} voters x {OUTCOMES} answers (service): "
              f"{float(str(ids.pop('import_seconds'))):.2f} s", flush=True)
        line(f"[{label}] people page query", n, step("query", url, ids, code))
        for name, what in (("page", "people page 1 over HTTP"), ("last", "people page, last page"),
                           ("search", "people page, search by reference")):
            result = step(name, url, ids, code)
            line(f"[{label}] {what}", n, result, "" if name != "search" else
                 f"  (the voter {'found' if result['ref_found'] else 'NOT found'})")
        line(f"[{label}] an imported voter's page", n, step("voter", url, ids, code))
        line(f"[{label}] a room participant's page", n, step("person", url, ids, code))
        console = step("console", url, ids, code)
        line(f"[{label}] console over HTTP", n, console, f"  says “{console['joined']} joined” ({ROOM} did)")
        line(f"[{label}] the round's console over HTTP", n, step("round", url, ids, code))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite "
                        "(run under tests/with_postgres.sh)")
    parser.add_argument("--code", type=Path, default=ROOT, help="run the measured steps with the app from DIR")
    args = parser.parse_args()
    code = args.code.resolve()
    if not (code / "codesign" / "app.py").exists():
        raise SystemExit(f"no codesign/app.py under {code}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; code from {code}")
    with tempfile.TemporaryDirectory(prefix="codesign-people-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            bench(Path(tmp), n, args.postgres, code)


if __name__ == "__main__":
    main()
