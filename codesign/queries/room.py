"""What the room is doing now (services/room.py moves it): one statement per question asked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlmodel import Session, col

from codesign.models import Ballot, LiveView, Outcome, OutcomeStatus, Participant, Round, WorkshopSession
from codesign.naming import round_label
from codesign.queries.basic import in_room

__all__ = ["RoomState", "accepted_fingerprint", "console_fingerprint", "get_room_state", "live_seqs",
           "round_poll_fingerprint"]


@dataclass(frozen=True)
class RoomState:
    session_id: int
    join_code: str
    seq: int
    view: LiveView
    round_id: int | None = None
    round_label: str = ""
    round_status: str = ""


def live_seqs(db: Session, session_ids: Iterable[int]) -> dict[int, int]:
    """{session id: live_seq} in one statement: the whole cost of "has anything changed?"."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    rows = db.execute(select(WorkshopSession.id, WorkshopSession.live_seq)  # type: ignore[call-overload]
                      .where(col(WorkshopSession.id).in_(ids))).all()
    return {int(sid): int(seq) for sid, seq in rows}


def get_room_state(db: Session, session_id: int) -> RoomState | None:
    """The room's view with its round, in one statement (None: no such session)."""
    row = db.execute(
        select(WorkshopSession.join_code, WorkshopSession.live_seq, WorkshopSession.live_view,  # type: ignore[call-overload]
               WorkshopSession.live_round_id, Round.number, Round.title, Round.status)
        .select_from(WorkshopSession)
        .outerjoin(Round, col(Round.id) == col(WorkshopSession.live_round_id))
        .where(col(WorkshopSession.id) == session_id)).first()
    if row is None:
        return None
    code, seq, view, round_id, number, title, status = row
    label = round_label({"number": number, "title": title}) if round_id is not None and number is not None else ""
    return RoomState(session_id=session_id, join_code=code, seq=int(seq), view=LiveView(view),
                     round_id=round_id if number is not None else None, round_label=label,
                     round_status=status or "")


def _in_room_people(session_id: int) -> Any:
    """Who is in the room, weighted by id, so moving one person to another group or table changes the sums."""
    by_group = func.sum(col(Participant.id) * col(Participant.stakeholder_group_id))
    by_table = func.sum(col(Participant.id) * func.coalesce(col(Participant.table_number), 0))
    return (select(func.count(), func.coalesce(by_group, 0), func.coalesce(by_table, 0))
            .where(col(Participant.session_id) == session_id, in_room()))


def _hash(values: Iterable[object]) -> str:
    # hashlib, not hash(): every app process must compute the same value.
    return hashlib.sha256("|".join(str(v) for v in values).encode()).hexdigest()[:16]


def console_fingerprint(db: Session, session_id: int) -> str | None:
    """Changes whenever anything the session console, lobby or projector shows changes: a
    proposal, a moderation step, someone joining, moving or leaving, a round's state, the room
    moving. One statement (scalar subqueries), so an unchanged refresh costs one read."""
    session = select(col(WorkshopSession.population_group_id)).where(col(WorkshopSession.id) == session_id) \
        .scalar_subquery()
    outcomes = (select(func.count(), func.max(Outcome.updated_at))
                .where((col(Outcome.population_group_id) == session) | (col(Outcome.session_id) == session_id)))
    people = _in_room_people(session_id).subquery()
    state = case((col(Round.status) == "draft", 1), (col(Round.status) == "open", 2), else_=3)
    rounds = (select(func.count(), func.coalesce(func.sum(col(Round.id) * state), 0),
                     func.coalesce(func.sum(case((col(Round.revealed), col(Round.id)), else_=0)), 0))
              .where(col(Round.session_id) == session_id)).subquery()
    o = outcomes.subquery()
    row = db.execute(
        select(WorkshopSession.status, WorkshopSession.proposals_open, WorkshopSession.live_seq,  # type: ignore[call-overload]
               *o.c, *people.c, *rounds.c)
        .select_from(WorkshopSession).join(o, literal(True)).join(people, literal(True)).join(rounds, literal(True))
        .where(col(WorkshopSession.id) == session_id)).first()
    return None if row is None else _hash(row)


def round_poll_fingerprint(db: Session, session_id: int, round_id: int) -> str | None:
    """Changes with every answer saved, every person joining, moving group or table, or leaving,
    and with the round's status or reveal: one statement, for the round's polled pages."""
    ballots = (select(func.count(), func.max(Ballot.updated_at)).where(col(Ballot.round_id) == round_id)).subquery()
    people = _in_room_people(session_id).subquery()
    row = db.execute(
        select(Round.status, Round.revealed, *ballots.c, *people.c)  # type: ignore[call-overload]
        .select_from(Round).join(ballots, literal(True)).join(people, literal(True))
        .where(col(Round.id) == round_id, col(Round.session_id) == session_id)).first()
    return None if row is None else _hash(row)


def accepted_fingerprint(db: Session, session_id: int) -> str | None:
    """Changes whenever the participants' "on the list so far" section would: an outcome accepted,
    reworded, merged or withdrawn in the session's population group. One statement, so a device's
    unchanged poll costs one read and gets 204 (its list is left as it is, under the reader's eyes)."""
    accepted = (select(func.count(), func.coalesce(func.sum(col(Outcome.id)), 0), func.max(Outcome.updated_at))
                .select_from(WorkshopSession)
                .join(Outcome, col(Outcome.population_group_id) == col(WorkshopSession.population_group_id))
                .where(col(WorkshopSession.id) == session_id, col(Outcome.status) == OutcomeStatus.accepted))
    row = db.execute(accepted).first()
    return None if row is None else _hash(row)
