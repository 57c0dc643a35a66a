"""Checking join codes: wrong codes slow the device that typed them; the room keeps joining."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from codesign import db
from codesign.config import Settings
from codesign.errors import ValidationFailed
from codesign.models import SessionStatus, User
from codesign.services import joining, ratelimit, sessions
from codesign.services.ratelimit import Slowed

LIMITS = joining.JoinLimits.from_settings(Settings(env="test"))


@pytest.fixture
def tx(engine: Engine) -> Iterator[Session]:
    """A plain write session, as the route gets from dbcall.write."""
    with db.write_session(engine) as s:
        yield s


def prove(tx: Session, code: str, device: str = "tablet-1", address: str = "venue") -> int | None:
    return joining.prove_join_code(tx, code, device=device, address=address, limits=LIMITS).id


def test_join_code_typed_loosely_still_found(tx: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    assert prove(tx, f" {workshop.join_code[:4].lower()}-{workshop.join_code[4:]} ") == workshop.id


@pytest.mark.parametrize("raw", ["ABC", "ABCD23456", "ABCD234O", "ABCD2341", "\x00BCD2345", "ABCD\x002345",
                                 "ÀBCD2345", "ABCD 234!"])
def test_codes_that_cannot_be_codes_are_refused_and_not_counted(raw: str) -> None:
    assert sessions.canonical_join_code(raw) is None
    # No session is passed: a malformed code never reaches the database, nor the limits.
    with pytest.raises(ValidationFailed, match="8 letters and numbers"):
        joining.prove_join_code(None, raw, device="d", address="a", limits=LIMITS)  # type: ignore[arg-type]


def test_wrong_codes_slow_the_device_not_the_room(tx: Session, workshop, clock: list[timedelta]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(LIMITS.device.free):
        with pytest.raises(ValidationFailed, match="That code did not match"):
            prove(tx, "ZZZZZZZZ")
    with pytest.raises(Slowed, match=r"Wait 30 seconds, then try again\. This only affects this device\."):
        prove(tx, workshop.join_code)
    assert prove(tx, workshop.join_code, device="tablet-2") == workshop.id
    clock.append(timedelta(seconds=30))
    assert prove(tx, workshop.join_code) == workshop.id


def test_the_right_code_clears_the_device_and_leaves_the_address_budget_alone(  # type: ignore[no-untyped-def]
        tx: Session, workshop) -> None:
    for _ in range(LIMITS.device.free - 1):
        with pytest.raises(ValidationFailed):
            prove(tx, "ZZZZZZZZ")
    assert prove(tx, workshop.join_code) == workshop.id
    for _ in range(LIMITS.device.free):  # a fresh start for this device
        with pytest.raises(ValidationFailed):
            prove(tx, "ZZZZZZZZ")
    for n in range(50):  # a room of tablets typing the right code takes nothing from the address
        assert prove(tx, workshop.join_code, device=f"room-{n}") == workshop.id
    row = tx.get(ratelimit.RateLimitBucket, "join:address:venue")
    assert row is not None and row.attempts == 2 * LIMITS.device.free - 1


def test_a_flood_from_one_address_slows_that_address(tx: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    small = joining.JoinLimits.from_settings(Settings(env="test", join_address_max_failures=12))
    for n in range(12):  # twelve devices, one wrong code each (a script making new cookies)
        with pytest.raises(ValidationFailed):
            joining.prove_join_code(tx, "ZZZZZZZZ", device=f"bot-{n}", address="venue", limits=small)
    with pytest.raises(Slowed, match="Many wrong codes have come from this network"):
        joining.prove_join_code(tx, workshop.join_code, device="newcomer", address="venue", limits=small)
    assert joining.prove_join_code(tx, workshop.join_code, device="newcomer", address="mobile",
                                   limits=small).id == workshop.id


def test_closed_session_refused_by_name(tx: Session, session: Session, workshop, facilitator: User) -> None:  # type: ignore[no-untyped-def]
    tx.commit()
    sessions.set_session_status(session, facilitator, workshop.id, SessionStatus.closed)
    with pytest.raises(ValidationFailed, match="This session has closed"):
        prove(tx, workshop.join_code)


def test_brute_force_arithmetic_in_the_comment_is_true() -> None:
    """services.joining counts the code space against the most checks one address can make a day."""
    per_day = ratelimit.most_attempts(LIMITS.address, 24 * 3600)
    assert per_day == 8_712 and "8,712" in (joining.__doc__ or "")
    space = len(sessions.JOIN_CODE_ALPHABET) ** sessions.JOIN_CODE_LENGTH
    assert space == 852_891_037_441 and "852,891,037,441" in (joining.__doc__ or "")
    # "once in 98,000 days" with 1,000 open sessions, "once in 9,800 days" with 10,000.
    assert round(space / (per_day * 1_000), -3) == 98_000 and round(space / (per_day * 10_000), -2) == 9_800
