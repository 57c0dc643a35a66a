"""Moving the room: what every participant's device and the presenter screen should show now.

The services that change what the room is doing (taking ideas, opening, closing or revealing a
round, closing the session) call `move` in their own transaction, so the move commits with the
change it announces or not at all. `live_seq` goes up by one with each move, in SQL
(`live_seq + 1`), so two moves at once never give the same number; devices compare it with the
number they last saw (web/room_events.py).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from codesign.models import LiveView, WorkshopSession

__all__ = ["move"]


def move(db: Session, session: WorkshopSession, view: LiveView, round_id: int | None = None) -> None:
    """Point the room at `view` (and `round_id` for the round views). Does not commit."""
    assert session.id is not None
    db.flush()  # the change this move announces goes first
    db.execute(update(WorkshopSession).where(col(WorkshopSession.id) == session.id).values(
        live_seq=col(WorkshopSession.live_seq) + 1, live_view=view.value, live_round_id=round_id))
    db.expire(session, ["live_seq", "live_view", "live_round_id"])
