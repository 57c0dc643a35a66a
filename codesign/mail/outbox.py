"""The mail outbox: web requests add rows; the worker claims, sends and records them.

- Enqueue is idempotent by `dedupe_key` (INSERT ... ON CONFLICT DO NOTHING): a double click, two
  facilitators at once or the worker's schedule and a button never make two messages.
- Claiming marks due rows `sending` in one short transaction; on PostgreSQL the rows are chosen
  `FOR UPDATE SKIP LOCKED`, so two workers never claim (and so never send) the same message.
  A claim older than STALE_CLAIM (a worker that died mid-send) returns to pending: a message is
  delivered at least once, and exactly once unless a worker dies between the server accepting it
  and recording that.
- Just before a message is claimed it is checked against its panellist: unsubscribed, erased or
  revoked, or (a reminder or an invitation) finished the round since it was queued: `cancelled`,
  never sent.
- A failure is retried after 1, 2, 4, 8... minutes (at most an hour apart) up to MAX_ATTEMPTS
  tries, then `failed` and shown on the panel's mail page with its error and "Try again".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound
from codesign.models import MailStatus, OutboxMessage, Panellist, User, utcnow
from codesign.services import audit

MAX_ATTEMPTS = 6
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MOST = timedelta(hours=1)
STALE_CLAIM = timedelta(minutes=10)
ERROR_MAX = 1000

# A reminder is for someone who has not finished: finished means their ballot in the round says so.
Q_FINISHED = text(
    "SELECT 1 FROM ballot b JOIN participant p ON p.id = b.participant_id "
    "WHERE b.round_id = :rid AND p.panellist_id = :pid AND b.finished_at IS NOT NULL")


@dataclass(frozen=True)
class Draft:
    """A message to add: who, why, and its rendered text."""

    kind: str
    panellist_id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    dedupe_key: str
    session_id: int | None = None
    round_id: int | None = None


@dataclass(frozen=True)
class Claimed:
    id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    unsubscribe_token: str


def enqueue(db: Session, draft: Draft, *, now: datetime | None = None) -> bool:
    """Add a message unless one with its dedupe key exists (no commit: the caller's service commits).
    True when it was added."""
    values = {"kind": draft.kind, "panellist_id": draft.panellist_id, "session_id": draft.session_id,
              "round_id": draft.round_id, "dedupe_key": draft.dedupe_key, "to_address": draft.to_address,
              "subject": draft.subject[:300], "body_text": draft.body_text, "body_html": draft.body_html,
              "status": MailStatus.pending, "attempts": 0, "next_attempt_at": now or utcnow(),
              "last_error": "", "created_at": now or utcnow()}
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(col(OutboxMessage.id)))
    # RETURNING rather than rowcount, which the drivers do not agree on for a skipped row.
    return db.connection().execute(statement).first() is not None


# PostgreSQL: every message in one statement, its columns as arrays (unnest) sent in binary, so
# nothing is quoted or escaped. An executemany would be sent as multi-row INSERTs whose 16,000
# placeholders the driver parses anew for each, and text arrays are escaped element by element:
# 20,000 messages took 7-9 s either way.
Q_ENQUEUE_PG = (
    "INSERT INTO outbox_message (kind, panellist_id, session_id, round_id, dedupe_key, to_address, subject, "
    "body_text, body_html, status, attempts, next_attempt_at, last_error, created_at) "
    "SELECT m.kind, m.panellist_id, m.session_id, m.round_id, m.dedupe_key, m.to_address, m.subject, "
    "m.body_text, m.body_html, %(status)s, 0, %(now)s, '', %(now)s "
    "FROM unnest(%(kind)b::text[], %(panellist_id)b::integer[], %(session_id)b::integer[], "
    "%(round_id)b::integer[], %(dedupe_key)b::text[], %(to_address)b::text[], %(subject)b::text[], "
    "%(body_text)b::text[], %(body_html)b::text[]) "
    "AS m(kind, panellist_id, session_id, round_id, dedupe_key, to_address, subject, body_text, body_html) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")


def enqueue_many(db: Session, drafts: list[Draft], *, now: datetime | None = None) -> int:
    """`enqueue` for many messages at once (no commit). Returns how many were added: those whose
    dedupe key was new (RETURNING, rather than rowcount, which the drivers do not agree on for
    skipped rows). PostgreSQL: one statement (Q_ENQUEUE_PG); SQLite: one executemany on the table,
    which SQLAlchemy sends as a few multi-row INSERTs from one compiled statement."""
    if not drafts:
        return 0
    now = now or utcnow()
    if db.get_bind().dialect.name == "postgresql":
        columns = {"kind": [d.kind for d in drafts], "panellist_id": [d.panellist_id for d in drafts],
                   "session_id": [d.session_id for d in drafts], "round_id": [d.round_id for d in drafts],
                   "dedupe_key": [d.dedupe_key for d in drafts], "to_address": [d.to_address for d in drafts],
                   "subject": [d.subject[:300] for d in drafts], "body_text": [d.body_text for d in drafts],
                   "body_html": [d.body_html for d in drafts]}
        driver = db.connection().connection.driver_connection  # psycopg: for its binary parameters (%b)
        assert driver is not None
        with driver.cursor() as cursor:
            cursor.execute(Q_ENQUEUE_PG, {**columns, "status": MailStatus.pending.value, "now": now})
            return len(cursor.fetchall())
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    rows = [{"kind": d.kind, "panellist_id": d.panellist_id, "session_id": d.session_id, "round_id": d.round_id,
             "dedupe_key": d.dedupe_key, "to_address": d.to_address, "subject": d.subject[:300],
             "body_text": d.body_text, "body_html": d.body_html, "status": MailStatus.pending.value,
             "attempts": 0, "next_attempt_at": now, "claimed_at": None, "last_error": "", "created_at": now,
             "sent_at": None} for d in drafts]
    return len(db.connection().execute(statement, rows).all())


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try."""
    wait: timedelta = BACKOFF_FIRST * (2 ** max(attempts - 1, 0))
    return min(wait, BACKOFF_MOST)


def _why_not(db: Session, message: OutboxMessage, person: Panellist | None) -> str | None:
    """Why this message must not go now (cancelled), or None."""
    if person is None or person.erased_at is not None or not person.email:
        return "The panellist's details were erased"
    if person.unsubscribed_at is not None:
        return "The panellist unsubscribed"
    if person.link_revoked_at is not None:
        return "The panellist's link was revoked"
    if message.kind in ("reminder", "invitation") and message.round_id is not None and db.connection().execute(
            Q_FINISHED, {"rid": message.round_id, "pid": person.id}).first() is not None:
        return "The panellist finished the round"
    return None


def claim(db: Session, *, now: datetime | None = None, limit: int = 20) -> list[Claimed]:
    """Claim up to `limit` due messages for this worker, and commit."""
    now = now or utcnow()
    db.exec(update(OutboxMessage).where(
        col(OutboxMessage.status) == MailStatus.sending, col(OutboxMessage.claimed_at) < now - STALE_CLAIM,
    ).values(status=MailStatus.pending, claimed_at=None))
    due = (select(OutboxMessage).where(col(OutboxMessage.status) == MailStatus.pending,
                                       col(OutboxMessage.next_attempt_at) <= now)
           .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id)).limit(limit)
           .execution_options(populate_existing=True))
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed: list[Claimed] = []
    for message in db.exec(due).all():
        person = db.get(Panellist, message.panellist_id) if message.panellist_id is not None else None
        reason = _why_not(db, message, person)
        if reason is not None or person is None or message.to_address is None:
            message.status = MailStatus.cancelled
            message.last_error = reason or "No address"
            message.to_address = None  # personal data kept no longer than it is needed
        else:
            message.status = MailStatus.sending
            message.claimed_at = now
            message.attempts += 1
            assert message.id is not None
            claimed.append(Claimed(message.id, message.to_address, message.subject, message.body_text,
                                   message.body_html, person.unsubscribe_token))
        db.add(message)
    db.commit()
    return claimed


def record_sent(db: Session, message_id: int, *, now: datetime | None = None) -> None:
    db.exec(update(OutboxMessage).where(
        col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == MailStatus.sending,
    ).values(status=MailStatus.sent, sent_at=now or utcnow(), claimed_at=None, last_error=""))
    db.commit()


def record_failure(db: Session, message_id: int, error: str, *, now: datetime | None = None) -> str:
    """A try that failed: back to pending with a later next attempt, or `failed` after the last.
    Returns the new status."""
    now = now or utcnow()
    message = db.get(OutboxMessage, message_id)
    if message is None or message.status != MailStatus.sending:
        return message.status if message is not None else ""
    message.last_error = error[:ERROR_MAX]
    message.claimed_at = None
    if message.attempts >= MAX_ATTEMPTS:
        message.status = MailStatus.failed
    else:
        message.status = MailStatus.pending
        message.next_attempt_at = now + backoff(message.attempts)
    db.add(message)
    db.commit()
    return message.status


def cancel_waiting(db: Session, panellist_id: int, reason: str, *, kind: str | None = None,
                   round_id: int | None = None) -> int:
    """Cancel a panellist's messages still waiting (no commit). Returns how many."""
    conditions = [col(OutboxMessage.panellist_id) == panellist_id,
                  col(OutboxMessage.status).in_([MailStatus.pending, MailStatus.failed])]
    if kind is not None:
        conditions.append(col(OutboxMessage.kind) == kind)
    if round_id is not None:
        conditions.append(col(OutboxMessage.round_id) == round_id)
    result = db.exec(update(OutboxMessage).where(and_(*conditions)).values(
        status=MailStatus.cancelled, last_error=reason, to_address=None))
    return int(result.rowcount or 0)


def retry(db: Session, actor: User, panel_id: int, message_id: int) -> OutboxMessage:
    """"Try again" on a failed message: pending now, with a fresh set of attempts."""
    message = db.get(OutboxMessage, message_id)
    person = db.get(Panellist, message.panellist_id) if message and message.panellist_id else None
    if message is None or person is None or person.panel_id != panel_id:
        raise NotFound("No such message on this panel")
    if message.status != MailStatus.failed:
        raise Conflict("Only a message that failed can be tried again.")
    if (reason := _why_not(db, message, person)) is not None:
        raise Conflict(f"This message cannot be sent: {reason[0].lower()}{reason[1:]}.")
    message.status, message.attempts, message.next_attempt_at = MailStatus.pending, 0, utcnow()
    db.add(message)
    audit.record(db, actor, "mail.retried", summary=f"Message {message_id} to Panellist {person.number} "
                 "queued to try again", object_type="outbox_message", object_id=message_id)
    db.commit()
    return message


def status_counts(db: Session, panel_id: int) -> dict[str, int]:
    rows = db.exec(select(OutboxMessage.status, func.count()).join(
        Panellist, col(Panellist.id) == col(OutboxMessage.panellist_id)).where(
        Panellist.panel_id == panel_id).group_by(col(OutboxMessage.status))).all()
    return {status: int(n) for status, n in rows}

