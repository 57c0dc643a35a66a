"""A national panel's own pages and mail (issue 14 section 4): a panel of 1,000 and 20,000 people.

Run: .venv/bin/python bench/bench_panel.py [--sizes 1000,20000] [--postgres]

For each size, a fresh database gets a panel whose people come from the real panel-list CSV upload
(`panel_people.upload_panel_list`, timed), an online session whose participants are every
panellist (bulk insert, not timed) and an open rating round. Then, each in a fresh child process
(so its peak memory is its own; a process that has only imported the app and opened the database
is printed as the baseline):
- the panel page's query (`queries.panels.get_panel_view`) and the page itself over HTTP (its
  wall time, the second request's: the first also compiles the templates; and its HTML size),
- the online round's page (its counts of who would be mailed),
- queueing the invitations for everyone (`online.queue_invitations`, the "Send invitations" button),
- queueing reminders (`online.queue_reminders`, the "Send reminders now" button) once the
  invitations count as sent two days ago.
Each prints wall time and peak resident memory (VmHWM: ru_maxrss would carry over the peak of the
process that started it). Nothing is asserted.
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
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_setup import ROOT, BenchError, database, migrate

PASSWORD = "bench-password-123456"
ADMIN = "bench-admin@example.nhs.uk"
GROUP_KEYS = ("patient", "carer", "clinician", "commissioner")


def panel_csv(n: int) -> str:
    rows = ["name,email,stakeholder group,organisation"]
    rows += [f"Person {i:05d},person{i:05d}@example.org,{GROUP_KEYS[i % 4]},Org {i % 37}" for i in range(n)]
    return "\n".join(rows) + "\n"


def load(url: str, n: int) -> dict[str, object]:
    """The panel (by the real upload, timed) and its online session, participants and open round."""
    from sqlmodel import col, select

    from codesign import db
    from codesign.config import Settings
    from codesign.models import Outcome, OutcomeStatus, Panellist, Participant
    from codesign.services import accounts, panel_people, panels, population, rounds
    from codesign.services.panels import new_token

    engine = db.make_engine(Settings(database_url=url, env="development"))
    try:
        with db.write_session(engine) as s:
            admin = accounts.create_user(s, ADMIN, "admin", PASSWORD)
            group = population.create_population_group(s, admin, "Panel benchmark",
                                                       template_slug="adults-with-diabetes")
            assert group.id is not None
            panel = panels.create_panel(s, admin, group.id, "National panel")
            assert panel.id is not None
            online = panel_people.create_panel_session(s, admin, panel.id, "National online round", "", "online")
            assert online.id is not None
            outcomes = [Outcome(population_group_id=group.id, statement=f"Benchmark outcome {j:02d}",
                                status=OutcomeStatus.accepted) for j in range(10)]
            s.add_all(outcomes)
            s.commit()
            form = {"title": "Round 1", "method": "rating", "combine": "weighted", "in_min": "70",
                    "in_max_low": "15", "out_min": "70", "out_max_high": "15", "min_group_size": "5",
                    "budget": "10", "outcomes": ",".join(str(o.id) for o in outcomes)}
            made = rounds.create_round(s, admin, online.id, form)
            assert made.id is not None
            rounds.open_round(s, admin, online.id, made.id, acknowledge_small=True)
            ids = dict(panel_id=panel.id, session_id=online.id, round_id=made.id)
            text = panel_csv(n)
            start = time.perf_counter()
            added = panel_people.upload_panel_list(s, admin, panel.id, text)
            upload = time.perf_counter() - start
            assert added == n
            people = s.exec(select(Panellist.id, Panellist.stakeholder_group_id).where(
                Panellist.panel_id == panel.id).order_by(col(Panellist.number))).all()
        joined = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(Participant.__table__.insert(), [  # type: ignore[attr-defined]
                {"session_id": ids["session_id"], "number": i + 1, "stakeholder_group_id": g, "token": new_token(),
                 "panellist_id": pid, "joined_at": joined}
                for i, (pid, g) in enumerate(people)])
            if not url.startswith("sqlite"):
                conn.exec_driver_sql("ANALYZE")
        return {**ids, "upload_seconds": upload}
    finally:
        engine.dispose()


# Each step runs in its own process: it prints one JSON line with its timings and its peak memory.
_STEP = r"""
import json, sys, time
from datetime import timedelta
def peak_mb():
    # VmHWM, not ru_maxrss: a child keeps the ru_maxrss of the process it was forked from (across exec).
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
step, url, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from sqlalchemy import update
from sqlmodel import select
from codesign import db
from codesign.config import Settings
from codesign.models import OutboxMessage, User, utcnow
settings = Settings(database_url=url, env="development", secret_key="b" * 48, secure_cookies=False)
engine = db.make_engine(settings)
out = {}
if step == "baseline":
    with db.read_session(engine) as s:
        s.exec(select(User)).first()
elif step == "query":
    from codesign.queries.panels import get_panel_view
    with db.read_session(engine) as s:
        start = time.perf_counter()
        view = get_panel_view(s, ids["panel_id"])
        out["seconds"] = time.perf_counter() - start
elif step in ("page", "round_page"):
    import re
    from starlette.testclient import TestClient
    from codesign.app import create_app
    with TestClient(create_app(settings), follow_redirects=False) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
        signed = client.post("/signin", data={"email": sys.argv[4], "password": sys.argv[5], "csrf_token": token})
        assert signed.status_code == 303, signed.text[:300]
        url_path = (f"/panels/{ids['panel_id']}" if step == "page"
                    else f"/sessions/{ids['session_id']}/rounds/{ids['round_id']}/online")
        start = time.perf_counter()
        response = client.get(url_path)
        out["first_seconds"] = time.perf_counter() - start  # with the templates' compiling
        start = time.perf_counter()
        response = client.get(url_path)
        out["seconds"] = time.perf_counter() - start
        assert response.status_code == 200, (url_path, response.status_code, response.text[:300])
        out["html_kb"] = len(response.content) / 1024
else:
    from codesign.services import online
    with db.write_session(engine) as s:
        actor = s.exec(select(User)).first()
        if step == "invitations":
            start = time.perf_counter()
            out["queued"] = online.queue_invitations(s, actor, ids["session_id"], ids["round_id"],
                                                     "https://codesign.example", now=utcnow() - timedelta(days=2))
        else:
            s.exec(update(OutboxMessage).values(status="sent", sent_at=utcnow() - timedelta(days=2)))
            s.commit()
            start = time.perf_counter()
            out["queued"] = online.queue_reminders(s, actor, ids["session_id"], ids["round_id"],
                                                   "https://codesign.example")
        out["seconds"] = time.perf_counter() - start
out["peak_mb"] = peak_mb()
print(json.dumps(out))
"""


def step(name: str, url: str, ids: dict[str, object]) -> dict[str, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _STEP, name, url, json.dumps(ids), ADMIN, PASSWORD],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"{name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    return result


def peak_mb() -> float:
    """This process's peak resident memory so far (VmHWM; see _STEP)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def line(what: str, n: int, seconds: float, peak_mb: float | None, note: str = "") -> None:
    peak = f"  peak {peak_mb:6.0f} MB" if peak_mb is not None else ""
    print(f"{what:<40}{n:>8,} people  {seconds:7.2f} s{peak}{note}", flush=True)


def bench(workdir: Path, n: int, postgres: bool) -> None:
    label = "PostgreSQL" if postgres else "SQLite"
    with database(SimpleNamespace(postgres=postgres), workdir / f"{label}-{n}") as url:  # type: ignore[arg-type]
        migrate(url)
        before = peak_mb()
        ids = load(url, n)
        after = peak_mb()
        line(f"[{label}] panel-list upload (service)", n, float(str(ids.pop("upload_seconds"))), after,
             f"  (the loading process; {before:.0f} MB before)")
        base = step("baseline", url, ids)
        line(f"[{label}] baseline process", n, base["process_wall"], base["peak_mb"], "  (imports, one query)")
        query = step("query", url, ids)
        line(f"[{label}] panel page query", n, query["seconds"], query["peak_mb"])
        page = step("page", url, ids)
        line(f"[{label}] panel page over HTTP", n, page["seconds"], page["peak_mb"],
             f"  HTML {page['html_kb']:,.0f} KB (first request {page['first_seconds']:.2f} s)")
        online = step("round_page", url, ids)
        line(f"[{label}] online round page over HTTP", n, online["seconds"], online["peak_mb"],
             f"  HTML {online['html_kb']:,.0f} KB (first request {online['first_seconds']:.2f} s)")
        invited = step("invitations", url, ids)
        line(f"[{label}] queue invitations", n, invited["seconds"], invited["peak_mb"],
             f"  ({invited['queued']:,.0f} queued)")
        reminded = step("reminders", url, ids)
        line(f"[{label}] queue reminders", n, reminded["seconds"], reminded["peak_mb"],
             f"  ({reminded['queued']:,.0f} queued)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite "
                        "(run under tests/with_postgres.sh)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="codesign-panel-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            bench(Path(tmp), n, args.postgres)


if __name__ == "__main__":
    main()
