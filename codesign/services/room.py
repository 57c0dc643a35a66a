"""Moving the room: what every participant's device and the presenter screen should show now.

The services that change what the room is doing (taking ideas, opening, closing or revealing a
round, closing the session) call `move` in their own transaction, so the move commits with the
change it announces or not at all. `live_seq` goes up by one with each move, in SQL
(`live_seq + 1`), so two moves at once never give the same number; devices compare it with the
number they last saw (web/room_events.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import LiveView, Round, RoundStatus, SessionStatus, User, WorkshopSession, utcnow
from codesign.services import audit
from codesign.validation import check_int

__all__ = ["move", "set_countdown", "set_paused"]


def move(db: Session, session: WorkshopSession, view: LiveView, round_id: int | None = None) -> None:
    """Point the room at `view` (and `round_id` for the round views). Does not commit."""
    assert session.id is not None
    db.flush()  # the change this move announces goes first
    db.execute(update(WorkshopSession).where(col(WorkshopSession.id) == session.id).values(
        live_seq=col(WorkshopSession.live_seq) + 1, live_view=view.value, live_round_id=round_id))
    db.expire(session, ["live_seq", "live_view", "live_round_id"])


def set_paused(db: Session, actor: User, session_id: int, paused: bool) -> WorkshopSession:
    """Pause the room (the presenter screen and every device show a pause screen), or resume it:
    back to the open round if there is one, otherwise to taking ideas or the lobby."""
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    if session.status != SessionStatus.open:
        raise Conflict("This session has closed. Reopen it before pausing or resuming the room.")
    if paused == (session.live_view == LiveView.pause):
        return session
    if paused:
        move(db, session, LiveView.pause, session.live_round_id)
    else:
        live = db.exec(select(Round).where(Round.session_id == session_id, Round.status == RoundStatus.open)
                       .order_by(col(Round.opened_at).desc())).first()
        if live is not None:
            move(db, session, LiveView.voting, live.id)
        else:
            move(db, session, LiveView.proposals if session.proposals_open else LiveView.lobby)
    verb = "paused" if paused else "resumed"
    audit.record(db, actor, f"room.{verb}", summary=f"Room {verb} in “{session.title}”",
                 object_type="session", object_id=session.id,
                 population_group_id=session.population_group_id, session_id=session.id)
    db.commit()
    return session


def set_countdown(db: Session, actor: User, session_id: int, round_id: int, minutes: str) -> Round:
    """Start a countdown of `minutes` on an open round ("" or "0" stops it). A guide for the room,
    shown on the presenter screen and on devices: the facilitator still closes the round."""
    raw = minutes.strip()
    errors: dict[str, str] = {}
    length = check_int(errors, "minutes", raw or "0", label="the countdown in minutes", minimum=0, maximum=120)
    if errors or length is None:
        raise ValidationFailed(errors, {"minutes": minutes})
    found = db.exec(select(Round).where(Round.id == round_id, Round.session_id == session_id)).first()
    session = db.get(WorkshopSession, session_id)
    if found is None or session is None:
        raise NotFound("No such round")
    if found.status != RoundStatus.open:
        raise Conflict("A countdown runs only while the round is open.")
    found.countdown_ends_at = utcnow() + timedelta(minutes=length) if length else None
    db.add(found)
    if session.live_view == LiveView.voting and session.live_round_id == found.id:
        move(db, session, LiveView.voting, found.id)  # the presenter screen shows it at once
    summary = (f"Countdown of {length} minutes started on round {found.number}" if length
               else f"Countdown stopped on round {found.number}")
    audit.record(db, actor, "round.countdown", summary=summary, object_type="round", object_id=found.id,
                 population_group_id=session.population_group_id, session_id=session_id,
                 details={"minutes": length, "ends_at": found.countdown_ends_at})
    db.commit()
    return found
