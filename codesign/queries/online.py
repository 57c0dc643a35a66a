"""Reads for online rounds: a personal link and what it opens, a round's online page, a panel's mail."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, text
from sqlalchemy import select as sa_select
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
    # Four columns, not the messages: a national round's invitations are 20,000 rows with their bodies.
    rows = db.exec(select(OutboxMessage.panellist_id, OutboxMessage.status, OutboxMessage.created_at,
                          OutboxMessage.sent_at).where(
        OutboxMessage.round_id == round_id, OutboxMessage.kind == "invitation",
        col(OutboxMessage.status).in_([*WAITING, MailStatus.sent]))).all()
    return {pid for pid, status, created_at, sent_at in rows if pid is not None and (
        status in WAITING or as_utc(created_at) > since or (sent_at is not None and as_utc(sent_at) > since))}


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


def _mailable(panel_id: int) -> Any:
    """The WHERE of panellists who may be mailed (services.online._reachable's)."""
    return and_(col(Panellist.panel_id) == panel_id, col(Panellist.unsubscribed_at).is_(None),
                col(Panellist.erased_at).is_(None), col(Panellist.link_revoked_at).is_(None),
                col(Panellist.email).is_not(None), col(Panellist.link_token).is_not(None))


def online_round_page(db: Session, session_id: int, round_id: int, now: datetime | None = None) -> OnlineRoundView:
    """Counts only (SQL aggregates and id sets): the page of a round mailed to 20,000 is as quick as a small one."""
    now = now or utcnow()
    session, found = online_round(db, session_id, round_id)
    panel = db.get(Panel, session.panel_id)
    assert panel is not None and panel.id is not None
    mailable = set(db.exec(select(Panellist.id).where(_mailable(panel.id))).all())
    unsubscribed = db.exec(select(func.count()).select_from(Panellist).where(
        Panellist.panel_id == panel.id, col(Panellist.unsubscribed_at).is_not(None))).one()
    finished = finished_panellists(db, round_id)
    skip = finished | recently_invited(db, round_id, now)
    # Today's "Send reminders now" keys already queued (manual_reminder_key's shape), as panellist ids.
    today = manual_reminder_key(round_id, 0, now).split(":")[-1]
    already = set(db.exec(select(OutboxMessage.panellist_id).where(
        OutboxMessage.round_id == round_id, OutboxMessage.kind == "reminder",
        col(OutboxMessage.dedupe_key).like(f"reminder:{round_id}:%:{today}"))).all())
    to_remind = len(mailable - skip - already) if found.status == "open" else 0
    counts: dict[str, dict[str, int]] = {}
    for kind, status, n in db.exec(select(OutboxMessage.kind, OutboxMessage.status, func.count())
                                   .where(OutboxMessage.round_id == round_id)
                                   .group_by(col(OutboxMessage.kind), col(OutboxMessage.status))).all():
        counts.setdefault(kind, {})[status] = n
    schedule = db.exec(select(ReminderSchedule).where(ReminderSchedule.round_id == round_id)
                       .order_by(col(ReminderSchedule.days_after_open))).all()
    return OnlineRoundView(session, found, panel, len(mailable), unsubscribed, len(finished), to_remind, schedule,
                           counts)


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


MAIL_LIST = 100  # failed messages and unsubscribed people listed on the mail page (the counts say how many in all)


@dataclass(frozen=True)
class MailView:
    panel: Panel
    counts: dict[str, int]
    failed: Sequence[FailedMessage]  # the oldest MAIL_LIST
    unsubscribed: Sequence[Panellist]  # the first MAIL_LIST by number
    retrying: Sequence[Retrying] = ()
    unsubscribed_total: int = 0


def _retrying(groups: Sequence[tuple[Any, ...]]) -> list[Retrying]:
    """Pending messages with failed tries, by error: the newest try and the soonest next one. The last
    try's time is worked back from the backoff, which set the next (outbox.record_failure); the
    database groups by error and number of tries, so the newest next try of each group gives it."""
    by_error: dict[str, list[tuple[int, int, datetime, datetime]]] = {}
    for error, attempts, n, soonest, latest in groups:
        by_error.setdefault(error or "Unknown error", []).append((attempts, n, soonest, latest))
    return [Retrying(error, sum(n for _a, n, _s, _l in rows),
                     max(as_utc(latest) - backoff(attempts) for attempts, _n, _s, latest in rows),
                     min(as_utc(soonest) for _a, _n, soonest, _l in rows))
            for error, rows in sorted(by_error.items(), key=lambda item: -sum(n for _a, n, _s, _l in item[1]))]


def panel_mail(db: Session, panel_id: int) -> MailView:
    """Counts by SQL aggregates, and bounded lists: the mail page of a 20,000-person panel reads a
    few hundred rows, not every message."""
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    mine = select(Panellist.id).where(Panellist.panel_id == panel_id)
    counts = {status.value: 0 for status in MailStatus}
    for status, n in db.exec(select(OutboxMessage.status, func.count()).where(
            col(OutboxMessage.panellist_id).in_(mine)).group_by(col(OutboxMessage.status))).all():
        counts[status] = n
    failed = [FailedMessage(m.id or 0, m.kind, number, m.attempts, m.last_error, m.created_at)
              for m, number in db.exec(select(OutboxMessage, Panellist.number)
                                       .join(Panellist, col(Panellist.id) == col(OutboxMessage.panellist_id))
                                       .where(Panellist.panel_id == panel_id,
                                              OutboxMessage.status == MailStatus.failed)
                                       .order_by(col(OutboxMessage.id)).limit(MAIL_LIST)).all()]
    groups = [tuple(row) for row in db.execute(
        sa_select(col(OutboxMessage.last_error), col(OutboxMessage.attempts), func.count(),
                  func.min(OutboxMessage.next_attempt_at), func.max(OutboxMessage.next_attempt_at))
        .where(col(OutboxMessage.panellist_id).in_(mine), col(OutboxMessage.status) == MailStatus.pending,
               col(OutboxMessage.attempts) > 0)
        .group_by(col(OutboxMessage.last_error), col(OutboxMessage.attempts))).all()]
    unsubscribed_where = and_(col(Panellist.panel_id) == panel_id, col(Panellist.unsubscribed_at).is_not(None))
    unsubscribed = db.exec(select(Panellist).where(unsubscribed_where)
                           .order_by(col(Panellist.number))
                           .limit(MAIL_LIST)).all()
    total = db.exec(select(func.count()).select_from(Panellist).where(unsubscribed_where)).one()
    return MailView(panel, counts, failed, unsubscribed, _retrying(groups), total)
