"""The facilitator's people list: everyone of a session, with their group, table, when they joined
and how far they got in each round; a page at a time (queries.paging), found by number, name,
ballot-file reference, group or where they are (in the room, removed or merged, imported).

A fixed number of queries whatever the size of the session (an import of 20,000 paper ballots is
a session of 20,000): the session, its groups, its rounds, one GROUP BY for the counts, the count
of what a search found, the page's people, whom they were merged into, then two or three per round
reading only the page's people's ballots, never one per person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from codesign.errors import NotFound
from codesign.models import Participant, PopulationGroup, Round, RoundStatus, StakeholderGroup, WorkshopSession
from codesign.queries.basic import list_stakeholder_groups
from codesign.queries.overview import get_session_and_group
from codesign.queries.paging import MAX_SEARCH, PER_PAGE, Page, search_where, window
from codesign.queries.progress import participant_label, person_state, round_ballots

__all__ = ["MERGE_CHOICES", "SECTIONS", "PeopleView", "PersonRow", "PersonView", "get_people", "get_person"]

# Where someone is, in the list's order: the room first, then who left it, then imported voters.
SECTIONS = {"room": "In the room", "left": "Removed or merged", "imported": "Imported from a ballot file"}
MERGE_CHOICES = 300  # people offered in the merge list; in a bigger room the duplicate is given by number


@dataclass(frozen=True)
class PersonRow:
    person: Participant
    label: str  # first name, or "Participant 12"
    group: str
    table: int | None
    joined_at: datetime
    states: list[str]  # per round in `PeopleView.rounds`: "not started", "started", "finished"
    status: str  # "in the room", "removed", "merged"
    merged_into: str  # the label of whom they were merged into

    @property
    def section(self) -> str:
        """A key of SECTIONS."""
        if self.person.external_ref is not None:
            return "imported"
        return "room" if self.status == "in the room" else "left"


@dataclass(frozen=True)
class PeopleView:
    session: WorkshopSession
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    rounds: list[Round]  # opened at least once (draft rounds have no answers yet)
    counts: dict[str, int]  # everyone in each of SECTIONS, whatever the search
    page: Page[PersonRow]  # this page of the people found, in SECTIONS order then by number
    group_key: str  # the search's stakeholder group ("" any)
    who: str  # the search's section ("" any)

    @property
    def searched(self) -> bool:
        return bool(self.page.search or self.group_key or self.who)

    @property
    def params(self) -> dict[str, str]:
        """The search, for the page links."""
        return {k: v for k, v in (("q", self.page.search), ("group", self.group_key), ("who", self.who)) if v}

    @property
    def sections(self) -> dict[str, str]:
        return SECTIONS


def _section() -> Any:
    """The section as a number, for ordering and counting in SQL (0 room, 1 left, 2 imported)."""
    return case((col(Participant.external_ref).is_not(None), 2),
                (or_(col(Participant.removed_at).is_not(None), col(Participant.merged_into_id).is_not(None)), 1),
                else_=0)


def _matching(session_id: int, search: str, group_id: int | None, who: str) -> Any:
    """The session's people, narrowed by a search (a participant number, or part of a first name or
    of the reference a ballot file gave), a stakeholder group and a section."""
    where = [col(Participant.session_id) == session_id]
    found = search_where(search, col(Participant.number),
                         (col(Participant.first_name), col(Participant.external_ref)), "participant")
    if found is not None:
        where.append(found)
    if group_id is not None:
        where.append(col(Participant.stakeholder_group_id) == group_id)
    if who in SECTIONS:
        where.append(_section() == list(SECTIONS).index(who))
    return and_(*where)


def _rows(db: Session, people: list[Participant], rounds: list[Round],
          names: dict[int | None, str]) -> list[PersonRow]:
    """Rows for these people only: their ballots in each round, and whom any was merged into."""
    reads = [round_ballots(db, found, people) for found in rounds]
    into_ids = sorted({p.merged_into_id for p in people if p.merged_into_id is not None})
    into = {p.id: participant_label(p) for p in db.exec(
        select(Participant).where(col(Participant.id).in_(into_ids)))} if into_ids else {}
    return [PersonRow(
        person=p, label=participant_label(p), group=names.get(p.stakeholder_group_id, ""), table=p.table_number,
        joined_at=p.joined_at, states=[person_state(read, p) for read in reads],
        status="removed" if p.removed_at is not None else "merged" if p.merged_into_id is not None else "in the room",
        merged_into=into.get(p.merged_into_id, "") if p.merged_into_id is not None else "",
    ) for p in people]


def _opened_rounds(db: Session, session_id: int) -> list[Round]:
    return list(db.exec(select(Round).where(Round.session_id == session_id, Round.status != RoundStatus.draft)
                        .order_by(col(Round.number))))


def get_people(db: Session, session_id: int, *, search: str = "", group: str = "", who: str = "",
               page: int = 1) -> PeopleView:
    """One page (PER_PAGE) of a session's people, in the room first, each section by number."""
    session, population = get_session_and_group(db, session_id)
    stakeholders = list_stakeholder_groups(db, population.id or 0)
    names: dict[int | None, str] = {g.id: g.name for g in stakeholders}
    chosen = next((g for g in stakeholders if g.key == group), None)
    who = who if who in SECTIONS else ""
    search = search.strip()[:MAX_SEARCH]
    section = _section()
    by_section = dict(db.exec(select(section, func.count()).select_from(Participant)
                              .where(col(Participant.session_id) == session_id).group_by(section)).all())
    counts = {key: int(by_section.get(n, 0)) for n, key in enumerate(SECTIONS)}
    where = _matching(session_id, search, chosen.id if chosen else None, who)
    narrowed = bool(search or chosen or who)
    found = db.exec(select(func.count()).select_from(Participant).where(where)).one() if narrowed \
        else sum(counts.values())
    page, pages, offset = window(found, page)
    people = list(db.exec(select(Participant).where(where)
                          .order_by(section, col(Participant.number), col(Participant.id))
                          .offset(offset).limit(PER_PAGE)))
    rounds = _opened_rounds(db, session_id)
    rows = _rows(db, people, rounds, names)
    return PeopleView(session=session, group=population, stakeholders=stakeholders, rounds=rounds, counts=counts,
                      page=Page(rows, search, page, pages, found, sum(counts.values())),
                      group_key=chosen.key if chosen else "", who=who)


@dataclass(frozen=True)
class PersonView:
    session: WorkshopSession
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    rounds: list[Round]
    row: PersonRow
    others: list[PersonRow]  # who could be this person's duplicate: the rest of the room (at most MERGE_CHOICES)
    others_total: int  # the rest of the room, all of them: more than MERGE_CHOICES, and the form asks for a number


def get_person(db: Session, session_id: int, participant_id: int) -> PersonView:
    session, population = get_session_and_group(db, session_id)
    person = db.get(Participant, participant_id)
    if person is None or person.session_id != session_id:
        raise NotFound("No such person in this session")
    stakeholders = list_stakeholder_groups(db, population.id or 0)
    names: dict[int | None, str] = {g.id: g.name for g in stakeholders}
    rounds = _opened_rounds(db, session_id)
    [row] = _rows(db, [person], rounds, names)
    room = and_(col(Participant.session_id) == session_id, _section() == 0, col(Participant.id) != participant_id)
    others_total = db.exec(select(func.count()).select_from(Participant).where(room)).one()
    others = list(db.exec(select(Participant).where(room).order_by(col(Participant.number), col(Participant.id))
                          .limit(MERGE_CHOICES))) if others_total <= MERGE_CHOICES else []
    return PersonView(session, population, stakeholders, rounds, row,
                      [PersonRow(p, participant_label(p), names.get(p.stakeholder_group_id, ""), p.table_number,
                                 p.joined_at, [], "in the room", "") for p in others], others_total)
