"""Workshop sessions: create, close and reopen; participants joining with a code."""

from __future__ import annotations

import re
import secrets
from datetime import date

from sqlmodel import Session, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    LiveView,
    Participant,
    PopulationGroup,
    SessionMode,
    SessionStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
)
from codesign.services import audit, room
from codesign.validation import check_int, check_text, normalise_text

# No 0/O, 1/I/L: codes are read aloud and typed on tablets. 31**8 ≈ 8.5e11 codes.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8
_ALPHABET = frozenset(JOIN_CODE_ALPHABET)
MAX_TABLE_NUMBER = 200


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    """Upper-case, drop spaces and dashes: 'abcd-2345 ' -> 'ABCD2345'."""
    return re.sub(r"[\s\-]", "", raw or "").upper()


def canonical_join_code(raw: str) -> str | None:
    """The code as stored, or None when it cannot be one (wrong length, a character outside the
    alphabet, a NUL byte): such a code is refused without a database lookup."""
    code = normalise_join_code(raw)
    if len(code) != JOIN_CODE_LENGTH or not set(code) <= _ALPHABET:
        return None
    return code


def create_session(
    db: Session, actor: User, population_group_id: int, title: str, held_on: str = ""
) -> WorkshopSession:
    group = db.get(PopulationGroup, population_group_id)
    if group is None:
        raise NotFound("No such population group")
    title = normalise_text(title)
    errors: dict[str, str] = {}
    check_text(errors, "title", title, label="a title for the session", max_length=200)
    day: date | None = None
    if normalise_text(held_on):
        try:
            day = date.fromisoformat(normalise_text(held_on))
        except ValueError:
            errors["held_on"] = "Enter the date as year-month-day, like 2026-03-20"
    if errors:
        raise ValidationFailed(errors, {"title": title, "held_on": held_on})
    code = new_join_code()
    while db.exec(select(WorkshopSession).where(WorkshopSession.join_code == code)).first():
        code = new_join_code()  # pragma: no cover - a collision is vanishingly rare
    session = WorkshopSession(
        population_group_id=population_group_id, title=title, held_on=day, join_code=code,
        created_by_id=actor.id,
    )
    db.add(session)
    db.flush()
    audit.record(
        db, actor, "session.created", summary=f"Session “{title}” created",
        object_type="session", object_id=session.id, population_group_id=population_group_id,
        session_id=session.id,
    )
    db.commit()
    return session


def set_session_status(db: Session, actor: User, session_id: int, status: SessionStatus) -> WorkshopSession:
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    if session.status != status:
        session.status = status
        db.add(session)
        room.move(db, session, LiveView.ended if status == SessionStatus.closed
                  else LiveView.proposals if session.proposals_open else LiveView.lobby)
        verb = "closed" if status == SessionStatus.closed else "reopened"
        audit.record(
            db, actor, f"session.{verb}", summary=f"Session “{session.title}” {verb}",
            object_type="session", object_id=session.id,
            population_group_id=session.population_group_id, session_id=session.id,
        )
        db.commit()
    return session


def set_proposals_open(db: Session, actor: User, session_id: int, is_open: bool) -> WorkshopSession:
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    if session.proposals_open != is_open:
        session.proposals_open = is_open
        db.add(session)
        # Opening ideas moves the room there; closing them only moves a room that was taking ideas.
        if is_open:
            room.move(db, session, LiveView.proposals)
        elif session.live_view == LiveView.proposals:
            room.move(db, session, LiveView.lobby)
        verb = "opened" if is_open else "closed"
        audit.record(
            db, actor, f"proposals.{verb}", summary=f"Proposals {verb} in “{session.title}”",
            object_type="session", object_id=session.id,
            population_group_id=session.population_group_id, session_id=session.id,
        )
        db.commit()
    return session


def join_session(
    db: Session, session_id: int, stakeholder_key: str, first_name: str = "", table_number: str = ""
) -> Participant:
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    if session.status != SessionStatus.open:
        raise Conflict("This session has closed, so nobody new can join it.")
    if session.mode == SessionMode.online:  # only panellists, each by their own link (services.online)
        raise Conflict("This study is online. Please use the personal link in the email we sent you.")
    first_name = normalise_text(first_name)
    stakeholder_key = normalise_text(stakeholder_key)[:40]  # never a NUL or a long string to the database
    errors: dict[str, str] = {}
    group = db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == session.population_group_id,
        StakeholderGroup.key == stakeholder_key)).first()
    if group is None:
        errors["group"] = "Choose which group you are part of"
    check_text(errors, "first_name", first_name, label="your first name", required=False, max_length=60)
    table = check_int(errors, "table_number", table_number, label="your table number",
                      minimum=1, maximum=MAX_TABLE_NUMBER)
    if errors or group is None:
        raise ValidationFailed(errors, {"group": stakeholder_key, "first_name": first_name,
                                        "table_number": table_number})
    assert group.id is not None and session.id is not None
    participant = Participant(
        session_id=session.id, stakeholder_group_id=group.id, first_name=first_name,
        table_number=table, token=secrets.token_urlsafe(32),
    )
    db.add(participant)
    db.commit()
    assert participant.number is not None  # given in the INSERT: read it while the session is open
    return participant


def set_table_number(db: Session, participant_id: int, table_number: str) -> Participant:
    """A participant who joined without a table number gives one (for a round voted by tables).

    Only once: changing table mid-round would let one device vote for two tables, so a number
    already given stays (the facilitator can hand the device over as a new participant instead).
    """
    participant = db.get(Participant, participant_id)
    if participant is None:
        raise NotFound("No such participant")
    if participant.table_number is not None:
        raise Conflict(f"You are already at table {participant.table_number}.")
    errors: dict[str, str] = {}
    table = check_int(errors, "table_number", table_number, label="your table number", required=True,
                      minimum=1, maximum=MAX_TABLE_NUMBER)
    if errors:
        raise ValidationFailed(errors, {"table_number": table_number})
    participant.table_number = table
    db.add(participant)
    db.commit()
    return participant
