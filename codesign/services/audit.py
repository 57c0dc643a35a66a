"""The audit trail: every facilitator and commissioner action adds one event (never edited).

Events form a hash chain (codesign/audit_chain.py). `record()` only queues an event on the
session; when the calling service commits, a hook numbers the queued events, links each to the
previous one and advances the chain head, all in that same transaction. The head row is locked
(SELECT ... FOR UPDATE on PostgreSQL; SQLite's write transactions are serial already), so two
services committing at once append one after the other instead of forking the chain. Taking that
lock at commit, after the service's own changes are flushed, keeps it short and makes it every
transaction's last lock, so it cannot join a deadlock.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from codesign.audit_chain import event_hash, fields_of
from codesign.models import AuditChainHead, AuditEvent, User, utcnow

PENDING = "codesign_audit_pending"
HEAD_ID = 1


def actor_label(user: User | None) -> str:
    return user.email if user is not None else "system"


def record(
    db: Session,
    actor: User | None,
    action: str,
    *,
    summary: str,
    object_type: str = "",
    object_id: int | None = None,
    population_group_id: int | None = None,
    session_id: int | None = None,
    details: dict[str, Any] | None = None,
    label: str | None = None,
) -> AuditEvent:
    """Add an audit event to the unit of work; the calling service commits it with its change."""
    audit_event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_label=label if label is not None else actor_label(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        population_group_id=population_group_id,
        session_id=session_id,
        summary=summary[:1000],
        details=json.dumps(details or {}, sort_keys=True, default=str),
    )
    db.info.setdefault(PENDING, []).append(audit_event)
    return audit_event


@event.listens_for(OrmSession, "before_commit")
def _append_pending(db: OrmSession) -> None:
    """Chain and insert the events recorded in this transaction, in the order they were recorded."""
    pending: list[AuditEvent] = db.info.pop(PENDING, [])
    if not pending:
        return
    db.flush()  # the service's own changes first, so the head is the last row this transaction locks
    head = db.execute(select(col(AuditChainHead.seq), col(AuditChainHead.hash)).where(col(AuditChainHead.id) == HEAD_ID)
                      .with_for_update()).one_or_none()
    if head is None:
        raise RuntimeError("The audit chain head is missing: run `codesign migrate`.")
    seq, prev_hash = int(head.seq), str(head.hash)
    for audit_event in pending:
        seq += 1
        audit_event.seq, audit_event.prev_hash = seq, prev_hash
        audit_event.hash = prev_hash = event_hash(seq, prev_hash, fields_of(audit_event))
        db.add(audit_event)
    db.execute(update(AuditChainHead).where(col(AuditChainHead.id) == HEAD_ID)
               .values(seq=seq, hash=prev_hash, updated_at=utcnow()))


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_pending(db: OrmSession, transaction: SessionTransaction) -> None:
    """A rollback (or a session closed without committing) drops the events it had recorded."""
    if transaction.parent is None:
        db.info.pop(PENDING, None)
