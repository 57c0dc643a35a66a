"""What the room is doing now (services/room.py moves it): one statement per question asked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from codesign.models import LiveView, Round, WorkshopSession
from codesign.naming import round_label

__all__ = ["RoomState", "get_room_state", "live_seqs"]


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
