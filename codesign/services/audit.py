"""The audit trail: every facilitator and commissioner action adds one event (never edited)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from codesign.models import AuditEvent, User


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
    event = AuditEvent(
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
    db.add(event)
    return event
