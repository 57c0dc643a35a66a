"""Reads for the panel pages: a population group's panels, and one panel's people, sessions and
pooled rounds. Personal data (names, emails, organisations) is read here only for the panel pages,
which facilitators and admins alone may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func
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
from codesign.queries.paging import MAX_SEARCH, PER_PAGE, Page, search_where, window


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


ROOM_CHOICES = 300  # room participants offered for matching, the not-yet-matched first


@dataclass(frozen=True)
class GroupCount:
    """One stakeholder group's people on the panel, from one SQL aggregate."""

    name: str
    people: int
    erased: int
    unsubscribed: int


PeoplePage = Page[PersonRow]  # one page of the panel's people, found by name, email or panellist number


@dataclass(frozen=True)
class PanelView:
    panel: Panel
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    counts: list[GroupCount]
    people: PeoplePage
    sessions: list[SessionRow]
    attachable: list[WorkshopSession]  # sessions of the population group in no panel yet
    pooled: list[PooledRow]
    linkable: list[tuple[Round, WorkshopSession]]  # rounds not closed and not pooled yet
    room_people: list[ParticipantChoice]  # participants of the panel's room sessions, for matching (bounded)
    room_total: int  # all of them, to say when only the first ROOM_CHOICES are offered


def _group_counts(db: Session, panel_id: int, stakeholders: list[StakeholderGroup]) -> list[GroupCount]:
    rows = db.exec(select(Panellist.stakeholder_group_id, func.count(),
                          func.count(col(Panellist.erased_at)), func.count(col(Panellist.unsubscribed_at)))
                   .where(Panellist.panel_id == panel_id).group_by(col(Panellist.stakeholder_group_id))).all()
    by_group: dict[int | None, tuple[int, int, int]] = {gid: (n, erased, unsubscribed)
                                                          for gid, n, erased, unsubscribed in rows}
    return [GroupCount(g.name, *by_group.get(g.id, (0, 0, 0))) for g in stakeholders]


def _matching(panel_id: int, search: str) -> Any:
    """The WHERE of the people list: the panel's people, narrowed by the search if there is one. A
    number finds that panellist; text finds names and emails containing it (any case)."""
    where = [col(Panellist.panel_id) == panel_id]
    found = search_where(search, col(Panellist.number), (col(Panellist.name), col(Panellist.email)), "panellist")
    if found is not None:
        where.append(found)
    return and_(*where)


def _people_page(db: Session, panel_id: int, search: str, page: int, names: dict[int | None, str],
                 total: int) -> PeoplePage:
    search = search.strip()[:MAX_SEARCH]
    where = _matching(panel_id, search)
    found = total if not search else db.exec(select(func.count()).select_from(Panellist).where(where)).one()
    page, pages, offset = window(found, page)
    people = list(db.exec(select(Panellist).where(where).order_by(col(Panellist.number))
                          .offset(offset).limit(PER_PAGE)))
    took_part: dict[int, list[str]] = {}
    if people:  # the sessions of just this page's people, in the sessions' order
        rows = db.exec(select(Participant.panellist_id, WorkshopSession.id, WorkshopSession.title)
                       .join(WorkshopSession, col(WorkshopSession.id) == col(Participant.session_id))
                       .where(col(Participant.panellist_id).in_([p.id for p in people]))
                       .distinct().order_by(col(WorkshopSession.id))).all()
        for panellist_id, _session_id, title in rows:
            seen = took_part.setdefault(panellist_id or 0, [])
            if title not in seen:
                seen.append(title)
    rows_out = [PersonRow(p, names.get(p.stakeholder_group_id, ""), took_part.get(p.id or 0, [])) for p in people]
    return Page(rows_out, search, page, pages, found, total)


def _room_people(db: Session, room_ids: list[int], titles: dict[int | None, WorkshopSession],
                 names: dict[int | None, str]) -> tuple[list[ParticipantChoice], int]:
    """Participants still in the panel's room sessions, the not-yet-matched first, at most ROOM_CHOICES."""
    if not room_ids:
        return [], 0
    where = and_(col(Participant.session_id).in_(room_ids), col(Participant.removed_at).is_(None),
                 col(Participant.merged_into_id).is_(None))
    total = db.exec(select(func.count()).select_from(Participant).where(where)).one()
    rows = db.exec(select(Participant, Panellist.number).outerjoin(
        Panellist, col(Panellist.id) == col(Participant.panellist_id)).where(where)
        .order_by(col(Participant.panellist_id).is_not(None), col(Participant.session_id), col(Participant.number))
        .limit(ROOM_CHOICES)).all()
    return [ParticipantChoice(p, titles[p.session_id], names.get(p.stakeholder_group_id, ""), number)
            for p, number in rows], total


def get_panel_view(db: Session, panel_id: int, *, search: str = "", page: int = 1) -> PanelView:
    """The panel page: its sessions and pooled rounds, per-group counts, and one page of its people
    (PER_PAGE, by number, narrowed by `search`). A fixed number of queries whatever the panel's size."""
    panel = get_panel(db, panel_id)
    group = db.get(PopulationGroup, panel.population_group_id)
    assert group is not None
    stakeholders = list(db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == group.id).order_by(col(StakeholderGroup.id))))
    names: dict[int | None, str] = {g.id: g.name for g in stakeholders}
    sessions = list(db.exec(select(WorkshopSession).where(WorkshopSession.panel_id == panel_id)
                            .order_by(col(WorkshopSession.id))))
    titles: dict[int | None, WorkshopSession] = {s.id: s for s in sessions}
    counts = _group_counts(db, panel_id, stakeholders)
    people = _people_page(db, panel_id, search, page, names, sum(c.people for c in counts))
    rounds = list(db.exec(select(Round).where(col(Round.session_id).in_(list(titles)))
                          .order_by(col(Round.session_id), col(Round.number)))) if titles else []
    pooled = list(db.exec(select(PanelRound).where(PanelRound.panel_id == panel_id).order_by(col(PanelRound.number))))
    room_people, room_total = _room_people(db, [s.id for s in sessions if s.mode == "room" and s.id is not None],
                                           titles, names)
    return PanelView(
        panel=panel, group=group, stakeholders=stakeholders, counts=counts, people=people,
        sessions=[SessionRow(s, [r for r in rounds if r.session_id == s.id]) for s in sessions],
        attachable=list(db.exec(select(WorkshopSession).where(
            WorkshopSession.population_group_id == group.id, col(WorkshopSession.panel_id).is_(None))
            .order_by(col(WorkshopSession.id)))),
        pooled=[PooledRow(pr, [(r, titles[r.session_id]) for r in rounds if r.panel_round_id == pr.id])
                for pr in pooled],
        linkable=[(r, titles[r.session_id]) for r in rounds
                  if r.status != RoundStatus.closed and r.panel_round_id is None and not r.table_based],
        room_people=room_people, room_total=room_total,
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
