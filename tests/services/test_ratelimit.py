"""The attempt limiter: free attempts, then a doubling wait; refusals take no place; atomic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, inspect
from sqlmodel import Session, select

from codesign import db
from codesign.models import RateLimitBucket
from codesign.services import ratelimit
from codesign.services.ratelimit import Claim, Policy, Slowed

T0 = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
POLICY = Policy("test", free=3, window_seconds=600, first_delay_seconds=30, max_delay_seconds=100)
SHARED = Policy("shared", free=5, window_seconds=600, first_delay_seconds=30, max_delay_seconds=100)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A plain session, as the services get from db.write_session (the suite's FreshSession commits
    before every query, which would split a reservation's transaction)."""
    with db.write_session(engine) as s:
        yield s


def bucket(session: Session, key: str) -> RateLimitBucket | None:
    return session.exec(select(RateLimitBucket).where(RateLimitBucket.key == key)
                        .execution_options(populate_existing=True)).first()


def attempts(session: Session, key: str) -> int:
    row = bucket(session, key)
    return row.attempts if row is not None else 0


def test_free_attempts_then_a_doubling_wait_up_to_the_cap(session: Session) -> None:
    claim = [Claim("k", POLICY)]
    for _ in range(3):
        ratelimit.reserve(session, claim, at(0))
    with pytest.raises(Slowed) as slowed:
        ratelimit.reserve(session, claim, at(1))
    assert slowed.value.wait_seconds == 29 and str(slowed.value) == "Wait 29 seconds, then try again."
    waits = []
    now = 30.0
    for _ in range(4):
        ratelimit.reserve(session, claim, at(now))  # allowed once the wait is over...
        with pytest.raises(Slowed) as slowed:
            ratelimit.reserve(session, claim, at(now))  # ...and the next waits twice as long, up to the cap
        waits.append(slowed.value.wait_seconds)
        now += slowed.value.wait_seconds
    assert waits == [60, 100, 100, 100]


def test_a_refused_attempt_takes_no_place(session: Session) -> None:
    claim = [Claim("k", POLICY)]
    for _ in range(3):
        ratelimit.reserve(session, claim, at(0))
    for second in range(1, 30):
        with pytest.raises(Slowed):
            ratelimit.reserve(session, claim, at(second))
    assert attempts(session, "k") == 3
    ratelimit.reserve(session, claim, at(30))  # the wait did not grow while refused
    assert attempts(session, "k") == 4


def test_reserving_is_all_or_nothing(session: Session) -> None:
    for _ in range(3):
        ratelimit.reserve(session, [Claim("full", POLICY)], at(0))
    with pytest.raises(Slowed):
        ratelimit.reserve(session, [Claim("full", POLICY), Claim("empty", SHARED)], at(1))
    assert attempts(session, "empty") == 0


def test_success_clears_or_refunds_and_failure_keeps(session: Session) -> None:
    clearing = Policy("device", 3, 600, 30, 100, clear_on_success=True)
    for _ in range(2):
        ratelimit.reserve(session, [Claim("device", clearing), Claim("address", SHARED)], at(0))
    failed = ratelimit.reserve(session, [Claim("device", clearing), Claim("address", SHARED)], at(0))
    ratelimit.settle(session, failed, False)
    session.commit()
    assert (attempts(session, "device"), attempts(session, "address")) == (3, 3)
    # The device is slowed now; on another device, a success gives back only its own place.
    other = ratelimit.reserve(session, [Claim("device2", clearing), Claim("address", SHARED)], at(1))
    ratelimit.settle(session, other, True)
    session.commit()
    assert (attempts(session, "device2"), attempts(session, "address")) == (0, 3)
    later = ratelimit.reserve(session, [Claim("device", clearing), Claim("address", SHARED)], at(31))
    ratelimit.settle(session, later, True)
    session.commit()
    assert bucket(session, "device") is None and attempts(session, "address") == 3


def test_a_refund_never_reaches_into_a_later_window(session: Session) -> None:
    early = ratelimit.reserve(session, [Claim("k", SHARED)], at(0))
    ratelimit.reserve(session, [Claim("k", SHARED)], at(700))  # a new window: 1 attempt
    ratelimit.settle(session, early, True)
    session.commit()
    assert attempts(session, "k") == 1


def test_a_new_window_starts_once_the_window_and_the_wait_are_over(session: Session) -> None:
    claim = [Claim("k", POLICY)]
    for _ in range(3):
        ratelimit.reserve(session, claim, at(0))
    ratelimit.reserve(session, claim, at(590))  # slowed: the wait now runs to 650, past the window
    with pytest.raises(Slowed):
        ratelimit.reserve(session, claim, at(620))
    for _ in range(3):  # free again
        ratelimit.reserve(session, claim, at(650))
    assert attempts(session, "k") == 3


def test_most_attempts_counts_what_the_limiter_really_allows(session: Session) -> None:
    """The brute-force arithmetic (services.joining) uses most_attempts: check it against the real
    limiter, trying every second for 20 minutes."""
    policy = Policy("sim", free=4, window_seconds=300, first_delay_seconds=5, max_delay_seconds=40)
    allowed = 0
    for second in range(1200):
        for _ in range(3):  # several tries each second: the free ones all pass at once
            try:
                ratelimit.reserve(session, [Claim("sim", policy)], at(second))
                allowed += 1
            except Slowed:
                break
    assert allowed == ratelimit.most_attempts(policy, 1200)
    assert 4 * 4 < allowed < 1200 / 5


def test_wait_text() -> None:
    assert [ratelimit.wait_text(s) for s in (0, 1, 30, 59, 60, 61, 300)] == [
        "1 second", "1 second", "30 seconds", "59 seconds", "1 minute", "2 minutes", "5 minutes"]


def test_policies_that_would_never_wait_are_refused() -> None:
    with pytest.raises(ValueError, match="first delay"):
        Policy("bad", 5, 600, 0, 10)


def test_prune_forgets_only_old_buckets(session: Session) -> None:
    ratelimit.reserve(session, [Claim("old", POLICY)], at(0))
    ratelimit.reserve(session, [Claim("new", POLICY)], at(8 * 24 * 3600))
    assert ratelimit.prune(session, now=at(8 * 24 * 3600)) == 1
    assert bucket(session, "old") is None and bucket(session, "new") is not None


def test_starting_the_app_writes_nothing_and_the_worker_forgets_old_buckets(  # type: ignore[no-untyped-def]
        session: Session, engine: Engine, settings) -> None:
    """With several server processes, one may still be starting while another serves: a write at
    start-up (it used to prune here) breaks, on SQLite, any read-then-write transaction of another
    process that spans it ("database is locked", at once). So a server starts and answers while
    another connection holds the write lock, and `codesign worker` does the pruning."""
    from starlette.testclient import TestClient

    from codesign.app import create_app
    from codesign.mail import worker

    ratelimit.reserve(session, [Claim("last-month", POLICY)], datetime.now(UTC) - timedelta(days=30))
    ratelimit.reserve(session, [Claim("today", POLICY)], datetime.now(UTC))
    session.commit()
    with engine.execution_options(**{db.IMMEDIATE: True}).connect() as holder:
        holder.exec_driver_sql("SELECT 1")  # on SQLite, BEGIN IMMEDIATE: the write lock, held
        with TestClient(create_app(settings)) as client:
            assert client.get("/healthz").status_code == 200
        holder.rollback()
    assert bucket(session, "last-month") is not None
    session.commit()
    other = db.make_engine(settings)  # another process's (this test's session holds the in-process lock)
    try:
        assert worker.run_once(other, settings).pruned == 1
    finally:
        other.dispose()
    assert bucket(session, "last-month") is None and bucket(session, "today") is not None


def test_fifty_simultaneous_reservations_get_exactly_the_free_places(engine: Engine) -> None:
    """Each thread its own database session, all released at once: on PostgreSQL the row lock, on
    SQLite the write transaction, lets exactly `free` through."""
    start = threading.Barrier(50)
    passed: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def attempt(n: int) -> None:
        try:
            start.wait(timeout=30)
            with db.write_session(engine) as s:
                ratelimit.reserve(s, [Claim("login:pair:x", SHARED), Claim(f"device:{n % 7}", POLICY)], at(0))
            passed.append(n)
        except Slowed:
            refused.append(n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(passed) == SHARED.free and len(refused) == 45
    with db.read_session(engine) as s:
        assert attempts(s, "login:pair:x") == SHARED.free


def test_migration_0006_goes_down_and_up(engine: Engine) -> None:
    command.downgrade(db.alembic_config(engine), "0005")
    tables = set(inspect(engine).get_table_names())
    assert "rate_limit_hit" in tables and not {"rate_limit_bucket", "login_session", "sign_in_address"} & tables
    db.migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"rate_limit_bucket", "login_session", "sign_in_address"} <= tables and "rate_limit_hit" not in tables
