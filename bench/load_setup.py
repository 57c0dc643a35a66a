"""bench_load's set-up: options, the database and its fixture, and the server (also used by
bench_crash.py and bench_room.py). Participants over HTTP are in load_http.py."""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine, create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "adults-with-diabetes"
GROUPS = ("patient", "carer", "clinician", "commissioner")
COOKIE = "codesign_session"
LOOPBACK = "127.0.0.1"
TARGET_RATIO = 0.4
PREFIXES = {"warm-up": "warm", "vote": "vote"}  # client keys: PREFIX + 2-digit wrk thread + "x" + counter
KEY = re.compile(r"^(?P<prefix>[a-z]+)(?P<tid>\d{2})x(?P<n>\d{8})$")
SMOKE_KEY = "smoke00x00000000"  # the one answer sent by hand before wrk


class BenchError(RuntimeError):
    """The benchmark could not run (not a failed check)."""


# ---------------------------------------------------------------------------------------------
# Options and environment


@dataclass(frozen=True)
class Options:
    workers: int
    duration: int
    connections: int
    participants: int
    threads: int
    timeout: int
    warmup: int
    outcomes: int
    csrf_header: bool
    postgres: bool
    keep: bool

    @property
    def grace(self) -> int:
        """Seconds wrk keeps running after the send window, so answers in flight are read."""
        return self.timeout + 1


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="codesign serve --workers (default 1)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--participants", type=int, default=200, help="participants joined (default 200)")
    parser.add_argument("--threads", type=int, default=1,
                        help="wrk threads (default 1: wrk takes one core, the server the other)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="wrk request timeout in seconds (default 10, the app's SQLite busy timeout)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per endpoint, not counted")
    parser.add_argument("--outcomes", type=int, default=20, help="outcomes in the rating round (default 20)")
    parser.add_argument("--csrf-header", action="store_true",
                        help="send the CSRF token as X-CSRF-Token (the retry script's way) instead of "
                        "the csrf_token form field (a plain form post's way)")
    parser.add_argument("--postgres", action="store_true",
                        help="run against a throwaway PostgreSQL 15 cluster (tests/with_postgres.sh)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, script)")
    a = parser.parse_args(argv)
    limits = [("--workers", a.workers, 1, 8), ("--duration", a.duration, 1, 300),
              ("--connections", a.connections, 1, 1000), ("--participants", a.participants, 1, 5000),
              ("--threads", a.threads, 1, 16), ("--timeout", a.timeout, 1, 60), ("--warmup", a.warmup, 0, 60),
              ("--outcomes", a.outcomes, 2, 23)]
    for name, value, low, high in limits:
        if not low <= value <= high:
            parser.error(f"{name} must be between {low} and {high}")
    if a.connections < a.threads:
        parser.error("--connections must be at least --threads")
    return Options(a.workers, a.duration, a.connections, a.participants, a.threads, a.timeout, a.warmup,
                   a.outcomes, a.csrf_header, a.postgres, a.keep)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def codesign_command() -> list[str]:
    script = Path(sys.executable).parent / "codesign"
    return [str(script)] if script.exists() else [sys.executable, "-m", "codesign.cli"]


def server_env(database_url: str, port: int, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
    env.update({
        "CODESIGN_ENV": "development",
        "CODESIGN_DATABASE_URL": database_url,
        "CODESIGN_HOST": LOOPBACK,
        "CODESIGN_PORT": str(port),
        "CODESIGN_WORKERS": str(workers),
        "CODESIGN_SECURE_COOKIES": "false",
        # No access log: one line per request to a pipe would be part of what we measure.
        "CODESIGN_LOG_LEVEL": "warning",
    })
    return env


# ---------------------------------------------------------------------------------------------
# Database: create, migrate, fixtures


@contextmanager
def database(opts: Options, workdir: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in `workdir`, or a new database on the PostgreSQL cluster."""
    if not opts.postgres:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    admin_url = os.environ.get("CODESIGN_TEST_DATABASE_URL", "")
    if not admin_url:
        raise BenchError("--postgres needs CODESIGN_TEST_DATABASE_URL (run under tests/with_postgres.sh)")
    url = make_url(admin_url)
    if url.host not in (LOOPBACK, "localhost"):
        raise BenchError(f"refusing a PostgreSQL server that is not on loopback: {url.host}")
    name = f"codesign_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(database_url: str) -> None:
    env = server_env(database_url, 8000, 1)
    done = subprocess.run([*codesign_command(), "migrate"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=180, check=False)
    if done.returncode != 0:
        raise BenchError(f"codesign migrate failed:\n{done.stdout}{done.stderr}")


@dataclass(frozen=True)
class Fixture:
    session_id: int
    join_code: str
    round_id: int
    outcome_ids: list[int]  # in round order: question n is outcome_ids[n - 1]


def create_fixture(database_url: str, outcomes: int) -> Fixture:
    """An admin, a population group from the template, a session and an open rating round."""
    from sqlmodel import select

    from codesign import db
    from codesign.config import Settings
    from codesign.models import Outcome, OutcomeStatus
    from codesign.services import accounts, population, rounds, sessions

    engine = db.make_engine(Settings(database_url=database_url, env="development"))
    try:
        with db.write_session(engine) as s:
            admin = accounts.create_user(s, "bench-admin@example.nhs.uk", "admin", "bench-password-123456",
                                         name="Bench admin")
            group = population.create_population_group(s, admin, "Adults with diabetes (load benchmark)",
                                                       template_slug=TEMPLATE)
            assert group.id is not None
            workshop = sessions.create_session(s, admin, group.id, "Load benchmark")
            assert workshop.id is not None
            accepted = [o.id for o in s.exec(select(Outcome).where(
                Outcome.population_group_id == group.id, Outcome.status == OutcomeStatus.accepted)
                .order_by(Outcome.id)) if o.id is not None][:outcomes]  # type: ignore[arg-type]
            if len(accepted) < outcomes:
                raise BenchError(f"the template has only {len(accepted)} accepted outcomes")
            form = {"title": "Rating under load", "method": "rating", "combine": "weighted", "in_min": "70",
                    "in_max_low": "15", "out_min": "70", "out_max_high": "15", "min_group_size": "5",
                    "budget": "10", "outcomes": ",".join(str(i) for i in accepted)}
            created = rounds.create_round(s, admin, workshop.id, form)
            assert created.id is not None
            rounds.open_round(s, admin, workshop.id, created.id, acknowledge_small=True)
            ordered = [int(i) for i in rounds.round_outcome_ids(s, created.id)]
            return Fixture(workshop.id, workshop.join_code, created.id, ordered)
    finally:
        engine.dispose()


def postgres_pid(engine: Engine) -> int | None:
    """The postmaster of a PostgreSQL cluster on this machine (to count its CPU), if readable."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        data = str(conn.exec_driver_sql("SHOW data_directory").scalar())
    try:
        return int((Path(data) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def postgres_sessions(engine: Engine) -> int | None:
    """Connections ever opened to the bench database (PostgreSQL's cumulative statistics)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        value = conn.exec_driver_sql(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()").scalar()
    return int(value) if value is not None else None


def database_notes(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            return f"SQLite {conn.exec_driver_sql('select sqlite_version()').scalar()}, journal_mode={mode}, " \
                "synchronous=NORMAL (the app's setting)"
        version = conn.exec_driver_sql("SHOW server_version").scalar()
        fsync = conn.exec_driver_sql("SHOW fsync").scalar()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        return f"PostgreSQL {version} (throwaway cluster: fsync={fsync}, synchronous_commit={sync})"


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """`codesign serve` as a child process in its own process group, with its log in a file."""

    def __init__(self, database_url: str, port: int, workers: int, log: Path) -> None:
        self.port, self.log = port, log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            [*codesign_command(), "serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(workers)],
            env=server_env(database_url, port, workers), cwd=ROOT, stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, workers: int, timeout: float = 60.0) -> None:
        """Until /healthz answers; with several workers, a little longer so every worker is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"codesign serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = http_request(self.port, "GET", "/healthz")
                if status == 200:
                    if workers > 1:
                        time.sleep(1.0 + 0.5 * workers)
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise BenchError(f"codesign serve did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log_file.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (uvicorn finishes requests in progress), then SIGKILL to the group after 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log_file.close()

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and all its descendants (the uvicorn workers)."""
        return process_tree_cpu(self.proc.pid)


def process_tree_cpu(root: int) -> float:
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
        # utime + stime, and cutime + cstime: children that have exited (PostgreSQL backends whose
        # connection closed) were reaped by their parent, which now carries their CPU.
        times[int(entry.name)] = sum(int(v) for v in fields[11:15]) / tick
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(pid, 0.0) for pid in tree)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def http_request(port: int, method: str, path: str, *, cookie: str = "", form: Mapping[str, str] | None = None,
                 timeout: float = 10.0) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text_body = response.read().decode("utf-8", errors="replace")
        found = {k.lower(): v for k, v in response.getheaders()}
        for value in response.headers.get_all("set-cookie") or []:
            name, _, rest = value.partition("=")
            if name.strip() == COOKIE:
                found["codesign-cookie"] = rest.split(";", 1)[0]
        return response.status, found, text_body
    finally:
        conn.close()
