"""Undoing moderation: un-merge an outcome merged by mistake, and set or change an outcome's domain.

An un-merge is the inverse of services/proposals.py::merge_outcomes: the merged-away outcome comes
back with its own wording and the status it had before, and the copies of its sources that the
merge put on the other outcome are removed. Nothing else moves: rounds and ballots refer to
outcome ids, so whatever was voted on as the merged outcome stays as it was. The merge and the
un-merge both stay in each outcome's history and in the audit log.
"""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    AuditEvent,
    Domain,
    Outcome,
    OutcomeRevision,
    OutcomeSource,
    OutcomeSourceKind,
    OutcomeStatus,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.services import audit
from codesign.validation import check_text, normalise_paragraphs, normalise_text

REASON_MAX = 1000


def _outcome(db: Session, session_id: int, outcome_id: int) -> tuple[Outcome, WorkshopSession]:
    session = db.get(WorkshopSession, session_id)
    # Locked (PostgreSQL) so two facilitators undoing the same merge do it once.
    outcome = db.exec(select(Outcome).where(Outcome.id == outcome_id).with_for_update()
                      .execution_options(populate_existing=True)).first()
    if session is None or outcome is None or outcome.population_group_id != session.population_group_id:
        raise NotFound("No such outcome in this session")
    return outcome, session


def _status_before_merge(db: Session, outcome: Outcome) -> str:
    """The status recorded by the merge (merge_outcomes keeps it in the audit event); for a merge
    recorded before that, what a new outcome from its source starts as."""
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "outcome.merged",
                                              AuditEvent.object_id == outcome.merged_into_id)
                     .order_by(col(AuditEvent.id).desc())).all()
    for event in events:
        details = json.loads(event.details or "{}")
        if outcome.id in details.get("merged", []):
            before = details.get("from_status", {}).get(str(outcome.id))
            if before in (OutcomeStatus.proposed, OutcomeStatus.accepted, OutcomeStatus.withdrawn):
                return str(before)
            break
    return OutcomeStatus.proposed if outcome.source == OutcomeSourceKind.participant else OutcomeStatus.accepted


def unmerge_outcome(db: Session, actor: User, session_id: int, outcome_id: int, reason: str) -> Outcome:
    """Split a merged outcome off again (reason required)."""
    why = normalise_paragraphs(reason)
    errors: dict[str, str] = {}
    check_text(errors, "reason", why, label="the reason for un-merging", max_length=REASON_MAX)
    if errors:
        raise ValidationFailed(errors, {"reason": reason})
    outcome, session = _outcome(db, session_id, outcome_id)
    if outcome.status != OutcomeStatus.merged or outcome.merged_into_id is None:
        raise Conflict("This outcome is not merged into another, so there is nothing to un-merge.")
    target = db.exec(select(Outcome).where(Outcome.id == outcome.merged_into_id).with_for_update()
                     .execution_options(populate_existing=True)).one()
    if target.status == OutcomeStatus.merged:
        # Its sources went on with the target into a third outcome: undo that merge first.
        raise Conflict(f"“{target.statement}”, which this outcome was merged into, has since been merged into "
                       "another outcome. Un-merge that first.")
    status = _status_before_merge(db, outcome)
    removed: list[int] = []
    copies = list(db.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == target.id)
                          .order_by(col(OutcomeSource.id))))
    for source in db.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == outcome.id)):
        # The merge copied each of this outcome's sources onto the target; remove one copy each.
        wanted = (source.kind, source.participant_id, source.stakeholder_group_id, source.session_id,
                  source.statement, source.note, source.via_outcome_id or outcome.id)
        for copy in copies:
            if copy.id not in removed and (copy.kind, copy.participant_id, copy.stakeholder_group_id,
                                           copy.session_id, copy.statement, copy.note, copy.via_outcome_id) == wanted:
                removed.append(copy.id or 0)
                db.delete(copy)
                break
    now = utcnow()
    outcome.status = status
    outcome.merged_into_id = None
    outcome.updated_at = target.updated_at = now
    db.add_all([outcome, target])
    db.add(OutcomeRevision(outcome_id=outcome.id or 0, action="unmerged", old_statement=target.statement,
                           new_statement=outcome.statement, reason=why, related_outcome_id=target.id,
                           actor_id=actor.id))
    db.add(OutcomeRevision(outcome_id=target.id or 0, action="unmerged_out", old_statement=outcome.statement,
                           new_statement=target.statement, reason=why, related_outcome_id=outcome.id,
                           actor_id=actor.id))
    audit.record(
        db, actor, "outcome.unmerged",
        summary=f"Un-merged “{outcome.statement}” from “{target.statement}”; it is {status} again. Reason: {why}",
        object_type="outcome", object_id=outcome.id, population_group_id=session.population_group_id,
        session_id=session.id, details={"outcome": outcome.id, "from": target.id, "status": status,
                                        "sources_removed_from_target": removed, "reason": why},
    )
    db.commit()
    return outcome


def set_outcome_domain(db: Session, actor: User, session_id: int, outcome_id: int, domain_key: str) -> Outcome:
    """Set, change or clear ("") an outcome's domain, from its population group's domains."""
    key = normalise_text(domain_key)
    outcome, session = _outcome(db, session_id, outcome_id)
    domains = {d.key: d for d in db.exec(select(Domain).where(
        Domain.population_group_id == session.population_group_id))}
    if key and key not in domains:
        raise ValidationFailed({"domain": "Choose one of this population group’s domains, or no domain"},
                               {"domain": domain_key})
    if outcome.status == OutcomeStatus.merged:
        raise Conflict("This outcome was merged into another; set the domain on that one instead.")
    before = outcome.domain_key
    if (before or "") == key:
        return outcome
    old_name = domains[before].name if before in domains else (before or "no domain")
    new_name = domains[key].name if key else "no domain"
    outcome.domain_key = key or None
    outcome.updated_at = utcnow()
    db.add(outcome)
    db.add(OutcomeRevision(outcome_id=outcome.id or 0, action="domain_changed", old_statement=outcome.statement,
                           new_statement=outcome.statement, reason=f"Domain: {old_name} → {new_name}",
                           actor_id=actor.id))
    audit.record(db, actor, "outcome.domain_changed",
                 summary=f"Domain of “{outcome.statement}” changed from {old_name} to {new_name}",
                 object_type="outcome", object_id=outcome.id, population_group_id=session.population_group_id,
                 session_id=session.id, details={"before": before, "after": key or None})
    db.commit()
    return outcome
