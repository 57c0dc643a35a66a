"""Reads for online rounds: a personal link and what it opens, a round's online page, a panel's mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound
from codesign.models import (
    MailStatus,
    OutboxMessage,
    Panel,
    Panellist,
    Participant,
    ReminderSchedule,
    Round,
    SessionMode,
    SessionStatus,
    WorkshopSession,
    utcnow,
)
from codesign.uk_time import as_utc

Q_FINISHED_PANELLISTS = text(
    "SELECT DISTINCT p.panellist_id FROM ballot b JOIN participant p ON p.id = b.participant_id "
    "WHERE b.round_id = :rid AND b.finished_at IS NOT NULL AND p.panellist_id IS NOT NULL")


def finished_panellists(db: Session, round_id: int) -> set[int]:
    """Panellists whose ballot in the round is finished (every question, the list sent, or "I have finished")."""
    return {int(row[0]) for row in db.connection().execute(Q_FINISHED_PANELLISTS, {"rid": round_id})}


NOT_WORKING = "This link no longer works."
LINK_PROBLEMS = {
    "unknown": f"{NOT_WORKING} Please check you copied all of it from the email.",
    "revoked": f"{NOT_WORKING} The study team has turned it off. If you think this is a mistake, reply to the email.",
    "erased": f"{NOT_WORKING} Your details were removed from the study, as you asked.",
    "ended": f"{NOT_WORKING} The study has ended. Thank you for taking part.",
}


def link_problem(person: Panellist | None, panel: Panel | None, now: datetime) -> str | None:
    """Why a personal link does not work (a friendly sentence), or None."""
    if person is None or panel is None or not person.link_token:
        return LINK_PROBLEMS["unknown" if person is None or person.erased_at is None else "erased"]
    if person.erased_at is not None:
        return LINK_PROBLEMS["erased"]
    if person.link_revoked_at is not None:
        return LINK_PROBLEMS["revoked"]
    if panel.ends_at is not None and as_utc(panel.ends_at) <= now:
        return LINK_PROBLEMS["ended"]
    return None


REMOVED = ("This link no longer opens the study: the study team has taken you out of it. "
           "If you think this is a mistake, reply to the email.")


def session_participant(db: Session, session_id: int, panellist_id: int) -> Participant | None:
    """The panellist's participant in the session: the one their link made, or the one the
    facilitator merged it into (services.people). A removed one is returned as it is: the link then
    says so rather than making a new participant."""
    found = db.exec(select(Participant).where(Participant.session_id == session_id,
                                              Participant.panellist_id == panellist_id)
                    .order_by(col(Participant.id))).first()
    seen: set[int] = set()
    while found is not None and found.merged_into_id is not None and found.merged_into_id not in seen:
        seen.add(found.merged_into_id)
        found = db.get(Participant, found.merged_into_id)
    return found


@dataclass(frozen=True)
class LinkView:
    problem: str | None
    panel: Panel | None = None
    person: Panellist | None = None
    session: WorkshopSession | None = None
    participant: Participant | None = None
    open_round: Round | None = None


def personal_link(db: Session, token: str, now: datetime | None = None) -> LinkView:
    """What /take-part/<token> shows (a read: the link's participant is made only by the Start button)."""
    now = now or utcnow()
    person = db.exec(select(Panellist).where(Panellist.link_token == token)).first() if token else None
    panel = db.get(Panel, person.panel_id) if person is not None else None
    problem = link_problem(person, panel, now)
    if problem is not None or person is None or person.id is None:
        return LinkView(problem)
    session = db.exec(select(WorkshopSession).where(
        WorkshopSession.panel_id == person.panel_id, WorkshopSession.mode == SessionMode.online,
        WorkshopSession.status == SessionStatus.open).order_by(col(WorkshopSession.id).desc())).first()
    if session is None or session.id is None:
        return LinkView(None, panel, person)
    current = db.exec(select(Round).where(Round.session_id == session.id, Round.status == "open")
                      .order_by(col(Round.number).desc())).first()
    participant = session_participant(db, session.id, person.id)
    if participant is not None and participant.removed_at is not None:
        return LinkView(REMOVED)
    return LinkView(None, panel, person, session, participant, current)


def unsubscribe_target(db: Session, token: str) -> Panellist | None:
    person = db.exec(select(Panellist).where(Panellist.unsubscribe_token == token)).first() if token else None
    return None if person is None or person.erased_at is not None else person


def online_round(db: Session, session_id: int, round_id: int) -> tuple[WorkshopSession, Round]:
    """A round of an online session with a panel, or NotFound / Conflict saying why not."""
    session = db.get(WorkshopSession, session_id)
    found = db.get(Round, round_id)
    if session is None or found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    if session.mode != SessionMode.online or session.panel_id is None:
        raise Conflict("This is a session in the room. Invitations, reminders and round windows are for "
                       "online sessions of a panel.")
    return session, found


@dataclass(frozen=True)
class OnlineRoundView:
    session: WorkshopSession
    round: Round
    panel: Panel
    reachable: int
    unsubscribed: int
    finished: int
    schedule: Sequence[ReminderSchedule]
    counts: dict[str, dict[str, int]]  # kind -> status -> count


def online_round_page(db: Session, session_id: int, round_id: int) -> OnlineRoundView:
    session, found = online_round(db, session_id, round_id)
    panel = db.get(Panel, session.panel_id)
    assert panel is not None
    people = db.exec(select(Panellist).where(Panellist.panel_id == panel.id)).all()
    reachable = sum(1 for p in people if p.unsubscribed_at is None and p.erased_at is None
                    and p.link_revoked_at is None and p.email)
    counts: dict[str, dict[str, int]] = {}
    for message in db.exec(select(OutboxMessage).where(OutboxMessage.round_id == round_id)).all():
        counts.setdefault(message.kind, {}).setdefault(message.status, 0)
        counts[message.kind][message.status] += 1
    schedule = db.exec(select(ReminderSchedule).where(ReminderSchedule.round_id == round_id)
                       .order_by(col(ReminderSchedule.days_after_open))).all()
    return OnlineRoundView(session, found, panel, reachable, sum(1 for p in people if p.unsubscribed_at),
                           len(finished_panellists(db, round_id)), schedule, counts)


@dataclass(frozen=True)
class FailedMessage:
    id: int
    kind: str
    panellist_number: int
    attempts: int
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class MailView:
    panel: Panel
    counts: dict[str, int]
    failed: Sequence[FailedMessage]
    unsubscribed: Sequence[Panellist]


def panel_mail(db: Session, panel_id: int) -> MailView:
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    rows = db.exec(select(OutboxMessage, Panellist)
                   .join(Panellist, col(Panellist.id) == col(OutboxMessage.panellist_id))
                   .where(Panellist.panel_id == panel_id)).all()
    counts = {status.value: 0 for status in MailStatus}
    failed: list[FailedMessage] = []
    for message, person in rows:
        counts[message.status] = counts.get(message.status, 0) + 1
        if message.status == MailStatus.failed:
            failed.append(FailedMessage(message.id or 0, message.kind, person.number, message.attempts,
                                        message.last_error, message.created_at))
    unsubscribed = db.exec(select(Panellist).where(Panellist.panel_id == panel_id,
                                                   col(Panellist.unsubscribed_at).is_not(None))
                           .order_by(col(Panellist.number))).all()
    return MailView(panel, counts, sorted(failed, key=lambda f: f.id), unsubscribed)
