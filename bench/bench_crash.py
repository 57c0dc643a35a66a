"""kill -9 under load: no acknowledged answer is ever lost, none is ever counted twice.

Run: .venv/bin/python bench/bench_crash.py [--participants 200] [--outcomes 20] [--clients 16]
                                           [--sqlite-only | --postgres-only]

For each database (SQLite with one worker, then PostgreSQL 15 with two workers on a throwaway
cluster made by tests/with_postgres.sh), it starts `codesign serve` over a fresh database with an
open 20-question rating round and 200 participants, and has 16 client threads send every
participant's answer to every question (200 x 20 = 4,000 answers), each with its own device key,
as the page's retrying script does. When about a third of the answers have been acknowledged, it
kills the whole server (SIGKILL to uvicorn and its workers, mid-transaction), starts it again, and
the clients carry on: an answer that got no acknowledgement (connection refused or reset, a
timeout, a 5xx) is sent again with the SAME key until it is acknowledged.

Afterwards, with the server stopped, it reads the database and prints, per run:
sent (distinct keys), acknowledged (keys answered 303), stored (keys in ballot_submission),
lost (acknowledged but not stored), doubled (a key stored twice, or a participant with two
answers to one question, or answers not matching a stored key), retries and the kill's downtime.
Exit status 1 if anything was lost or doubled, 2 if the benchmark could not run.

Participants are made in the database and their signed session cookies made here with the
server's secret (joining over HTTP is bench_load.py's job), so the run measures votes only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from itsdangerous import TimestampSigner
from load_setup import (
    COOKIE,
    GROUPS,
    LOOPBACK,
    ROOT,
    BenchError,
    codesign_command,
    create_fixture,
    database,
    database_notes,
    free_port,
    migrate,
    server_env,
)
from sqlalchemy import create_engine, text

SECRET = "bench-crash-" + base64.urlsafe_b64encode(os.urandom(36)).decode()
KILL_AT = 1 / 3


@dataclass
class Voter:
    id: int
    cookie: str
    csrf: str


@dataclass
class Tally:
    acknowledged: set[str] = field(default_factory=set)
    retries: int = 0
    other: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_voters(database_url: str, session_id: int, count: int) -> list[Voter]:
    """Participants in the database, each with the signed cookie their tablet would hold."""
    from codesign import db
    from codesign.config import Settings
    from codesign.services import sessions

    engine = db.make_engine(Settings(database_url=database_url, env="development"))
    signer = TimestampSigner(SECRET)
    voters = []
    try:
        with db.write_session(engine) as s:
            for i in range(count):
                person = sessions.join_session(s, session_id, GROUPS[i % len(GROUPS)])
                csrf = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
                payload = {"participants": {str(session_id): person.token}, "csrf": csrf}
                cookie = signer.sign(base64.b64encode(json.dumps(payload).encode())).decode()
                assert person.id is not None
                voters.append(Voter(person.id, cookie, csrf))
    finally:
        engine.dispose()
    return voters


class Server:
    def __init__(self, database_url: str, port: int, workers: int, log: Path) -> None:
        env = {**server_env(database_url, port, workers), "CODESIGN_SECRET_KEY": SECRET}
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [*codesign_command(), "serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.port = port

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"codesign serve exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise BenchError("codesign serve did not start")

    def kill(self) -> None:
        """SIGKILL to the whole process group: the master and every worker, mid-request."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def send(conn: http.client.HTTPConnection | None, port: int, path: str, voter: Voter,
         body: str) -> tuple[http.client.HTTPConnection | None, int | None]:
    """One POST on a kept-alive connection; (connection to reuse, status or None on a network error)."""
    try:
        conn = conn or http.client.HTTPConnection(LOOPBACK, port, timeout=10)
        conn.request("POST", path, body=body, headers={
            "Cookie": f"{COOKIE}={voter.cookie}", "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return conn, response.status
    except (OSError, http.client.HTTPException):
        if conn is not None:
            conn.close()
        return None, None


def client(port: int, jobs: list[tuple[Voter, int, str, str]], path: str, tally: Tally, deadline: float) -> None:
    conn: http.client.HTTPConnection | None = None
    for voter, n, value, key in jobs:
        body = urlencode({"csrf_token": voter.csrf, "key": key, "value": value})
        while True:
            conn, status = send(conn, port, path.format(n=n), voter, body)
            if status == 303:
                with tally.lock:
                    tally.acknowledged.add(key)
                break
            if status is not None and status < 500:
                with tally.lock:
                    tally.other[status] += 1
                break
            if time.monotonic() > deadline:
                return
            with tally.lock:
                tally.retries += 1
            time.sleep(0.05)  # the server is down or restarting: try again with the same key


@dataclass(frozen=True)
class Report:
    label: str
    sent: int
    acknowledged: int
    stored: int
    lost: int
    doubled: int
    retries: int
    other: dict[int, int]
    downtime: float
    seconds: float
    notes: str


def check(database_url: str, round_id: int, sent: set[str], tally: Tally) -> tuple[int, int, int]:
    """(stored, lost, doubled), read from the database with the server stopped."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            keys = Counter(k for (k,) in conn.execute(text(
                "SELECT client_key FROM ballot_submission WHERE round_id = :r"), {"r": round_id}))
            per_question = conn.execute(text(
                "SELECT count(*) FROM (SELECT b.participant_id, a.outcome_id FROM ballot_answer a "
                "JOIN ballot b ON b.id = a.ballot_id WHERE b.round_id = :r "
                "GROUP BY b.participant_id, a.outcome_id HAVING count(*) > 1) t"), {"r": round_id}).scalar_one()
            answers = conn.execute(text(
                "SELECT count(*) FROM ballot_answer a JOIN ballot b ON b.id = a.ballot_id WHERE b.round_id = :r"),
                {"r": round_id}).scalar_one()
    finally:
        engine.dispose()
    stored = set(keys)
    lost = len(tally.acknowledged - stored)
    # Each key answers one question of one participant, so stored answers must equal stored keys.
    doubled = sum(c - 1 for c in keys.values()) + int(per_question) + len(stored - sent) + max(
        0, int(answers) - len(stored))
    return len(stored), lost, doubled


def run_once(label: str, postgres: bool, workers: int, participants: int, outcomes: int, clients: int,
             workdir: Path) -> Report:
    with database(argparse.Namespace(postgres=postgres), workdir) as database_url:  # type: ignore[arg-type]
        migrate(database_url)
        fixture = create_fixture(database_url, outcomes)
        voters = make_voters(database_url, fixture.session_id, participants)
        engine = create_engine(database_url)
        notes = database_notes(engine)
        engine.dispose()
        jobs = [(v, n, str(1 + (v.id + n) % 9), f"crash{v.id:05d}q{n:03d}") for v in voters
                for n in range(1, outcomes + 1)]
        sent = {key for *_, key in jobs}
        port = free_port()
        log = workdir / f"{label}.log"
        server = Server(database_url, port, workers, log)
        server.wait_ready()
        tally = Tally()
        path = f"/s/{fixture.join_code}/rounds/{fixture.round_id}/q/{{n}}"
        deadline = time.monotonic() + 600
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(port, jobs[i::clients], path, tally, deadline))
                   for i in range(clients)]
        for t in threads:
            t.start()
        while len(tally.acknowledged) < KILL_AT * len(jobs) and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        killed_at = time.monotonic()
        server.kill()
        server = Server(database_url, port, workers, log)
        server.wait_ready()
        downtime = time.monotonic() - killed_at
        for t in threads:
            t.join()
        seconds = time.monotonic() - started
        server.stop()
        stored, lost, doubled = check(database_url, fixture.round_id, sent, tally)
        return Report(label, len(sent), len(tally.acknowledged), stored, lost, doubled, tally.retries,
                      dict(tally.other), downtime, seconds, notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--outcomes", type=int, default=20)
    parser.add_argument("--clients", type=int, default=16)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args(argv)
    in_cluster = bool(os.environ.get("CODESIGN_TEST_DATABASE_URL"))
    runs: list[tuple[str, bool, int]] = []
    if not args.postgres_only and not in_cluster:
        runs.append(("SQLite, 1 worker", False, 1))
    if not args.sqlite_only:
        if not in_cluster:
            # PostgreSQL runs in a throwaway cluster: run this script again inside one.
            script = ROOT / "tests" / "with_postgres.sh"
            status = 0
            if runs:
                status = report_runs(runs, args)
            again = subprocess.run([str(script), sys.executable, str(Path(__file__).resolve()), "--postgres-only",
                                    "--participants", str(args.participants), "--outcomes", str(args.outcomes),
                                    "--clients", str(args.clients)], cwd=ROOT, check=False)
            return max(status, again.returncode)
        runs.append(("PostgreSQL 15, 2 workers", True, 2))
    return report_runs(runs, args)


def report_runs(runs: list[tuple[str, bool, int]], args: argparse.Namespace) -> int:
    failed = False
    for label, postgres, workers in runs:
        workdir = Path(tempfile.mkdtemp(prefix="codesign-crash-"))
        try:
            report = run_once(label, postgres, workers, args.participants, args.outcomes, args.clients, workdir)
        except BenchError as exc:
            print(f"bench_crash: {exc}", file=sys.stderr)
            return 2
        print(f"\n{report.label} ({report.notes})")
        print(f"  {args.participants} participants x {args.outcomes} questions, {args.clients} clients; "
              f"killed with SIGKILL after {KILL_AT:.0%} acknowledged, back in {report.downtime:.1f} s; "
              f"{report.seconds:.1f} s in all")
        print(f"  sent {report.sent:,} | acknowledged {report.acknowledged:,} | stored {report.stored:,} | "
              f"lost {report.lost} | doubled {report.doubled} | retries {report.retries:,}"
              + (f" | other answers {report.other}" if report.other else ""))
        failed = failed or bool(report.lost or report.doubled or report.other or report.acknowledged < report.sent)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
