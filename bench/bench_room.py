"""A room at rest: what 500 connected devices cost, how fast they all follow a move, and what one
"has the room moved?" check costs in SQL statements.

Run: .venv/bin/python bench/bench_room.py [--devices 500] [--seconds 30] [--workers 1]
     tests/with_postgres.sh .venv/bin/python bench/bench_room.py --postgres --workers 2

It starts `codesign serve` over a fresh database with one session (an open rating round) and
`--devices` participants made in the database (each with the signed cookie its tablet would hold),
then opens one event stream per device (`GET /s/<code>/events`, as the page's EventSource does)
from one client thread. With every device connected and nothing happening, it measures the server's
CPU (all its processes, from /proc) over `--seconds`, and prints it as a share of one core
(budget: under 10%). Then the facilitator closes the round (a service call on the database, as the
console's button does) and it times how long each device takes to receive the move (budget: 3 s).
Finally, in this process, it counts the SQL statements of one unchanged check (budget: 2).
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_crash import Server, make_voters
from load_setup import (
    COOKIE,
    LOOPBACK,
    BenchError,
    Options,
    create_fixture,
    database,
    free_port,
    migrate,
    process_tree_cpu,
)


def connect(port: int, code: str, cookie: str, seq: int) -> socket.socket:
    sock = socket.create_connection((LOOPBACK, port), timeout=10)
    sock.sendall((f"GET /s/{code}/events?seq={seq} HTTP/1.1\r\nHost: {LOOPBACK}\r\n"
                  f"Accept: text/event-stream\r\nCookie: {COOKIE}={cookie}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise BenchError("the server closed an event stream before answering")
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise BenchError(f"event stream refused: {head.splitlines()[0]!r}")
    sock.setblocking(False)
    return sock


def current_seq(database_url: str, session_id: int) -> int:
    from codesign import db
    from codesign.config import Settings
    from codesign.queries.room import live_seqs

    engine = db.make_engine(Settings(database_url=database_url, env="development"))
    try:
        with db.read_session(engine) as s:
            return live_seqs(s, [session_id])[session_id]
    finally:
        engine.dispose()


def close_round(database_url: str, session_id: int, round_id: int) -> None:
    from sqlmodel import select

    from codesign import db
    from codesign.config import Settings
    from codesign.models import User
    from codesign.services import rounds

    engine = db.make_engine(Settings(database_url=database_url, env="development"))
    try:
        with db.write_session(engine) as s:
            admin = s.exec(select(User)).first()
            assert admin is not None
            rounds.close_round(s, admin, session_id, round_id)
    finally:
        engine.dispose()


def statements_per_check(database_url: str, session_id: int) -> tuple[int, int]:
    """(statements, of which SELECT) for one check of an unchanged room, counted with SQLAlchemy events."""
    import asyncio

    from sqlalchemy import event

    from codesign import db
    from codesign.config import Settings
    from codesign.web.room_events import RoomWatch

    engine = db.make_engine(Settings(database_url=database_url, env="development"))
    seen: list[str] = []

    async def run() -> None:
        watch = RoomWatch(engine, interval=3600)
        with watch.listen(session_id):
            watch.check()  # the first look reports the room as it is
            event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
            assert watch.check() == []
        await watch.stop()

    try:
        asyncio.run(run())
    finally:
        engine.dispose()
    return len(seen), sum(s.lstrip().upper().startswith("SELECT") for s in seen)


def drain(socks: list[socket.socket], until: float, want: bytes | None = None) -> dict[int, float]:
    """Read every stream until `until`; return {index: time the first `want` arrived}."""
    selector = selectors.DefaultSelector()
    for i, sock in enumerate(socks):
        selector.register(sock, selectors.EVENT_READ, i)
    arrived: dict[int, float] = {}
    buffers = [b""] * len(socks)
    try:
        while time.monotonic() < until and (want is None or len(arrived) < len(socks)):
            for key, _ in selector.select(timeout=0.2):
                i = key.data
                try:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                if not data:
                    raise BenchError(f"the server closed device {i}'s event stream")
                if want is not None and i not in arrived:
                    buffers[i] += data
                    if want in buffers[i]:
                        arrived[i] = time.monotonic()
    finally:
        selector.close()
    return arrived


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args(argv)
    opts = cast(Options, SimpleNamespace(postgres=args.postgres))  # database() reads only this
    with tempfile.TemporaryDirectory(prefix="codesign-bench-room-") as tmp, \
            database(opts, Path(tmp)) as url:
        migrate(url)
        fixture = create_fixture(url, 5)
        voters = make_voters(url, fixture.session_id, args.devices)
        seq = current_seq(url, fixture.session_id)
        port = free_port()
        server = Server(url, port, args.workers, Path(tmp) / "server.log")
        socks: list[socket.socket] = []
        try:
            server.wait_ready()
            started = time.monotonic()
            socks = [connect(port, fixture.join_code, v.cookie, seq) for v in voters]
            connected_in = time.monotonic() - started
            drain(socks, time.monotonic() + 3)  # let the connection burst settle
            cpu0, wall0 = process_tree_cpu(server.proc.pid), time.monotonic()
            drain(socks, wall0 + args.seconds)
            cpu, wall = process_tree_cpu(server.proc.pid) - cpu0, time.monotonic() - wall0

            moved_at = [0.0]

            def move() -> None:
                moved_at[0] = time.monotonic()
                close_round(url, fixture.session_id, fixture.round_id)

            mover = threading.Thread(target=move)
            mover.start()
            arrived = drain(socks, time.monotonic() + 30, want=b"event: room")
            mover.join()
            delays = sorted(t - moved_at[0] for t in arrived.values())
        finally:
            for sock in socks:
                sock.close()
            server.stop()
        statements, selects = statements_per_check(url, fixture.session_id)

    where = "PostgreSQL 15" if args.postgres else "SQLite"
    print(f"bench_room: {where}, {args.workers} worker(s), {args.devices} devices connected "
          f"(in {connected_in:.1f} s), {os.cpu_count()} cores")
    print(f"  at rest for {wall:.0f} s: server CPU {cpu:.2f} s = {100 * cpu / wall:.1f}% of one core "
          f"(budget < 10%)")
    if delays:
        print(f"  a move (round closed) reached {len(delays)}/{args.devices} devices: "
              f"median {statistics.median(delays):.2f} s, slowest {delays[-1]:.2f} s (budget 3 s)")
    print(f"  one unchanged check: {statements} SQL statement(s), {selects} SELECT (budget 2)")
    ok = len(delays) == args.devices and cpu / wall < 0.10 and delays[-1] <= 3 and statements <= 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
