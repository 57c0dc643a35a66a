"""Proposals from participants, and the facilitator's moderation: accept, reword, merge, withdraw.

Every change keeps who, when and why (OutcomeRevision) and adds an audit event. A merge copies the
merged outcome's sources onto the outcome it joins, so provenance and stakeholder groups survive.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    Outcome,
    OutcomeRevision,
    OutcomeSource,
    OutcomeSourceKind,
    OutcomeStatus,
    Participant,
    SessionStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.services import audit
from codesign.validation import check_text, normalise_paragraphs, normalise_text

STATEMENT_MAX = 200
DESCRIPTION_MAX = 1000
REASON_MAX = 1000


def _clean_outcome_text(statement: str, description: str) -> tuple[str, str, dict[str, str]]:
    statement = normalise_text(statement)
    description = normalise_paragraphs(description)
    errors: dict[str, str] = {}
    check_text(errors, "statement", statement, label="the outcome", max_length=STATEMENT_MAX)
    check_text(errors, "description", description, label="the description", required=False,
               max_length=DESCRIPTION_MAX)
    return statement, description, errors


def _reason(errors: dict[str, str], raw: str, *, required: bool) -> str:
    reason = normalise_paragraphs(raw)
    check_text(errors, "reason", reason, label="the reason", required=required, max_length=REASON_MAX)
    return reason


def propose_outcome(
    db: Session, session_id: int, participant_id: int, statement: str, description: str = ""
) -> Outcome:
    # Share-locked (PostgreSQL) so a proposal never lands after "Close session" commits.
    session = db.exec(select(WorkshopSession).where(WorkshopSession.id == session_id)
                      .with_for_update(read=True).execution_options(populate_existing=True)).first()
    participant = db.get(Participant, participant_id)
    if session is None or participant is None or participant.session_id != session.id:
        raise NotFound("No such session")
    if not participant.in_room:  # removed, or merged into another participant (services.people)
        raise Conflict("You are no longer in this session, so your idea was not sent.")
    statement, description, errors = _clean_outcome_text(statement, description)
    if errors:
        raise ValidationFailed(errors, {"statement": statement, "description": description})
    if session.status != SessionStatus.open or not session.proposals_open:
        raise Conflict("Proposals are closed for this session. Your idea was not saved; "
                       "tell the facilitator or a helper at your table.")
    outcome = Outcome(
        population_group_id=session.population_group_id, session_id=session.id, statement=statement,
        description=description, status=OutcomeStatus.proposed, source=OutcomeSourceKind.participant,
    )
    db.add(outcome)
    db.flush()
    assert outcome.id is not None
    db.add(OutcomeSource(
        outcome_id=outcome.id, kind=OutcomeSourceKind.participant, participant_id=participant.id,
        stakeholder_group_id=participant.stakeholder_group_id, session_id=session.id, statement=statement,
    ))
    db.add(OutcomeRevision(outcome_id=outcome.id, action="proposed", new_statement=statement))
    group = db.get(StakeholderGroup, participant.stakeholder_group_id)
    audit.record(
        db, None, "outcome.proposed", label=f"participant {participant.id} ({group.name if group else '?'})",
        summary=f"Proposed: “{statement}”", object_type="outcome", object_id=outcome.id,
        population_group_id=session.population_group_id, session_id=session.id,
    )
    db.commit()
    return outcome


def add_outcome(
    db: Session, actor: User, session_id: int, statement: str, description: str = "", domain_key: str = ""
) -> Outcome:
    """A facilitator adds an outcome directly (already accepted)."""
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    statement, description, errors = _clean_outcome_text(statement, description)
    if errors:
        raise ValidationFailed(errors, {"statement": statement, "description": description})
    outcome = Outcome(
        population_group_id=session.population_group_id, session_id=session.id, statement=statement,
        description=description, domain_key=normalise_text(domain_key) or None,
        status=OutcomeStatus.accepted, source=OutcomeSourceKind.facilitator,
    )
    db.add(outcome)
    db.flush()
    assert outcome.id is not None
    db.add(OutcomeSource(outcome_id=outcome.id, kind=OutcomeSourceKind.facilitator, session_id=session.id,
                         statement=statement, note=f"added by {actor.email}"))
    db.add(OutcomeRevision(outcome_id=outcome.id, action="added", new_statement=statement, actor_id=actor.id))
    audit.record(db, actor, "outcome.added", summary=f"Added: “{statement}”", object_type="outcome",
                 object_id=outcome.id, population_group_id=session.population_group_id, session_id=session.id)
    db.commit()
    return outcome


def _outcome_in_session(db: Session, outcome_id: int, session_id: int) -> tuple[Outcome, WorkshopSession]:
    session = db.get(WorkshopSession, session_id)
    outcome = db.get(Outcome, outcome_id)
    if session is None or outcome is None or outcome.population_group_id != session.population_group_id:
        raise NotFound("No such outcome in this session")
    return outcome, session


def _touch(db: Session, outcome: Outcome) -> None:
    outcome.updated_at = utcnow()
    db.add(outcome)


def accept_outcome(db: Session, actor: User, session_id: int, outcome_id: int) -> Outcome:
    outcome, session = _outcome_in_session(db, outcome_id, session_id)
    if outcome.status == OutcomeStatus.accepted:
        return outcome
    if outcome.status == OutcomeStatus.merged:
        raise Conflict("This outcome was merged into another; accept that one instead.")
    before = outcome.status
    outcome.status = OutcomeStatus.accepted
    _touch(db, outcome)
    db.add(OutcomeRevision(outcome_id=outcome_id, action="accepted", old_statement=outcome.statement,
                           new_statement=outcome.statement, actor_id=actor.id))
    audit.record(db, actor, "outcome.accepted", summary=f"Accepted: “{outcome.statement}”",
                 object_type="outcome", object_id=outcome_id, population_group_id=session.population_group_id,
                 session_id=session.id, details={"from_status": before})
    db.commit()
    return outcome


def reword_outcome(
    db: Session, actor: User, session_id: int, outcome_id: int, statement: str, reason: str,
    description: str | None = None,
) -> Outcome:
    outcome, session = _outcome_in_session(db, outcome_id, session_id)
    new_statement, new_description, errors = _clean_outcome_text(
        statement, outcome.description if description is None else description)
    why = _reason(errors, reason, required=True)
    if not errors and new_statement == outcome.statement and new_description == outcome.description:
        errors["statement"] = "The new wording is the same as the old one"
    if errors:
        raise ValidationFailed(errors, {"statement": statement, "reason": reason,
                                        "description": description or ""})
    if outcome.status == OutcomeStatus.merged:
        raise Conflict("This outcome was merged into another; reword that one instead.")
    old = outcome.statement
    outcome.statement = new_statement
    outcome.description = new_description
    _touch(db, outcome)
    db.add(OutcomeRevision(outcome_id=outcome_id, action="reworded", old_statement=old,
                           new_statement=new_statement, reason=why, actor_id=actor.id))
    audit.record(db, actor, "outcome.reworded", summary=f"Reworded “{old}” → “{new_statement}”. Reason: {why}",
                 object_type="outcome", object_id=outcome_id, population_group_id=session.population_group_id,
                 session_id=session.id, details={"old": old, "new": new_statement, "reason": why})
    db.commit()
    return outcome


def merge_outcomes(
    db: Session, actor: User, session_id: int, target_id: int, merged_ids: Sequence[int], reason: str = ""
) -> Outcome:
    """Merge duplicates into `target_id`. The target keeps every source and its stakeholder group."""
    target, session = _outcome_in_session(db, target_id, session_id)
    errors: dict[str, str] = {}
    why = _reason(errors, reason, required=False)
    ids = sorted({i for i in merged_ids if i != target_id})
    if not ids:
        errors["merge"] = "Choose at least one other outcome to merge into this one"
    if target.status in (OutcomeStatus.merged, OutcomeStatus.withdrawn):
        errors["target"] = "Merge into an outcome that is proposed or accepted"
    if errors:
        raise ValidationFailed(errors, {"reason": reason})
    merged: list[Outcome] = []
    for oid in ids:
        other, _ = _outcome_in_session(db, oid, session_id)
        if other.status == OutcomeStatus.merged:
            raise Conflict(f"“{other.statement}” was already merged into another outcome.")
        merged.append(other)
    # Kept in the audit event, so an un-merge (services/outcome_control.py) restores it.
    from_status = {str(o.id): o.status for o in merged}
    for other in merged:
        assert other.id is not None
        for source in db.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == other.id)).all():
            db.add(OutcomeSource(
                outcome_id=target_id, kind=source.kind, participant_id=source.participant_id,
                stakeholder_group_id=source.stakeholder_group_id, session_id=source.session_id,
                statement=source.statement, note=source.note,
                via_outcome_id=source.via_outcome_id or other.id,
            ))
        other.status = OutcomeStatus.merged
        other.merged_into_id = target_id
        _touch(db, other)
        db.add(OutcomeRevision(outcome_id=other.id, action="merged", old_statement=other.statement,
                               new_statement=target.statement, reason=why, related_outcome_id=target_id,
                               actor_id=actor.id))
        db.add(OutcomeRevision(outcome_id=target_id, action="merged_in", old_statement=other.statement,
                               new_statement=target.statement, reason=why, related_outcome_id=other.id,
                               actor_id=actor.id))
    _touch(db, target)
    audit.record(
        db, actor, "outcome.merged",
        summary=f"Merged {', '.join('“' + o.statement + '”' for o in merged)} into “{target.statement}”"
        + (f". Reason: {why}" if why else ""),
        object_type="outcome", object_id=target_id, population_group_id=session.population_group_id,
        session_id=session.id, details={"target": target_id, "merged": ids, "reason": why,
                                        "from_status": from_status},
    )
    db.commit()
    return target


def withdraw_outcome(db: Session, actor: User, session_id: int, outcome_id: int, reason: str) -> Outcome:
    outcome, session = _outcome_in_session(db, outcome_id, session_id)
    errors: dict[str, str] = {}
    why = _reason(errors, reason, required=True)
    if errors:
        raise ValidationFailed(errors, {"reason": reason})
    if outcome.status in (OutcomeStatus.withdrawn, OutcomeStatus.merged):
        raise Conflict(f"This outcome is already {outcome.status}.")
    before = outcome.status
    outcome.status = OutcomeStatus.withdrawn
    _touch(db, outcome)
    db.add(OutcomeRevision(outcome_id=outcome_id, action="withdrawn", old_statement=outcome.statement,
                           new_statement=outcome.statement, reason=why, actor_id=actor.id))
    audit.record(db, actor, "outcome.withdrawn", summary=f"Withdrawn: “{outcome.statement}”. Reason: {why}",
                 object_type="outcome", object_id=outcome_id, population_group_id=session.population_group_id,
                 session_id=session.id, details={"from_status": before, "reason": why})
    db.commit()
    return outcome


def restore_outcome(db: Session, actor: User, session_id: int, outcome_id: int, reason: str) -> Outcome:
    """Undo a withdrawal (a facilitator recovering from a mistake); the outcome returns as proposed."""
    outcome, session = _outcome_in_session(db, outcome_id, session_id)
    errors: dict[str, str] = {}
    why = _reason(errors, reason, required=True)
    if errors:
        raise ValidationFailed(errors, {"reason": reason})
    if outcome.status != OutcomeStatus.withdrawn:
        raise Conflict("Only a withdrawn outcome can be restored.")
    outcome.status = OutcomeStatus.proposed
    _touch(db, outcome)
    db.add(OutcomeRevision(outcome_id=outcome_id, action="restored", old_statement=outcome.statement,
                           new_statement=outcome.statement, reason=why, actor_id=actor.id))
    audit.record(db, actor, "outcome.restored", summary=f"Restored: “{outcome.statement}”. Reason: {why}",
                 object_type="outcome", object_id=outcome_id, population_group_id=session.population_group_id,
                 session_id=session.id, details={"reason": why})
    db.commit()
    return outcome
