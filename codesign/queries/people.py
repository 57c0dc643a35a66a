"""The facilitator's people list: everyone who joined a session, with their group, table, when they
joined and how far they got in each round. A handful of queries, whatever the size of the room:
the session, its groups, its rounds, its participants, then two or three per round (its ballots,
which have answers, and for ranking or points what was sent), never one per person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from codesign.errors import NotFound
from codesign.models import Participant, PopulationGroup, Round, RoundStatus, StakeholderGroup, WorkshopSession
from codesign.queries.basic import list_stakeholder_groups
from codesign.queries.overview import get_session_and_group
from codesign.queries.progress import participant_label, person_state, round_ballots

__all__ = ["PeopleView", "PersonRow", "PersonView", "get_people", "get_person"]


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


@dataclass(frozen=True)
class PeopleView:
    session: WorkshopSession
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    rounds: list[Round]  # opened at least once (draft rounds have no answers yet)
    in_room: list[PersonRow]
    imported: list[PersonRow]  # voters named in a ballot file: not in the room
    left: list[PersonRow]  # removed, or merged into someone else

    @property
    def everyone(self) -> list[PersonRow]:
        return self.in_room + self.left + self.imported


def get_people(db: Session, session_id: int) -> PeopleView:
    session, group = get_session_and_group(db, session_id)
    stakeholders = list_stakeholder_groups(db, group.id or 0)
    names = {g.id: g.name for g in stakeholders}
    rounds = list(db.exec(select(Round).where(Round.session_id == session_id, Round.status != RoundStatus.draft)
                          .order_by(col(Round.number))))
    people = list(db.exec(select(Participant).where(Participant.session_id == session_id)
                          .order_by(col(Participant.number), col(Participant.id))))
    reads = [round_ballots(db, found) for found in rounds]
    labels = {p.id: participant_label(p) for p in people}
    rows = [PersonRow(
        person=p, label=labels[p.id], group=names.get(p.stakeholder_group_id, ""), table=p.table_number,
        joined_at=p.joined_at, states=[person_state(read, p) for read in reads],
        status="removed" if p.removed_at is not None else "merged" if p.merged_into_id is not None else "in the room",
        merged_into=labels.get(p.merged_into_id, "") if p.merged_into_id is not None else "",
    ) for p in people]
    return PeopleView(
        session=session, group=group, stakeholders=stakeholders, rounds=rounds,
        in_room=[r for r in rows if r.status == "in the room" and r.person.external_ref is None],
        imported=[r for r in rows if r.person.external_ref is not None],
        left=[r for r in rows if r.status != "in the room" and r.person.external_ref is None],
    )


@dataclass(frozen=True)
class PersonView:
    people: PeopleView
    row: PersonRow
    others: list[PersonRow]  # who could be this person's duplicate: the rest of the room


def get_person(db: Session, session_id: int, participant_id: int) -> PersonView:
    people = get_people(db, session_id)
    row = next((r for r in people.everyone if r.person.id == participant_id), None)
    if row is None:
        raise NotFound("No such person in this session")
    return PersonView(people, row, [r for r in people.in_room if r.person.id != participant_id])
