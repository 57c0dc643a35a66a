"""Reads for the panel pages: a population group's panels, and one panel's people, sessions and
pooled rounds. Personal data (names, emails, organisations) is read here only for the panel pages,
which facilitators and admins alone may open."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from codesign.errors import NotFound
from codesign.models import (
    Panel,
    Panellist,
    PanelRound,
    Participant,
    PopulationGroup,
    Round,
    RoundStatus,
    StakeholderGroup,
    WorkshopSession,
)


def get_panel(db: Session, panel_id: int) -> Panel:
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    return panel


@dataclass(frozen=True)
class PanelsView:
    group: PopulationGroup
    panels: list[tuple[Panel, int, int]]  # the panel, its people and its sessions


def list_panels(db: Session, group_id: int) -> PanelsView:
    group = db.get(PopulationGroup, group_id)
    if group is None:
        raise NotFound("No such population group")
    found = db.exec(select(Panel).where(Panel.population_group_id == group_id).order_by(col(Panel.name))).all()
    rows = [(p, len(db.exec(select(Panellist.id).where(Panellist.panel_id == p.id)).all()),
             len(db.exec(select(WorkshopSession.id).where(WorkshopSession.panel_id == p.id)).all())) for p in found]
    return PanelsView(group, rows)


@dataclass(frozen=True)
class PersonRow:
    panellist: Panellist
    group: str
    sessions: list[str]  # titles of the sessions they took part in

    @property
    def erased(self) -> bool:
        return self.panellist.erased_at is not None


@dataclass(frozen=True)
class SessionRow:
    session: WorkshopSession
    rounds: list[Round]


@dataclass(frozen=True)
class PooledRow:
    panel_round: PanelRound
    members: list[tuple[Round, WorkshopSession]]

    @property
    def closed(self) -> int:
        return sum(1 for r, _s in self.members if r.status == RoundStatus.closed)


@dataclass(frozen=True)
class ParticipantChoice:
    participant: Participant
    session: WorkshopSession
    group: str
    panellist_number: int | None


@dataclass(frozen=True)
class PanelView:
    panel: Panel
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    people: list[PersonRow]
    sessions: list[SessionRow]
    attachable: list[WorkshopSession]  # sessions of the population group in no panel yet
    pooled: list[PooledRow]
    linkable: list[tuple[Round, WorkshopSession]]  # rounds not closed and not pooled yet
    room_people: list[ParticipantChoice]  # participants of the panel's room sessions, for matching


def get_panel_view(db: Session, panel_id: int) -> PanelView:
    panel = get_panel(db, panel_id)
    group = db.get(PopulationGroup, panel.population_group_id)
    assert group is not None
    stakeholders = list(db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == group.id).order_by(col(StakeholderGroup.id))))
    names = {g.id: g.name for g in stakeholders}
    sessions = list(db.exec(select(WorkshopSession).where(WorkshopSession.panel_id == panel_id)
                            .order_by(col(WorkshopSession.id))))
    titles = {s.id: s for s in sessions}
    people = list(db.exec(select(Panellist).where(Panellist.panel_id == panel_id).order_by(col(Panellist.number))))
    participants = list(db.exec(select(Participant).where(col(Participant.session_id).in_(list(titles)))
                                .order_by(col(Participant.session_id), col(Participant.number)))) if titles else []
    took_part: dict[int, list[str]] = {}
    for p in participants:
        if p.panellist_id is not None:
            seen = took_part.setdefault(p.panellist_id, [])
            if titles[p.session_id].title not in seen:
                seen.append(titles[p.session_id].title)
    numbers = {p.id: p.number for p in people}
    rounds = list(db.exec(select(Round).where(col(Round.session_id).in_(list(titles)))
                          .order_by(col(Round.session_id), col(Round.number)))) if titles else []
    pooled = list(db.exec(select(PanelRound).where(PanelRound.panel_id == panel_id).order_by(col(PanelRound.number))))
    return PanelView(
        panel=panel, group=group, stakeholders=stakeholders,
        people=[PersonRow(p, names.get(p.stakeholder_group_id, ""), took_part.get(p.id or 0, [])) for p in people],
        sessions=[SessionRow(s, [r for r in rounds if r.session_id == s.id]) for s in sessions],
        attachable=list(db.exec(select(WorkshopSession).where(
            WorkshopSession.population_group_id == group.id, col(WorkshopSession.panel_id).is_(None))
            .order_by(col(WorkshopSession.id)))),
        pooled=[PooledRow(pr, [(r, titles[r.session_id]) for r in rounds if r.panel_round_id == pr.id])
                for pr in pooled],
        linkable=[(r, titles[r.session_id]) for r in rounds
                  if r.status != RoundStatus.closed and r.panel_round_id is None and not r.table_based],
        room_people=[ParticipantChoice(p, titles[p.session_id], names.get(p.stakeholder_group_id, ""),
                                       numbers.get(p.panellist_id) if p.panellist_id else None)
                     for p in participants if titles[p.session_id].mode == "room" and p.in_room],
    )


def get_panellist(db: Session, panel_id: int, panellist_id: int) -> Panellist:
    found = db.get(Panellist, panellist_id)
    if found is None or found.panel_id != panel_id:
        raise NotFound("No such panellist on this panel")
    return found


def other_panel_sessions(db: Session, session_id: int, round_id: int) -> tuple[Round, WorkshopSession,
                                                                                 list[WorkshopSession]]:
    """For "run this round in other sessions too": the round, its session, and the panel's others."""
    found = db.get(Round, round_id)
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    session = db.get(WorkshopSession, session_id)
    assert session is not None
    if session.panel_id is None:
        return found, session, []
    others = list(db.exec(select(WorkshopSession).where(WorkshopSession.panel_id == session.panel_id,
                                                        WorkshopSession.id != session_id)
                          .order_by(col(WorkshopSession.id))))
    return found, session, others
