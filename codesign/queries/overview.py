"""Composite reads: everything one page needs, gathered in one database session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from codesign.errors import NotFound
from codesign.models import (
    Domain,
    Outcome,
    OutcomeRevision,
    OutcomeStatus,
    Participant,
    PopulationGroup,
    Round,
    RoundStatus,
    StakeholderGroup,
    WorkshopSession,
)
from codesign.queries.basic import (
    GroupCount,
    SourceRow,
    count_imported_voters,
    count_participants_by_group,
    get_outcome,
    get_population_group,
    get_session,
    get_stakeholder_group,
    list_domains,
    list_outcome_revisions,
    list_outcome_sources,
    list_outcomes,
    list_participant_proposals,
    list_session_proposals,
    list_sessions,
    list_stakeholder_groups,
    sources_by_outcome,
)
from codesign.queries.rounds import list_rounds

__all__ = [
    "ConsoleView",
    "OutcomeView",
    "ParticipantHome",
    "PopulationOverview",
    "get_console",
    "get_outcome_view",
    "get_participant_home",
    "get_population_overview",
    "get_session_and_group",
]


@dataclass(frozen=True)
class PopulationOverview:
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    domains: dict[str, Domain]
    outcomes: list[Outcome]
    sessions: list[WorkshopSession]


def get_population_overview(db: Session, group_id: int) -> PopulationOverview:
    group = get_population_group(db, group_id)
    if group is None:
        raise NotFound("No such population group")
    return PopulationOverview(
        group=group,
        stakeholders=list_stakeholder_groups(db, group_id),
        domains={d.key: d for d in list_domains(db, group_id)},
        outcomes=list_outcomes(db, group_id, (OutcomeStatus.accepted,)),
        sessions=list_sessions(db, group_id),
    )


def get_session_and_group(db: Session, session_id: int) -> tuple[WorkshopSession, PopulationGroup]:
    session = get_session(db, session_id)
    group = get_population_group(db, session.population_group_id) if session else None
    if session is None or group is None:
        raise NotFound("No such session")
    return session, group


@dataclass(frozen=True)
class ConsoleView:
    session: WorkshopSession
    group: PopulationGroup
    counts: list[GroupCount]
    proposals: list[Outcome]
    accepted: list[Outcome]
    sources: dict[int, list[SourceRow]]
    domains: dict[str, Domain]
    rounds: list[Round]
    imported: int  # voters imported from ballot files: not in `counts`, they never joined the room

    @property
    def joined(self) -> int:
        """People who joined the session (in the room, or online by their link) and are still in it."""
        return sum(c.count for c in self.counts)

    @property
    def pending(self) -> list[Outcome]:
        return [o for o in self.proposals if o.status == OutcomeStatus.proposed]


def get_console(db: Session, session_id: int) -> ConsoleView:
    session, group = get_session_and_group(db, session_id)
    proposals = list_session_proposals(db, session_id)
    accepted = list_outcomes(db, group.id or 0, (OutcomeStatus.accepted,))
    ids = sorted({o.id for o in proposals + accepted if o.id is not None})
    return ConsoleView(
        session=session, group=group, counts=count_participants_by_group(db, session),
        proposals=proposals, accepted=accepted, sources=sources_by_outcome(db, ids),
        domains={d.key: d for d in list_domains(db, group.id or 0)},
        rounds=list_rounds(db, session_id), imported=count_imported_voters(db, session_id),
    )


@dataclass(frozen=True)
class OutcomeView:
    session: WorkshopSession
    group: PopulationGroup
    outcome: Outcome
    sources: list[SourceRow]
    revisions: list[OutcomeRevision]
    candidates: list[Outcome]  # other live outcomes it could be merged with
    merged_into: Outcome | None
    merged_in: list[Outcome]  # outcomes merged into this one (each can be un-merged)
    domains: list[Domain]  # the population group's, to set or change the outcome's domain


def get_outcome_view(db: Session, session_id: int, outcome_id: int) -> OutcomeView:
    session, group = get_session_and_group(db, session_id)
    outcome = get_outcome(db, outcome_id)
    if outcome is None or outcome.population_group_id != group.id:
        raise NotFound("No such outcome in this session")
    live = list_outcomes(db, group.id or 0, (OutcomeStatus.accepted, OutcomeStatus.proposed))
    return OutcomeView(
        session=session, group=group, outcome=outcome, sources=list_outcome_sources(db, outcome_id),
        revisions=list_outcome_revisions(db, outcome_id),
        candidates=[o for o in live if o.id != outcome_id],
        merged_into=get_outcome(db, outcome.merged_into_id) if outcome.merged_into_id else None,
        merged_in=list(db.exec(select(Outcome).where(Outcome.merged_into_id == outcome_id)
                               .order_by(col(Outcome.id)))),
        domains=list_domains(db, group.id or 0),
    )


@dataclass(frozen=True)
class ParticipantHome:
    session: WorkshopSession
    group: PopulationGroup
    participant: Participant
    stakeholder: StakeholderGroup
    accepted: list[Outcome]
    mine: list[Outcome]
    rounds: list[Round]


def get_participant_home(db: Session, session_id: int, participant_id: int) -> ParticipantHome:
    session, group = get_session_and_group(db, session_id)
    participant = db.get(Participant, participant_id)
    if participant is None or participant.session_id != session_id:
        raise NotFound("No such participant")
    stakeholder = get_stakeholder_group(db, participant.stakeholder_group_id)
    assert stakeholder is not None
    return ParticipantHome(
        session=session, group=group, participant=participant, stakeholder=stakeholder,
        accepted=list_outcomes(db, group.id or 0, (OutcomeStatus.accepted,)),
        mine=list_participant_proposals(db, participant_id),
        rounds=[r for r in list_rounds(db, session_id) if r.status != RoundStatus.draft],
    )
