"""Attempt limits kept in the database, atomic across workers and machines: reserve, check, settle.

An attempt first *reserves* a place in each of its buckets, in a short transaction of its own,
under a row lock (`INSERT ... ON CONFLICT DO NOTHING`, then `SELECT ... FOR UPDATE` on PostgreSQL;
on SQLite the write transaction, BEGIN IMMEDIATE, already runs one at a time). Only an attempt that
got a place is *checked* (a password verified, a join code looked up), outside that transaction.
A second short transaction then *settles* it: success gives the place back, failure keeps it.
So with N free attempts, 50 requests arriving at once check at most N: the others are refused
before anything is checked, and the locks are never held while a password hash is computed.

Within a window the first `free` attempts pass; after that an attempt passes only once its bucket's
`next_allowed_at` has come, and then pushes it out again, doubling the wait each time up to a cap.
People are slowed down, never locked out: the wait is always known and always ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from codesign.errors import RateLimited
from codesign.models import RateLimitBucket, utcnow

MAX_DOUBLINGS = 30  # 2**30 times any first delay is past every cap: no overflow, no huge numbers

_CREATE = text(
    "INSERT INTO rate_limit_bucket (key, window_start, attempts, next_allowed_at, updated_at) "
    "VALUES (:key, :now, 0, NULL, :now) ON CONFLICT (key) DO NOTHING"
).bindparams(bindparam("now", type_=UTCDateTime()))
_REFUND = text(
    "UPDATE rate_limit_bucket SET attempts = attempts - 1 "
    "WHERE key = :key AND window_start = :window AND attempts > 0"
).bindparams(bindparam("window", type_=UTCDateTime()))
_CLEAR = text("DELETE FROM rate_limit_bucket WHERE key = :key")
_PRUNE = text("DELETE FROM rate_limit_bucket WHERE updated_at < :before").bindparams(
    bindparam("before", type_=UTCDateTime()))


def clock() -> datetime:
    """Now. Tests replace this to move time on without sleeping."""
    return utcnow()


@dataclass(frozen=True)
class Policy:
    """How one kind of key is limited: `free` attempts per window, then a doubling wait."""

    name: str
    free: int
    window_seconds: int
    first_delay_seconds: int
    max_delay_seconds: int
    # A success wipes the bucket (the person proved who they are: a device that typed the right
    # code, an account and address that gave the right password) or only gives its own place
    # back (shared buckets: one success must not buy an attacker a fresh set of guesses).
    clear_on_success: bool = False

    def __post_init__(self) -> None:
        if self.free < 0 or self.window_seconds < 1 or not 1 <= self.first_delay_seconds <= self.max_delay_seconds:
            raise ValueError(f"limit {self.name}: free >= 0, window >= 1 s and 1 s <= first delay <= cap")

    def delay_after(self, attempts: int) -> int:
        """Seconds the next attempt waits after the `attempts`-th in a window (0 while free remain)."""
        if attempts < self.free:
            return 0
        doublings = min(attempts - self.free, MAX_DOUBLINGS)
        return min(self.first_delay_seconds << doublings, self.max_delay_seconds)


@dataclass(frozen=True)
class Claim:
    key: str
    policy: Policy


@dataclass(frozen=True)
class Reservation:
    """Places taken by one attempt; `windows` says in which window, so a refund never reaches
    into a later window."""

    claims: tuple[Claim, ...]
    windows: tuple[datetime, ...]


class Slowed(RateLimited):
    """Refused before being checked: wait `wait_seconds`. `policy` is the limit that refused."""

    def __init__(self, wait_seconds: int, policy: Policy, message: str | None = None) -> None:
        self.wait_seconds = wait_seconds
        self.policy = policy
        super().__init__(message or f"Wait {wait_text(wait_seconds)}, then try again.")


def wait_text(seconds: int) -> str:
    """'1 second', '30 seconds', '2 minutes': whole minutes, rounded up, from a minute on."""
    if seconds < 60:
        seconds = max(seconds, 1)
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _starts_new_window(row: RateLimitBucket, policy: Policy, now: datetime) -> bool:
    window_over = now >= row.window_start + timedelta(seconds=policy.window_seconds)
    return window_over and (row.next_allowed_at is None or now >= row.next_allowed_at)


def reserve(db: Session, claims: Sequence[Claim], now: datetime | None = None) -> Reservation:
    """Take a place in every bucket, or raise Slowed and take none. Commits (releasing the locks)."""
    now = now or clock()
    ordered = sorted(claims, key=lambda claim: claim.key)  # one lock order everywhere: no deadlock
    keys = [claim.key for claim in ordered]
    for key in keys:
        db.execute(_CREATE, {"key": key, "now": now})
    rows = {row.key: row for row in db.exec(
        select(RateLimitBucket).where(col(RateLimitBucket.key).in_(keys))
        .order_by(col(RateLimitBucket.key)).with_for_update()
        # The locked rows as they are now, not as an earlier query in this session saw them.
        .execution_options(populate_existing=True))}
    refusals: list[tuple[int, Policy]] = []
    for claim in ordered:
        row = rows[claim.key]
        if _starts_new_window(row, claim.policy, now):
            row.window_start, row.attempts, row.next_allowed_at = now, 0, None
        if row.attempts >= claim.policy.free and row.next_allowed_at is not None and now < row.next_allowed_at:
            refusals.append((math.ceil((row.next_allowed_at - now).total_seconds()), claim.policy))
    if refusals:
        db.rollback()
        raise Slowed(*max(refusals, key=lambda refusal: refusal[0]))
    windows = []
    for claim in ordered:
        row = rows[claim.key]
        row.attempts += 1
        delay = claim.policy.delay_after(row.attempts)
        if delay:
            row.next_allowed_at = now + timedelta(seconds=delay)
        row.updated_at = now
        db.add(row)
        windows.append(row.window_start)
    db.commit()
    return Reservation(tuple(ordered), tuple(windows))


def settle(db: Session, reservation: Reservation, ok: bool) -> None:
    """After the check. A failure keeps its places (nothing to write); a success clears or refunds
    them. Adds to the caller's transaction; the caller commits."""
    if not ok:
        return
    for claim, window in zip(reservation.claims, reservation.windows, strict=True):
        if claim.policy.clear_on_success:
            db.execute(_CLEAR, {"key": claim.key})
        else:
            db.execute(_REFUND, {"key": claim.key, "window": window})


def prune(db: Session, older_than_seconds: int = 7 * 24 * 3600, now: datetime | None = None) -> int:
    """Forget buckets untouched for a week (every policy's window and cap are far shorter)."""
    before = (now or clock()) - timedelta(seconds=older_than_seconds)
    deleted = db.connection().execute(_PRUNE, {"before": before}).rowcount
    db.commit()
    return deleted


def most_attempts(policy: Policy, seconds: int) -> int:
    """The most attempts one key can have checked in `seconds`, trying at every allowed moment:
    what the brute-force arithmetic in the policy comments counts against the code space."""
    attempts_in_window, window_start, next_allowed, now, total = 0, 0, 0, 0, 0
    while now < seconds:
        if now >= window_start + policy.window_seconds and now >= next_allowed:
            attempts_in_window, window_start = 0, now
        if attempts_in_window < policy.free or now >= next_allowed:
            attempts_in_window += 1
            total += 1
            delay = policy.delay_after(attempts_in_window)
            if delay:
                next_allowed = now + delay
            continue  # free attempts are instant: try again at the same moment
        now = next_allowed if next_allowed > now else now + 1
    return total
