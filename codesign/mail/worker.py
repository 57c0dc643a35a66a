"""`codesign worker`: opens and closes online rounds on time, queues scheduled reminders, sends
the outbox and forgets attempt-limit buckets untouched for a week. Run it beside the web server
(`make run` does); two or more may run at once (the outbox is claimed with SKIP LOCKED on
PostgreSQL). It logs message ids, never addresses.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from codesign import db
from codesign.config import Settings
from codesign.mail import outbox
from codesign.mail.smtp import Outgoing, SmtpTarget, parse_smtp_url, send
from codesign.services import online, ratelimit

log = logging.getLogger("codesign.worker")
BATCH = 20


@dataclass
class Tick:
    """What one pass did (for the log and the tests)."""

    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reminders: int = 0
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    pruned: int = 0


def base_url(settings: Settings) -> str:
    """Where links in messages point: CODESIGN_PUBLIC_URL, or this server's own address."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def _error_text(exc: Exception, address: str) -> str:
    """The failure as the mail page shows it, without the recipient's address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                           for code, msg in exc.recipients.values())
        text = f"The mail server refused the address ({detail})"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"The mail server did not accept the user name and password ({exc.smtp_code})"
    elif isinstance(exc, ConnectionRefusedError | TimeoutError | OSError) and not isinstance(
            exc, smtplib.SMTPException):
        text = f"Could not reach the mail server: {exc.strerror or exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text.replace(address, "<recipient>")


def send_due(engine: Engine, target: SmtpTarget | None, mail_from: str, public: str, tick: Tick,
             *, now: datetime | None = None) -> None:
    """Claim and send due messages until none are left (each claim is one short transaction)."""
    if target is None:
        return  # no mail server configured: messages wait in the outbox
    while True:
        with db.write_session(engine) as session:
            batch = outbox.claim(session, now=now, limit=BATCH)
        if not batch:
            return
        for message in batch:
            outgoing = Outgoing(to=message.to_address, subject=message.subject, text=message.body_text,
                                html=message.body_html,
                                unsubscribe_url=f"{public}/unsubscribe/{message.unsubscribe_token}",
                                message_id=message.id)
            try:
                send(target, mail_from, outgoing)
            except (OSError, smtplib.SMTPException) as exc:
                with db.write_session(engine) as session:
                    status = outbox.record_failure(session, message.id, _error_text(exc, message.to_address), now=now)
                log.warning("message %s not sent (%s); now %s", message.id, type(exc).__name__, status)
                tick.failed.append(message.id)
                continue
            with db.write_session(engine) as session:
                outbox.record_sent(session, message.id, now=now)
            log.info("message %s sent", message.id)
            tick.sent.append(message.id)


def run_once(engine: Engine, settings: Settings, *, now: datetime | None = None) -> Tick:
    tick = Tick()
    public = base_url(settings)
    with db.write_session(engine) as session:
        report = online.run_schedule(session, public, now=now)
    with db.write_session(engine) as session:
        tick.pruned = ratelimit.prune(session, now=now)  # attempt buckets untouched for a week
    tick.opened, tick.closed, tick.reminders = report.opened, report.closed, report.reminders
    for round_id in report.opened:
        log.info("round %s opened on time", round_id)
    for round_id in report.closed:
        log.info("round %s closed on time and counted", round_id)
    if report.reminders:
        log.info("%s scheduled reminders queued", report.reminders)
    target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
    send_due(engine, target, settings.mail_from, public, tick, now=now)
    return tick


def run_forever(engine: Engine, settings: Settings, interval: float, stop: threading.Event) -> None:
    if not settings.smtp_url:
        log.warning("CODESIGN_SMTP_URL is not set: rounds open and close on time, but messages wait in the outbox")
    while not stop.is_set():
        try:
            run_once(engine, settings)
        except Exception:  # one bad pass (the database restarting) must not end the worker
            log.exception("worker pass failed; trying again in %s s", interval)
        stop.wait(interval)
