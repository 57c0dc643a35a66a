"""Online rounds (issue 14, section 2): personal links, round windows, invitations and reminders,
unsubscribing, and what the worker does when a window opens or closes or a reminder falls due.

Web requests only add outbox rows here (codesign.mail.outbox); the worker sends them. Messages
name their panellist by number in the audit log, never by name or address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.mail import outbox
from codesign.mail.render import MessageContext, Recipient, render_messages
from codesign.models import (
    OutboxMessage,
    Panel,
    Panellist,
    Participant,
    ReminderSchedule,
    Round,
    RoundStatus,
    SessionMode,
    SessionStatus,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.naming import round_label
from codesign.queries.online import (
    REMOVED,
    finished_panellists,
    link_problem,
    online_round,
    recently_invited,
    session_participant,
)
from codesign.services import audit, rounds
from codesign.services.panels import new_token
from codesign.services.round_window import Window, check_window
from codesign.uk_time import as_utc, uk_datetime

MAX_REMINDER_DAYS = 60


# ---- personal links and unsubscribing --------------------------------------------------------

def start_link(db: Session, token: str, *, now: datetime | None = None) -> tuple[WorkshopSession, Participant]:
    """The "Start" button of a personal link: the panellist's participant in the panel's online
    session, made the first time and the same one afterwards. The panellist's row is locked first
    (FOR UPDATE on PostgreSQL; SQLite's writers queue), so two taps at once make one participant."""
    now = now or utcnow()
    person = db.exec(select(Panellist).where(Panellist.link_token == token).with_for_update()
                     .execution_options(populate_existing=True)).first() if token else None
    panel = db.get(Panel, person.panel_id) if person is not None else None
    problem = link_problem(person, panel, now, token)
    if problem is not None:
        raise Conflict(problem)
    assert person is not None and person.id is not None
    session = online_session_of(db, person.panel_id)
    if session is None or session.id is None:
        raise Conflict("There is nothing to answer yet. We will email you when there is.")
    existing = session_participant(db, session.id, person.id)
    if existing is not None and existing.removed_at is not None:
        raise Conflict(REMOVED)
    if existing is not None:
        return session, existing
    participant = Participant(session_id=session.id, stakeholder_group_id=person.stakeholder_group_id,
                              token=new_token(), panellist_id=person.id)
    db.add(participant)
    audit.record(db, None, "panellist.started", summary=f"Panellist {person.number} opened their personal link "
                 f"and joined “{session.title}”", object_type="panellist", object_id=person.id,
                 population_group_id=session.population_group_id, session_id=session.id, label="personal link")
    db.commit()
    return session, participant


def online_session_of(db: Session, panel_id: int) -> WorkshopSession | None:
    """The panel's open online session (the newest, if there are several)."""
    return db.exec(select(WorkshopSession).where(
        WorkshopSession.panel_id == panel_id, WorkshopSession.mode == SessionMode.online,
        WorkshopSession.status == SessionStatus.open).order_by(col(WorkshopSession.id).desc())).first()


def unsubscribe(db: Session, token: str, *, now: datetime | None = None) -> Panellist:
    """No more mail to this panellist; messages still waiting are cancelled, not sent."""
    person = db.exec(select(Panellist).where(Panellist.unsubscribe_token == token).with_for_update()).first() \
        if token else None
    if person is None or person.erased_at is not None:
        raise NotFound("This unsubscribe link does not work.")
    if person.unsubscribed_at is None:
        assert person.id is not None
        person.unsubscribed_at = now or utcnow()
        db.add(person)
        cancelled = outbox.cancel_waiting(db, person.id, "The panellist unsubscribed")
        panel = db.get(Panel, person.panel_id)
        audit.record(db, None, "panellist.unsubscribed",
                     summary=f"Panellist {person.number} unsubscribed; {cancelled} waiting messages cancelled",
                     object_type="panellist", object_id=person.id,
                     population_group_id=panel.population_group_id if panel else None, label="unsubscribe link")
        db.commit()
    return person


# ---- round windows ---------------------------------------------------------------------------

def set_window(db: Session, actor: User, session_id: int, round_id: int, opens_text: str, closes_text: str,
               *, now: datetime | None = None) -> Round:
    now = now or utcnow()
    session, found = online_round(db, session_id, round_id)
    if found.status == RoundStatus.closed:
        raise Conflict("This round has closed. Reopen it before changing when it closes.")
    window = check_window(opens_text, closes_text, now=now, already_open=found.status == RoundStatus.open,
                          current=Window(found.opens_at, found.closes_at))
    found.opens_at, found.closes_at = window.opens_at, window.closes_at
    db.add(found)
    opening = f"opens {uk_datetime(window.opens_at)}, " if window.opens_at and found.status == RoundStatus.draft else ""
    audit.record(db, actor, "round.window_set", summary=f"{round_label(found)}: {opening}"
                 f"closes {uk_datetime(window.closes_at)} (UK time)", object_type="round", object_id=found.id,
                 population_group_id=session.population_group_id, session_id=session_id,
                 details={"opens_at": window.opens_at, "closes_at": window.closes_at})
    db.commit()
    return found


# ---- invitations and reminders ---------------------------------------------------------------

@dataclass(frozen=True)
class _Reachable:
    """What a message to one panellist needs: read as plain columns, not 20,000 ORM objects."""

    id: int
    name: str | None
    email: str
    link_token: str
    unsubscribe_token: str


def _reachable(db: Session, panel_id: int) -> list[_Reachable]:
    """Panellists who may be mailed: not unsubscribed, erased or revoked, with an address."""
    rows = db.execute(sa_select(col(Panellist.id), col(Panellist.name), col(Panellist.email),
                                col(Panellist.link_token), col(Panellist.unsubscribe_token)).where(
        col(Panellist.panel_id) == panel_id, col(Panellist.unsubscribed_at).is_(None),
        col(Panellist.erased_at).is_(None), col(Panellist.link_revoked_at).is_(None), col(Panellist.email).is_not(None),
        col(Panellist.link_token).is_not(None)).order_by(col(Panellist.number))).all()
    return [_Reachable(int(i or 0), name, email or "", token or "", unsubscribe) for i, name, email, token, unsubscribe
            in rows]


def _drafts(kind: str, people: list[tuple[_Reachable, str]], panel: Panel, found: Round, base_url: str,
            sender: str, now: datetime) -> list[outbox.Draft]:
    """The messages to `people` (each with its dedupe key), rendered together (render_messages)."""
    context = MessageContext(kind=kind, name="", study=panel.name, round_title=round_label(found),
                             closes_at=found.closes_at, link_url="", unsubscribe_url="", opens_at=found.opens_at,
                             open_now=found.status == RoundStatus.open, sender=sender, now=now)
    rendered = render_messages(context, [
        Recipient(person.name or "there", f"{base_url}/take-part/{person.link_token}",
                  f"{base_url}/unsubscribe/{person.unsubscribe_token}") for person, _key in people])
    return [outbox.Draft(kind=kind, panellist_id=person.id, to_address=person.email, subject=message.subject,
                         body_text=message.text, body_html=message.html, dedupe_key=key,
                         session_id=found.session_id, round_id=found.id)
            for (person, key), message in zip(people, rendered, strict=True)]


# Invitations and reminders for one round take turns (a transaction-scoped PostgreSQL advisory lock;
# SQLite's writers queue anyway): reminders pressed while invitations are being queued then see them,
# and skip those people, rather than reading the outbox from before they were added.
Q_ROUND_MAIL_LOCK = text("SELECT pg_advisory_xact_lock(1619, :rid)")


def _skip(db: Session, found: Round, kind: str, now: datetime) -> tuple[set[int], set[str]]:
    """Who is not to get this message (for a reminder: finished, or invited too recently), and the
    keys already queued."""
    done = (finished_panellists(db, found.id or 0) | recently_invited(db, found.id or 0, now)
            if kind == "reminder" else set())
    queued = {key for key in db.exec(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.round_id == found.id, OutboxMessage.kind == kind)).all() if key}
    return done, queued


def _queue(db: Session, actor: User | None, session: WorkshopSession, found: Round, kind: str, base_url: str,
           key_suffix: str, now: datetime) -> int:
    assert session.panel_id is not None
    panel = db.get(Panel, session.panel_id)
    assert panel is not None
    sender = actor.name.strip() if actor is not None else ""
    # The messages are rendered before the round's mail lock is taken (rendering 20,000 is most of the
    # work), for those not already skipped then; under the lock who to skip is read again, and only
    # the drafts still wanted are added. ON CONFLICT DO NOTHING guards the rest; the count is of rows
    # really added.
    done, queued = _skip(db, found, kind, now)
    people = []
    for person in _reachable(db, panel.id or 0):
        key = f"{kind}:{found.id}:{person.id}" + (f":{key_suffix}" if key_suffix else "")
        if person.id not in done and key not in queued:
            people.append((person, key))
    drafts = _drafts(kind, people, panel, found, base_url, sender, now)
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(Q_ROUND_MAIL_LOCK, {"rid": found.id})
        done, queued = _skip(db, found, kind, now)
        drafts = [d for d in drafts if d.panellist_id not in done and d.dedupe_key not in queued]
    added = outbox.enqueue_many(db, drafts, now=now)
    noun = "invitations" if kind == "invitation" else "reminders"
    audit.record(db, actor, f"round.{noun}_queued", summary=f"{added} {noun} queued for "
                 f"{round_label(found)}", object_type="round", object_id=found.id,
                 population_group_id=session.population_group_id, session_id=session.id,
                 details={"queued": added, "key": key_suffix}, label=None if actor else "worker")
    return added


def queue_invitations(db: Session, actor: User, session_id: int, round_id: int, base_url: str,
                      *, now: datetime | None = None) -> int:
    """Invite every reachable panellist to the round, once each (dedupe). Returns how many were new.
    Only a round that is open, or a draft with an opening time (the invitation then says when it
    opens and closes): an invitation to a draft with no time would send people to nothing."""
    session, found = online_round(db, session_id, round_id)
    if found.status == RoundStatus.closed:
        raise Conflict("This round has closed, so there is nothing to invite people to.")
    if found.status != RoundStatus.open and found.opens_at is None:
        raise Conflict(f"Round {found.number} is not open and has no opening time, so no invitations were sent. "
                       "Set when it opens and closes, or open it, then send invitations.")
    added = _queue(db, actor, session, found, "invitation", base_url, "", now or utcnow())
    db.commit()
    return added


def queue_reminders(db: Session, actor: User | None, session_id: int, round_id: int, base_url: str,
                    *, key_suffix: str = "", now: datetime | None = None) -> int:
    """Remind reachable panellists who have not finished the open round. By the button: one a day
    at most (the key names the UK date); by the schedule: one per scheduled day."""
    now = now or utcnow()
    session, found = online_round(db, session_id, round_id)
    if found.status != RoundStatus.open:
        raise Conflict("Reminders can only be sent while the round is open.")
    # The button's key is queries.online.manual_reminder_key's, which the page counts by.
    added = _queue(db, actor, session, found, "reminder", base_url, key_suffix or f"manual-{now:%Y-%m-%d}", now)
    db.commit()
    return added


DAYS = re.compile(r"^\s*\d{1,3}\s*(?:,\s*\d{1,3}\s*)*,?\s*$")


def set_reminder_days(db: Session, actor: User, session_id: int, round_id: int, days_text: str) -> list[int]:
    """The schedule ("3, 7": reminders 3 and 7 days after opening). Days already sent stay."""
    session, found = online_round(db, session_id, round_id)
    raw = days_text.strip()[:200]
    days: list[int] = []
    if raw:
        if not DAYS.match(raw):
            raise ValidationFailed({"days": "Enter whole numbers of days separated by commas, like 3, 7"},
                                   {"days": raw})
        days = sorted({int(d) for d in raw.replace(" ", "").strip(",").split(",")})
        if any(d < 1 or d > MAX_REMINDER_DAYS for d in days):
            raise ValidationFailed({"days": f"Each day must be between 1 and {MAX_REMINDER_DAYS}"}, {"days": raw})
    existing = db.exec(select(ReminderSchedule).where(ReminderSchedule.round_id == round_id)).all()
    for row in existing:
        if row.queued_at is None and row.days_after_open not in days:
            db.delete(row)
    have = {row.days_after_open for row in existing}
    for day in days:
        if day not in have:
            db.add(ReminderSchedule(round_id=round_id, days_after_open=day))
    audit.record(db, actor, "round.reminders_scheduled",
                 summary=f"Reminders for {round_label(found)}: "
                 + (", ".join(f"day {d}" for d in days) if days else "none scheduled"),
                 object_type="round", object_id=round_id, population_group_id=session.population_group_id,
                 session_id=session_id, details={"days": days})
    db.commit()
    return days


# ---- the worker's schedule -------------------------------------------------------------------

@dataclass
class ScheduleReport:
    opened: list[int]
    closed: list[int]
    reminders: int


def run_schedule(db: Session, base_url: str, *, now: datetime | None = None) -> ScheduleReport:
    """What falls due at `now`: rounds open at `opens_at` and close (counted, as the facilitator's
    close) at `closes_at`; scheduled reminders are queued. Each change commits on its own."""
    now = now or utcnow()
    report = ScheduleReport([], [], 0)
    online = select(Round.id, Round.session_id).join(
        WorkshopSession, col(WorkshopSession.id) == col(Round.session_id)).where(
        WorkshopSession.mode == SessionMode.online, WorkshopSession.status == SessionStatus.open)
    for round_id, session_id in db.exec(online.where(Round.status == RoundStatus.draft, col(Round.opens_at) <= now,
                                                     col(Round.closes_at) > now)).all():
        try:
            rounds.open_round(db, None, session_id, round_id or 0, acknowledge_small=True)
            report.opened.append(round_id or 0)
        except (Conflict, ValidationFailed, NotFound):
            db.rollback()
    for round_id, session_id in db.exec(online.where(Round.status == RoundStatus.open,
                                                     col(Round.closes_at) <= now)).all():
        try:
            rounds.close_round(db, None, session_id, round_id or 0, confirm_unsent=True)
            report.closed.append(round_id or 0)
        except (Conflict, NotFound):
            db.rollback()
    due = db.exec(select(ReminderSchedule, Round).join(Round, col(Round.id) == col(ReminderSchedule.round_id)).where(
        col(ReminderSchedule.queued_at).is_(None), Round.status == RoundStatus.open)).all()
    for schedule, found in due:
        start = found.opens_at or found.opened_at
        if start is None or as_utc(start) + timedelta(days=schedule.days_after_open) > now:
            continue
        try:
            report.reminders += queue_reminders(db, None, found.session_id, found.id or 0, base_url,
                                                key_suffix=f"day{schedule.days_after_open}", now=now)
        except (Conflict, NotFound):
            db.rollback()
            continue
        schedule.queued_at = now
        db.add(schedule)
        db.commit()
    return report
