"""Migrations and database-level guarantees, on whichever database the suite runs against."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from codesign import db
from codesign.services import audit


def test_migrated_to_head(engine: Engine) -> None:
    assert db.current_revision(engine) == db.head_revision(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"user", "population_group", "stakeholder_group", "workshop_session", "participant", "outcome",
            "outcome_source", "outcome_revision", "audit_event", "rate_limit_bucket", "login_session",
            "sign_in_address"} <= tables
    assert "rate_limit_hit" not in tables  # replaced by rate_limit_bucket (migration 0006)


def test_audit_log_is_append_only_in_the_database(engine: Engine, session) -> None:  # type: ignore[no-untyped-def]
    audit.record(session, None, "test.event", summary="evidence")
    session.commit()
    for statement in ("UPDATE audit_event SET summary = 'tampered'", "DELETE FROM audit_event"):
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT summary FROM audit_event")).scalar_one() == "evidence"


def test_sqlite_runs_in_wal_mode_with_busy_timeout(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000


def test_sqlite_writers_take_turns_in_the_order_they_asked() -> None:
    """The in-process write lock is first come, first served: a thread that releases it and asks
    again at once goes to the back of the queue (threading.Lock would usually let it straight back)."""
    import threading

    lock = db.FairLock()
    order: list[str] = []
    lock.acquire()
    waiting = threading.Event()

    def other() -> None:
        waiting.set()
        with lock:
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    assert waiting.wait(5)
    while lock._next < 2:  # until the other thread holds its ticket
        pass
    lock.release()
    with lock:  # asked again straight after releasing: served after the other thread
        order.append("first again")
    thread.join(5)
    assert order == ["other", "first again"]
    assert lock.acquire(blocking=False) and not lock.acquire(blocking=False)
    lock.release()
