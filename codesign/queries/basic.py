"""Basic reads: one table or one join each."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import Session, col, select

from codesign.models import (
    AuditEvent,
    Domain,
    Outcome,
    OutcomeRevision,
    OutcomeSource,
    OutcomeStatus,
    Participant,
    PopulationGroup,
    StakeholderGroup,
    User,
    WorkshopSession,
)


def get_user(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def list_users(db: Session) -> list[User]:
    return list(db.exec(select(User).order_by(col(User.email))))


def count_users(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(User)).one())


def get_population_group(db: Session, group_id: int) -> PopulationGroup | None:
    return db.get(PopulationGroup, group_id)


@dataclass(frozen=True)
class PopulationSummary:
    group: PopulationGroup
    outcomes: int
    sessions: int


def list_population_groups(db: Session) -> list[PopulationSummary]:
    outcome_counts = dict(db.exec(
        select(Outcome.population_group_id, func.count())
        .where(col(Outcome.status).in_([OutcomeStatus.accepted, OutcomeStatus.proposed]))
        .group_by(col(Outcome.population_group_id))
    ).all())
    session_counts = dict(db.exec(
        select(WorkshopSession.population_group_id, func.count()).group_by(col(WorkshopSession.population_group_id))
    ).all())
    groups = db.exec(select(PopulationGroup).order_by(col(PopulationGroup.created_at).desc())).all()
    return [
        PopulationSummary(g, int(outcome_counts.get(g.id or 0, 0)), int(session_counts.get(g.id or 0, 0)))
        for g in groups
    ]


def list_stakeholder_groups(db: Session, population_group_id: int) -> list[StakeholderGroup]:
    return list(db.exec(
        select(StakeholderGroup).where(StakeholderGroup.population_group_id == population_group_id)
        .order_by(col(StakeholderGroup.position))
    ))


def list_domains(db: Session, population_group_id: int) -> list[Domain]:
    return list(db.exec(
        select(Domain).where(Domain.population_group_id == population_group_id).order_by(col(Domain.position))
    ))


def get_session(db: Session, session_id: int) -> WorkshopSession | None:
    return db.get(WorkshopSession, session_id)


def get_session_by_code(db: Session, code: str) -> WorkshopSession | None:
    return db.exec(select(WorkshopSession).where(WorkshopSession.join_code == code)).first()


def list_sessions(db: Session, population_group_id: int | None = None) -> list[WorkshopSession]:
    stmt = select(WorkshopSession).order_by(col(WorkshopSession.created_at).desc())
    if population_group_id is not None:
        stmt = stmt.where(WorkshopSession.population_group_id == population_group_id)
    return list(db.exec(stmt))


@dataclass(frozen=True)
class GroupCount:
    group: StakeholderGroup
    count: int


def in_room() -> ColumnElement[bool]:
    """People still in the room: not removed by the facilitator, nor merged into someone else."""
    return and_(col(Participant.removed_at).is_(None), col(Participant.merged_into_id).is_(None))


def count_participants_by_group(db: Session, session: WorkshopSession) -> list[GroupCount]:
    """Who joined, per group: removed people and merged duplicates are not counted, nor voters
    imported from a ballot file, who never joined (count_imported_voters counts them)."""
    counts = dict(db.exec(
        select(Participant.stakeholder_group_id, func.count())
        .where(Participant.session_id == session.id, in_room(), col(Participant.external_ref).is_(None))
        .group_by(col(Participant.stakeholder_group_id))
    ).all())
    groups = list_stakeholder_groups(db, session.population_group_id)
    return [GroupCount(g, int(counts.get(g.id or 0, 0))) for g in groups]


def count_imported_voters(db: Session, session_id: int) -> int:
    """Voters named in ballot files imported into the session's rounds (paper, another survey tool)."""
    return int(db.exec(select(func.count()).select_from(Participant).where(
        Participant.session_id == session_id, col(Participant.external_ref).is_not(None))).one())


def get_participant_by_token(db: Session, session_id: int, token: str) -> Participant | None:
    return db.exec(
        select(Participant).where(Participant.token == token, Participant.session_id == session_id)
    ).first()


def get_stakeholder_group(db: Session, group_id: int) -> StakeholderGroup | None:
    return db.get(StakeholderGroup, group_id)


def list_outcomes(
    db: Session, population_group_id: int, statuses: tuple[str, ...] = (OutcomeStatus.accepted,)
) -> list[Outcome]:
    return list(db.exec(
        select(Outcome).where(Outcome.population_group_id == population_group_id,
                              col(Outcome.status).in_(statuses))
        .order_by(col(Outcome.created_at), col(Outcome.id))
    ))


def list_session_proposals(db: Session, session_id: int) -> list[Outcome]:
    """Everything participants proposed in this session, oldest first: a proposal arriving while
    the facilitator reads the list (it refreshes itself) goes to the bottom, so the Accept button
    under their pointer never becomes another proposal's."""
    return list(db.exec(
        select(Outcome).where(Outcome.session_id == session_id, Outcome.source == "participant")
        .order_by(col(Outcome.created_at), col(Outcome.id))
    ))


def list_participant_proposals(db: Session, participant_id: int) -> list[Outcome]:
    return list(db.exec(
        select(Outcome).join(OutcomeSource, col(OutcomeSource.outcome_id) == col(Outcome.id))
        .where(OutcomeSource.participant_id == participant_id, col(OutcomeSource.via_outcome_id).is_(None))
        .order_by(col(Outcome.created_at).desc())
    ))


def get_outcome(db: Session, outcome_id: int) -> Outcome | None:
    return db.get(Outcome, outcome_id)


@dataclass(frozen=True)
class SourceRow:
    source: OutcomeSource
    group_name: str


def list_outcome_sources(db: Session, outcome_id: int) -> list[SourceRow]:
    rows = db.exec(
        select(OutcomeSource, StakeholderGroup)
        .join(StakeholderGroup, col(OutcomeSource.stakeholder_group_id) == col(StakeholderGroup.id), isouter=True)
        .where(OutcomeSource.outcome_id == outcome_id).order_by(col(OutcomeSource.id))
    ).all()
    return [SourceRow(s, g.name if g else "") for s, g in rows]


def sources_by_outcome(db: Session, outcome_ids: list[int]) -> dict[int, list[SourceRow]]:
    if not outcome_ids:
        return {}
    rows = db.exec(
        select(OutcomeSource, StakeholderGroup)
        .join(StakeholderGroup, col(OutcomeSource.stakeholder_group_id) == col(StakeholderGroup.id), isouter=True)
        .where(col(OutcomeSource.outcome_id).in_(outcome_ids)).order_by(col(OutcomeSource.id))
    ).all()
    found: dict[int, list[SourceRow]] = {i: [] for i in outcome_ids}
    for source, group in rows:
        found[source.outcome_id].append(SourceRow(source, group.name if group else ""))
    return found


def list_outcome_revisions(db: Session, outcome_id: int) -> list[OutcomeRevision]:
    return list(db.exec(
        select(OutcomeRevision).where(OutcomeRevision.outcome_id == outcome_id).order_by(col(OutcomeRevision.id))
    ))


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    details: dict[str, Any] = field(default_factory=dict)


def list_audit_events(
    db: Session,
    *,
    population_group_id: int | None = None,
    session_id: int | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[AuditRow]:
    stmt = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if population_group_id is not None:
        stmt = stmt.where(AuditEvent.population_group_id == population_group_id)
    if session_id is not None:
        stmt = stmt.where(AuditEvent.session_id == session_id)
    if before_id is not None:
        stmt = stmt.where(col(AuditEvent.id) < before_id)
    return [AuditRow(e, json.loads(e.details or "{}")) for e in db.exec(stmt)]


def is_database_empty(db: Session) -> bool:
    return db.exec(select(PopulationGroup.id).limit(1)).first() is None and count_users(db) == 0
