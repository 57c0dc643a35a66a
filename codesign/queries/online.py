"""Reads for online rounds: a personal link and what it opens, a round's online page, a panel's mail."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound
from codesign.mail.outbox import backoff
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


# A reminder on the heels of an invitation is noise: none to someone invited to the round this recently.
RECENT_INVITATION = timedelta(hours=24)
WAITING = (MailStatus.pending, MailStatus.sending)


def recently_invited(db: Session, round_id: int, now: datetime) -> set[int]:
    """Panellists whose invitation to the round is still waiting, or was queued or sent in the last
    24 hours (a reminder to them now would arrive with, or just after, the invitation)."""
    since = now - RECENT_INVITATION
    rows = db.exec(select(OutboxMessage).where(
        OutboxMessage.round_id == round_id, OutboxMessage.kind == "invitation",
        col(OutboxMessage.status).in_([*WAITING, MailStatus.sent]))).all()
    return {m.panellist_id for m in rows if m.panellist_id is not None and (
        m.status in WAITING or as_utc(m.created_at) > since or (m.sent_at is not None and as_utc(m.sent_at) > since))}


def manual_reminder_key(round_id: int, panellist_id: int, now: datetime) -> str:
    """The "Send reminders now" button's dedupe key: one a day at most (the UTC date)."""
    return f"reminder:{round_id}:{panellist_id}:manual-{now:%Y-%m-%d}"


NOT_WORKING = "This link no longer works."
LINK_PROBLEMS = {
    "unknown": f"{NOT_WORKING} Please check you copied all of it from the email.",
    "revoked": f"{NOT_WORKING} The study team has turned it off. If you think this is a mistake, reply to the email.",
    "erased": f"{NOT_WORKING} Your details were removed from the study, as you asked.",
    "ended": f"{NOT_WORKING} The study has ended. Thank you for taking part.",
}


# services.panels.new_token: 32 random bytes, URL-safe base64 without padding.
WHOLE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def link_problem(person: Panellist | None, panel: Panel | None, now: datetime, token: str = "") -> str | None:
    """Why a personal link does not work (a friendly sentence), or None.

    Erasure blanks the link's token, so an erased panellist's link finds nobody. A whole token
    (43 characters) that finds nobody was, all but certainly, one we sent and then erased (a
    guess or a slip of the keyboard is 1 in 2^256): it is told the link was turned off. Only a
    token of the wrong shape, cut short or run on in copying, is asked to check it."""
    if person is None and WHOLE_TOKEN.match(token):
        return LINK_PROBLEMS["revoked"]
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
    problem = link_problem(person, panel, now, token)
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


def unsubscribe_target(db: Session, token: str) -> tuple[Panellist, str] | None:
    """The panellist an unsubscribe link is for, and their study's name (the page says which study)."""
    person = db.exec(select(Panellist).where(Panellist.unsubscribe_token == token)).first() if token else None
    if person is None or person.erased_at is not None:
        return None
    panel = db.get(Panel, person.panel_id)
    return person, panel.name if panel is not None else ""


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
    to_remind: int  # how many "Send reminders now" would mail, said before it is pressed
    schedule: Sequence[ReminderSchedule]
    counts: dict[str, dict[str, int]]  # kind -> status -> count


def online_round_page(db: Session, session_id: int, round_id: int, now: datetime | None = None) -> OnlineRoundView:
    now = now or utcnow()
    session, found = online_round(db, session_id, round_id)
    panel = db.get(Panel, session.panel_id)
    assert panel is not None
    people = db.exec(select(Panellist).where(Panellist.panel_id == panel.id)).all()
    mailable = [p for p in people if p.unsubscribed_at is None and p.erased_at is None
                and p.link_revoked_at is None and p.email and p.link_token]
    reachable = len(mailable)
    finished = finished_panellists(db, round_id)
    skip = finished | recently_invited(db, round_id, now)
    keys = {manual_reminder_key(round_id, p.id or 0, now): p.id for p in mailable if p.id not in skip}
    already = set(db.exec(select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(list(keys)))).all())
    to_remind = sum(1 for key in keys if key not in already) if found.status == "open" else 0
    counts: dict[str, dict[str, int]] = {}
    for message in db.exec(select(OutboxMessage).where(OutboxMessage.round_id == round_id)).all():
        counts.setdefault(message.kind, {}).setdefault(message.status, 0)
        counts[message.kind][message.status] += 1
    schedule = db.exec(select(ReminderSchedule).where(ReminderSchedule.round_id == round_id)
                       .order_by(col(ReminderSchedule.days_after_open))).all()
    return OnlineRoundView(session, found, panel, reachable, sum(1 for p in people if p.unsubscribed_at),
                           len(finished), to_remind, schedule, counts)


@dataclass(frozen=True)
class FailedMessage:
    id: int
    kind: str
    panellist_number: int
    attempts: int
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class Retrying:
    """Messages waiting to be tried again after an error (the mail server down, say), one per error."""

    error: str
    count: int
    last_tried: datetime
    next_try: datetime


@dataclass(frozen=True)
class MailView:
    panel: Panel
    counts: dict[str, int]
    failed: Sequence[FailedMessage]
    unsubscribed: Sequence[Panellist]
    retrying: Sequence[Retrying] = ()


def _retrying(waiting: Sequence[OutboxMessage]) -> list[Retrying]:
    """Pending messages with failed tries, by error: the newest try and the soonest next one. The last
    try's time is worked back from the backoff, which set the next (outbox.record_failure)."""
    by_error: dict[str, list[OutboxMessage]] = {}
    for message in waiting:
        by_error.setdefault(message.last_error or "Unknown error", []).append(message)
    return [Retrying(error, len(group),
                     max(as_utc(m.next_attempt_at) - backoff(m.attempts) for m in group),
                     min(as_utc(m.next_attempt_at) for m in group))
            for error, group in sorted(by_error.items(), key=lambda item: -len(item[1]))]


def panel_mail(db: Session, panel_id: int) -> MailView:
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    rows = db.exec(select(OutboxMessage, Panellist)
                   .join(Panellist, col(Panellist.id) == col(OutboxMessage.panellist_id))
                   .where(Panellist.panel_id == panel_id)).all()
    counts = {status.value: 0 for status in MailStatus}
    failed: list[FailedMessage] = []
    retrying: list[OutboxMessage] = []
    for message, person in rows:
        counts[message.status] = counts.get(message.status, 0) + 1
        if message.status == MailStatus.pending and message.attempts > 0:
            retrying.append(message)
        if message.status == MailStatus.failed:
            failed.append(FailedMessage(message.id or 0, message.kind, person.number, message.attempts,
                                        message.last_error, message.created_at))
    unsubscribed = db.exec(select(Panellist).where(Panellist.panel_id == panel_id,
                                                   col(Panellist.unsubscribed_at).is_not(None))
                           .order_by(col(Panellist.number))).all()
    return MailView(panel, counts, sorted(failed, key=lambda f: f.id), unsubscribed, _retrying(retrying))
