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

import argparse
import base64
import binascii
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
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


# ---------------------------------------------------------------------------------------------
# Participants, over HTTP


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


@dataclass(frozen=True)
class Participant:
    cookie: str
    csrf: str
    token: str  # the participant token inside the signed cookie


def cookie_session(cookie: str) -> dict[str, object]:
    """The JSON inside Starlette's signed session cookie (base64 payload, then timestamp and signature)."""
    payload = cookie.split(".", 1)[0]
    try:
        data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise BenchError(f"could not read the session cookie: {exc}") from exc
    if not isinstance(data, dict):
        raise BenchError("the session cookie does not hold an object")
    return data


def join_participants(port: int, fixture: Fixture, count: int, deadline: float) -> list[Participant]:
    path = f"/j/{fixture.join_code}"
    people: list[Participant] = []
    for i in range(count):
        if time.monotonic() > deadline:
            raise BenchError(f"joining took too long: {i} of {count} participants joined")
        status, headers, page = http_request(port, "GET", path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        cookie = headers.get("codesign-cookie", "")
        if status != 200 or match is None or not cookie:
            raise BenchError(f"GET {path} gave {status} without a CSRF token and cookie")
        csrf = match.group(1)
        # The code form (what the QR link's page sends), then the group: only a POST checks a code.
        status, headers, _ = http_request(port, "POST", path, cookie=cookie,
                                          form={"csrf_token": csrf, "code": fixture.join_code})
        cookie = headers.get("codesign-cookie", "")
        if status != 303 or not cookie or not headers.get("location", "").endswith(f"{path}/group"):
            raise BenchError(f"POST {path} (the code) gave {status}, expected 303 to {path}/group with a cookie")
        status, headers, _ = http_request(port, "POST", f"{path}/group", cookie=cookie,
                                          form={"csrf_token": csrf, "group": GROUPS[i % len(GROUPS)]})
        cookie = headers.get("codesign-cookie", "")
        if status != 303 or not cookie:
            raise BenchError(f"POST {path}/group (join) gave {status}, expected 303 with a new cookie")
        entries = cookie_session(cookie).get("participants")
        token = entries.get(str(fixture.session_id)) if isinstance(entries, dict) else None
        if cookie_session(cookie).get("csrf") != csrf or not isinstance(token, str):
            raise BenchError("the cookie after joining does not hold the CSRF token and the participant")
        people.append(Participant(cookie, csrf, token))
    return people


def vote_path(fixture: Fixture, n: int) -> str:
    return f"/s/{fixture.join_code}/rounds/{fixture.round_id}/q/{n}"


def smoke_vote(port: int, fixture: Fixture, person: Participant) -> None:
    """One answer by hand, so a broken setup fails here with a clear message rather than under wrk."""
    status, headers, _ = http_request(port, "POST", vote_path(fixture, 1), cookie=person.cookie,
                                      form={"csrf_token": person.csrf, "value": "5", "key": SMOKE_KEY})
    location = headers.get("location", "")
    if status != 303 or f"/rounds/{fixture.round_id}/" not in location:
        raise BenchError(f"a hand-made vote gave {status} (location {location!r}); expected a 303 to the "
                         "next question")


# ---------------------------------------------------------------------------------------------
# wrk: the Lua script and its output

LUA = r"""-- Generated by bench/bench_load.py for one wrk phase; see that file.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } codesign_bench_timespec;
int clock_gettime(int clk_id, codesign_bench_timespec *tp);
]]
local ts = ffi.new("codesign_bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC, shared by every thread
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local MODE = "@MODE@"           -- "vote" or "trivial"
local WINDOW = @WINDOW@         -- seconds during which new requests are sent
local PREFIX = "@PREFIX@"       -- client key prefix of this phase
local NTHREADS = @NTHREADS@
local PATH = "@PATH@"           -- vote path without the question number
local NQ = @NQ@
local CSRF_HEADER = @CSRF_HEADER@
local DRAINED = "@DRAINED@"      -- file name prefix, one file per thread
local PEOPLE = {
@PEOPLE@
}
local NP = #PEOPLE
local TRIVIAL = wrk.format("GET", "/healthz")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  sent, ok, other, t0, tlast, scheduled, drained = 0, 0, 0, 0, 0, 0, false
  bad = {}
end

-- After the window, once every request this thread sent has its answer, write DRAINED .. tid
-- (the bench then stops wrk).
local function check_drained(t)
  if not drained and t - t0 >= WINDOW and scheduled == 0 and sent == ok + other then
    drained = true
    local flag = io.open(DRAINED .. tid, "w")
    if flag then
      flag:write("drained\n")
      flag:close()
    end
  end
end

-- Called before every request: send for WINDOW seconds, then nothing more (wrk reads the answers
-- in flight).
function delay()
  local t = now()
  if t0 == 0 then t0 = t end
  if t - t0 >= WINDOW then
    check_drained(t)
    return 3600000
  end
  scheduled = scheduled + 1
  return 0
end

function request()
  if t0 == 0 then return TRIVIAL end  -- wrk's check of the script before the run: not sent
  scheduled = scheduled - 1
  local n = sent
  sent = sent + 1
  if MODE ~= "vote" then return TRIVIAL end
  -- Request number g over all threads: participant g mod NP, then each participant's questions in turn.
  local g = n * NTHREADS + (tid - 1)
  local person = PEOPLE[(g % NP) + 1]
  local q = math.floor(g / NP) % NQ + 1
  local body = string.format("value=%d&key=%s%02dx%08d", (g * 7) % 9 + 1, PREFIX, tid, n)
  local headers = {["Cookie"] = "@COOKIE@=" .. person[1], ["Content-Type"] = "application/x-www-form-urlencoded"}
  if CSRF_HEADER then
    headers["X-CSRF-Token"] = person[2]
  else
    body = "csrf_token=" .. person[2] .. "&" .. body
  end
  return wrk.format("POST", PATH .. q, headers, body)
end

function response(status, headers, body)
  tlast = now()
  local good = false
  if MODE == "vote" then
    local location = headers["location"] or headers["Location"] or ""
    good = status == 303 and string.find(location, "/rounds/", 1, true) ~= nil
  else
    good = status == 200
  end
  if good then
    ok = ok + 1
  else
    other = other + 1
    local k = tostring(status)
    bad[k] = (bad[k] or 0) + 1
  end
  check_drained(tlast)
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("CODESIGN-THREAD tid=%d sent=%d ok=%d other=%d t0=%.6f tlast=%.6f\n",
      thread:get("tid"), thread:get("sent"), thread:get("ok"), thread:get("other"),
      thread:get("t0"), thread:get("tlast")))
    for status, count in pairs(thread:get("bad")) do
      io.write(string.format("CODESIGN-STATUS tid=%d status=%s count=%d\n", thread:get("tid"), status, count))
    end
  end
  local e = summary.errors
  io.write(string.format("CODESIGN-SUMMARY requests=%d connect=%d read=%d write=%d timeout=%d status=%d "
    .. "p50_us=%d p99_us=%d max_us=%d\n", summary.requests, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_lua(path: Path, mode: str, window: int, prefix: str, threads: int, fixture: Fixture,
              people: list[Participant], csrf_header: bool, drained: Path) -> None:
    rows = ",\n".join(f"  {{{lua_string(p.cookie)}, {lua_string(p.csrf)}}}" for p in people)
    replacements = {
        "@MODE@": mode, "@WINDOW@": str(window), "@PREFIX@": prefix, "@NTHREADS@": str(threads),
        "@PATH@": vote_path(fixture, 0)[:-1], "@NQ@": str(len(fixture.outcome_ids)),
        "@CSRF_HEADER@": "true" if csrf_header else "false", "@PEOPLE@": rows, "@COOKIE@": COOKIE,
        "@DRAINED@": str(drained).replace("\\", "/"),
    }
    script = LUA
    for marker, value in replacements.items():
        script = script.replace(marker, value)
    path.write_text(script)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_time_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise BenchError(f"cannot read the wrk time {value!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


@dataclass
class Phase:
    """One wrk run: what was sent and answered, and wrk's own figures."""

    name: str
    mode: str
    prefix: str
    window: float = 0.0
    sent: dict[int, int] = field(default_factory=dict)  # per wrk thread id
    ok: int = 0
    other: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    wrk_requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    wrk_rps: float = 0.0
    wrk_cpu: float = 0.0
    server_cpu: float = 0.0
    db_cpu: float = 0.0  # the PostgreSQL cluster's processes (0 on SQLite: it runs inside the server)
    machine_cpu: float = 0.0
    cpu_wall: float = 0.0  # seconds over which the CPU figures were taken (the whole wrk run)
    db_sessions: int | None = None  # PostgreSQL connections opened during the run (pg_stat_database)
    output: str = ""

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def unanswered(self) -> int:
        return self.total_sent - self.ok - self.other

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")

    @property
    def rps(self) -> float:
        return self.ok / self.window if self.window > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server (and PostgreSQL) CPU per answered request: barely moved by other load on the machine."""
        answered = self.ok + self.other
        return (self.server_cpu + self.db_cpu) * 1000 / answered if answered else 0.0

    @property
    def others_cores(self) -> float:
        rest = self.machine_cpu - self.server_cpu - self.db_cpu - self.wrk_cpu
        return max(0.0, rest) / self.cpu_wall if self.cpu_wall else 0.0


def parse_wrk(phase: Phase, output: str) -> None:
    phase.output = output
    t0s: list[float] = []
    tlasts: list[float] = []
    for line in output.splitlines():
        words = line.split()
        if not words:
            continue
        values = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        if words[0] == "CODESIGN-THREAD":
            phase.sent[int(values["tid"])] = int(values["sent"])
            phase.ok += int(values["ok"])
            phase.other += int(values["other"])
            if float(values["t0"]) > 0:
                t0s.append(float(values["t0"]))
                tlasts.append(float(values["tlast"]))
        elif words[0] == "CODESIGN-STATUS":
            phase.statuses[values["status"]] += int(values["count"])
        elif words[0] == "CODESIGN-SUMMARY":
            phase.wrk_requests = int(values["requests"])
            phase.errors = {k: int(values[k]) for k in ("connect", "read", "write", "timeout", "status")}
            phase.max_ms = int(values["max_us"]) / 1000
        elif words[0] == "Requests/sec:":
            phase.wrk_rps = float(words[1])
        elif words[0] in ("50%", "99%") and len(words) == 2:
            setattr(phase, "p50_ms" if words[0] == "50%" else "p99_ms", parse_time_ms(words[1]))
    if not phase.sent or not phase.errors:
        raise BenchError(f"could not read wrk's output:\n{output}")
    if "Latency Distribution" not in output:
        raise BenchError(f"wrk printed no latency distribution (--latency):\n{output}")
    phase.window = max(tlasts) - min(t0s) if t0s else 0.0


def run_wrk(phase: Phase, opts: Options, workdir: Path, port: int, fixture: Fixture, people: list[Participant],
            window: int, server: Server, db_pid: int | None, engine: Engine) -> Phase:
    """Send for `window` seconds, then wait (up to the grace) until every thread has read the answers
    to all it sent, and stop wrk with SIGINT (wrk then prints its figures as at the end of -d)."""
    slug = phase.name.replace(" ", "-")
    script, drained, log = workdir / f"{slug}.lua", workdir / f"{slug}.drained.", workdir / f"{slug}.wrk.txt"
    write_lua(script, phase.mode, window, phase.prefix, opts.threads, fixture, people, opts.csrf_header, drained)
    url = f"http://{LOOPBACK}:{port}" + ("/healthz" if phase.mode == "trivial" else vote_path(fixture, 1))
    command = ["wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{window + opts.grace}s",
               f"--timeout={opts.timeout}s", "--latency", "-s", str(script), url]
    before_wrk = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_server, before_machine = server.cpu_seconds(), machine_busy_seconds()
    before_db = process_tree_cpu(db_pid) if db_pid else 0.0
    before_sessions = postgres_sessions(engine)
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            limit = started + window + opts.grace
            while proc.poll() is None and time.monotonic() < limit:
                if time.monotonic() > started + window and all(
                        Path(f"{drained}{tid}").exists() for tid in range(1, opts.threads + 1)):
                    proc.send_signal(signal.SIGINT)
                    break
                time.sleep(0.02)
            proc.wait(timeout=window + opts.grace + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # CPU over the whole wrk run (the send window and the drain), server tree and wrk separately.
    phase.cpu_wall = time.monotonic() - started
    phase.server_cpu = server.cpu_seconds() - before_server
    phase.db_cpu = process_tree_cpu(db_pid) - before_db if db_pid else 0.0
    phase.machine_cpu = machine_busy_seconds() - before_machine
    after_wrk = resource.getrusage(resource.RUSAGE_CHILDREN)
    phase.wrk_cpu = (after_wrk.ru_utime + after_wrk.ru_stime) - (before_wrk.ru_utime + before_wrk.ru_stime)
    if before_sessions is not None:
        time.sleep(1.1)  # backends report their statistics at most once a second
        after_sessions = postgres_sessions(engine)
        phase.db_sessions = after_sessions - before_sessions if after_sessions is not None else None
    output = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{output}")
    parse_wrk(phase, output)
    return phase


# ---------------------------------------------------------------------------------------------
# Exactly once


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def sent_keys(phase: Phase) -> set[str]:
    """Every client key wrk sent in a vote phase (the Lua script numbers them per thread from 0)."""
    return {f"{phase.prefix}{tid:02d}x{n:08d}" for tid, count in phase.sent.items() for n in range(count)}


def expected_participant(key: str, phases: Mapping[str, Phase], opts: Options,
                         people: list[Participant]) -> tuple[str, int] | None:
    """The phase prefix and the index of the participant whose cookie sent this key, or None if no
    phase of this run sent it."""
    match = KEY.match(key)
    if match is None:
        return None
    phase = phases.get(match.group("prefix"))
    tid, n = int(match.group("tid")), int(match.group("n"))
    if phase is None or phase.mode != "vote" or n >= phase.sent.get(tid, 0):
        return None
    return phase.prefix, (n * opts.threads + (tid - 1)) % len(people)


def check_exactly_once(engine: Engine, fixture: Fixture, phases: list[Phase], opts: Options,
                       people: list[Participant]) -> tuple[list[Check], dict[str, int]]:
    by_prefix = {p.prefix: p for p in phases}
    with engine.connect() as conn:
        ids = {str(token): int(pid) for token, pid in conn.execute(text(
            "SELECT token, id FROM participant WHERE session_id = :s"), {"s": fixture.session_id})}
        rows = [(str(k), int(p)) for k, p in conn.execute(text(
            "SELECT s.client_key, b.participant_id FROM ballot_submission s JOIN ballot b ON b.id = s.ballot_id "
            "WHERE s.round_id = :r"), {"r": fixture.round_id})]
        per_answer = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT b.participant_id, a.outcome_id FROM ballot_answer a "
            "JOIN ballot b ON b.id = a.ballot_id WHERE b.round_id = :r "
            "GROUP BY b.participant_id, a.outcome_id HAVING COUNT(*) > 1) t"), {"r": fixture.round_id}).scalar_one()
        per_ballot = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT participant_id FROM ballot WHERE round_id = :r "
            "GROUP BY participant_id HAVING COUNT(*) > 1) t"), {"r": fixture.round_id}).scalar_one()
        answers = conn.execute(text(
            "SELECT COUNT(*) FROM ballot_answer a JOIN ballot b ON b.id = a.ballot_id WHERE b.round_id = :r"),
            {"r": fixture.round_id}).scalar_one()
    person_ids = [ids.get(p.token) for p in people]
    counts = Counter(k for k, _ in rows)
    duplicates = [k for k, c in counts.items() if c > 1]
    stored: Counter[str] = Counter()
    unknown, misattributed = [], []
    for key, participant_id in rows:
        if key == SMOKE_KEY:
            stored["smoke"] += 1
            continue
        found = expected_participant(key, by_prefix, opts, people)
        if found is None:
            unknown.append(key)
            continue
        stored[found[0]] += 1
        if person_ids[found[1]] != participant_id:
            misattributed.append(key)
    checks = [
        Check("no client key stored twice", not duplicates, f"{len(duplicates)} duplicated"
              + (f", e.g. {duplicates[:3]}" if duplicates else "")),
        Check("every stored key was sent by this run", not unknown,
              f"{len(unknown)} unknown" + (f", e.g. {unknown[:3]}" if unknown else "")),
        Check("each submission is on the ballot of the participant who sent it", not misattributed,
              f"{len(misattributed)} on another participant's ballot"),
        Check("one ballot per participant", per_ballot == 0, f"{per_ballot} participants with several"),
        Check("at most one answer per participant and outcome", per_answer == 0,
              f"{per_answer} (participant, outcome) pairs answered twice; {answers} answers in all"),
    ]
    stored_keys = set(counts)
    for phase in phases:
        if phase.mode != "vote":
            continue
        db_rows = stored[phase.prefix]
        missing = len(sent_keys(phase) - stored_keys)  # sent, never stored
        unacknowledged = phase.total_sent - phase.ok
        clean = phase.socket_errors == 0 and unacknowledged == 0
        # Each acknowledged key is stored if at most the unacknowledged requests are missing from the
        # database; with none unacknowledged, the stored keys are exactly the keys sent.
        passed = missing <= unacknowledged and phase.ok <= db_rows <= phase.total_sent
        if clean:
            passed = passed and missing == 0 and db_rows == phase.ok
        rule = "stored == acknowledged, key by key" if clean else "acknowledged <= stored, key by key"
        checks.append(Check(
            f"{phase.name}: every acknowledged ballot stored exactly once ({rule})", passed,
            f"sent {phase.total_sent}, acknowledged (303) {phase.ok}, in the database {db_rows}, sent but not "
            f"stored {missing}; other responses {phase.other}, no response {phase.unanswered}, wrk socket "
            f"errors {phase.socket_errors - phase.errors.get('timeout', 0)}, timeouts "
            f"{phase.errors.get('timeout', 0)}; stored but not acknowledged {db_rows - phase.ok}"))
    totals = {"submissions": len(rows), "answers": int(answers), **stored}
    return checks, totals


# ---------------------------------------------------------------------------------------------
# Report


def print_environment(opts: Options, db_notes: str) -> None:
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False,
                                 timeout=10).stdout.splitlines()
    print("Environment")
    print(f"  CPUs               {cpus} ({usable} usable by this process); load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  database           {db_notes}")
    print(f"  server             codesign serve --workers {opts.workers} on {LOOPBACK} (uvicorn, log level "
          "warning: no access log)")
    print(f"  wrk                {wrk_version[0].split(' Copyright')[0] if wrk_version else 'wrk'}: "
          f"-t{opts.threads} -c{opts.connections}, send for {opts.duration} s then read answers in flight for "
          f"up to {opts.grace} s (-d{opts.duration + opts.grace}s), --timeout {opts.timeout}s --latency; "
          f"warm-up {opts.warmup} s per endpoint, not counted")
    print(f"  load               {opts.participants} participants x {opts.outcomes} rating questions, a new key "
          f"per request; CSRF token in {'X-CSRF-Token header' if opts.csrf_header else 'csrf_token form field'}")
    print()


def print_results(trivial: Phase, vote: Phase) -> float:
    print(f"{'endpoint':<42}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'not ok':>7}{'errors':>7}{'CPU ms/req':>11}")
    for phase, label in ((trivial, "GET /healthz (trivial)"), (vote, "POST /s/{code}/rounds/{id}/q/{n} (vote)")):
        print(f"{label:<42}{phase.ok + phase.other:>9}{phase.rps:>9.1f}{phase.p50_ms:>9.2f}{phase.p99_ms:>9.2f}"
              f"{phase.max_ms:>9.1f}{phase.other:>7}{phase.socket_errors:>7}{phase.cpu_ms_per_request:>11.3f}")
    ratio = vote.rps / trivial.rps if trivial.rps else 0.0
    verdict = "meets" if ratio >= TARGET_RATIO else "does NOT meet"
    print(f"\nratio vote/trivial (req/s): {ratio:.3f}  ({verdict} the target of at least {TARGET_RATIO})")
    if vote.cpu_ms_per_request:
        print(f"ratio of CPU cost per request, trivial/vote: {trivial.cpu_ms_per_request / vote.cpu_ms_per_request:.3f}"
              " (the same comparison, less sensitive to other load on the machine)")
    print("  req/s: acknowledged answers (200 for /healthz, a 303 to the next question for a vote) from the first "
          "request to the last answer;")
    print(f"  wrk's own Requests/sec (stopped once drained): {trivial.wrk_rps:.1f} and {vote.wrk_rps:.1f}. "
          "CPU ms/req: codesign serve" + (" + PostgreSQL" if vote.db_cpu else "") + " CPU / answers.")
    for phase in (trivial, vote):
        if phase.statuses:
            print(f"  {phase.name}: responses other than the expected one: {dict(phase.statuses)}")
        if phase.socket_errors:
            print(f"  {phase.name}: wrk socket errors {phase.errors}")
    print(f"\nCores busy during each wrk run ({os.cpu_count()} in all):")
    for phase in (trivial, vote):
        wall = phase.cpu_wall or 1.0
        db = f", PostgreSQL {phase.db_cpu / wall:4.2f}" if phase.db_cpu else ""
        print(f"  {phase.name:<8} {wall:5.1f} s: codesign serve {phase.server_cpu / wall:4.2f}{db}, "
              f"wrk {phase.wrk_cpu / wall:4.2f}, other programs {phase.others_cores:4.2f}")
        if phase.db_sessions is not None:
            print(f"    PostgreSQL connections opened during this run: {phase.db_sessions} "
                  "(pg_stat_database.sessions, approximate)")
        if phase.others_cores > 0.25:
            print(f"    note: other programs took {phase.others_cores:.2f} cores during this run, so its req/s "
                  "is lower than on a quiet machine (CPU ms/req much less so)")
    return ratio


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
