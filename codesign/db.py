"""Engine, sessions and the migrations hook.

The engine is made by `make_engine(settings)` (called from the app's lifespan and the CLI), never at
import. SQLite runs in WAL mode with a busy timeout, and write sessions take the write lock up front
(BEGIN IMMEDIATE) so concurrent writers queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from codesign.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 10_000
IMMEDIATE = "codesign_immediate"
# Enough connections for every thread of the server's thread pool (anyio's default is 40), so
# requests never queue for a connection or churn through new ones.
POOL_SIZE = 20
POOL_OVERFLOW = 20


class FairLock:
    """A lock taken in the order it was asked for (a ticket queue). threading.Lock is not fair: a
    thread that releases it and asks again at once usually wins, so under a stream of votes a
    close could wait behind dozens of them. With tickets, whoever asked first writes first."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0

    def acquire(self, blocking: bool = True) -> bool:
        with self._changed:
            if not blocking and self._next != self._serving:
                return False
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._changed.wait()
            return True

    def release(self) -> None:
        with self._changed:
            self._serving += 1
            self._changed.notify_all()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


_write_locks: dict[int, FairLock] = {}


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        _configure_sqlite(engine)
        _write_locks[id(engine)] = FairLock()
        return engine
    # No pre-ping (a round trip on every checkout); connections are recycled hourly instead.
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_recycle=3600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let us issue BEGIN ourselves (see _on_begin); pysqlite's implicit BEGIN is deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # REPLACE conflict resolution deletes the conflicting row; without this it does so without
        # firing that row's DELETE triggers, which keep audit events and frozen versions unchanged.
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for a use case that writes. Services commit; anything left uncommitted rolls back.

    On SQLite, writers in one process take turns on a first-come, first-served lock: SQLite's own
    busy handler sleeps and retries, which is unfair under load (a few writers wait seconds).
    Other processes still meet SQLite's busy timeout.
    """
    if engine.dialect.name != "sqlite":
        with Session(engine, expire_on_commit=False) as session:
            yield session
        return
    lock = _write_locks.setdefault(id(engine), FairLock())
    with lock, Session(engine.execution_options(**{IMMEDIATE: True}), expire_on_commit=False) as session:
        yield session


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (the latest schema by default)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
