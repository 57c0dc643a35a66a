"""Mail through a real local SMTP server (aiosmtpd): invitations, reminders only to those who have
not finished, unsubscribing honoured, an outage survived, failures shown and tried again, and two
workers sending each message once."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign.config import Settings
from codesign.mail import outbox, worker
from codesign.mail.smtp import parse_smtp_url
from codesign.models import MailStatus, OutboxMessage, Participant, User, WorkshopSession, utcnow
from codesign.services import ballots, online, panels
from tests.conftest import post_form, sign_in
from tests.online.helpers import SmtpServer, Study, make_study

BASE = "http://testserver"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return settings.with_overrides(smtp_url=smtp.url, mail_from="Outcomes study <study@example.nhs.uk>",
                                   public_url=BASE)


@pytest.fixture
def study(session: Session, facilitator: User, workshop: WorkshopSession) -> Study:
    return make_study(session, facilitator, workshop)


def finish_round(db: Session, study: Study, index: int, answers: int | None = None) -> Participant:
    """Panellist `index` opens their link and rates `answers` outcomes (all: finished)."""
    _, participant = online.start_link(db, study.people[index].link_token or "")
    from codesign.services.rounds import round_outcome_ids

    ids = list(round_outcome_ids(db, study.round.id or 0))
    for outcome_id in ids[:answers if answers is not None else len(ids)]:
        ballots.answer_rating(db, study.round.id or 0, participant.id or 0, outcome_id, "8", uuid.uuid4().hex)
    return participant


def test_invitations_go_once_to_everyone_with_their_own_links(session: Session, engine: Engine, study: Study,
                                                              facilitator: User, mail_settings: Settings,
                                                              smtp: SmtpServer) -> None:
    sid, rid = study.session.id or 0, study.round.id or 0
    assert online.queue_invitations(session, facilitator, sid, rid, BASE) == 3
    assert online.queue_invitations(session, facilitator, sid, rid, BASE) == 0  # a double click: nothing new
    tick = worker.run_once(engine, mail_settings)
    assert len(tick.sent) == 3 and not tick.failed
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["asha@example.com", "ben@example.com", "cara@example.com"]
    for person in study.people:
        [message] = smtp.inbox.to(person.email or "")
        text = smtp.inbox.text(message)
        html = message.get_body(("html",))
        assert html is not None and f"{BASE}/take-part/{person.link_token}" in str(html.get_content())
        assert f"{BASE}/take-part/{person.link_token}" in text and f"{BASE}/unsubscribe/{person.unsubscribe_token}" in text
        assert message["List-Unsubscribe"].strip() == f"<{BASE}/unsubscribe/{person.unsubscribe_token}/one-click>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["From"] == "Outcomes study <study@example.nhs.uk>"
        assert f"Hello {person.name}" in text and "Living well with diabetes" in message["Subject"]
    assert worker.run_once(engine, mail_settings).sent == []  # nothing twice
    assert len(smtp.inbox.messages) == 3


def test_reminders_go_only_to_those_who_have_not_finished(session: Session, engine: Engine, study: Study,
                                                          facilitator: User, mail_settings: Settings,
                                                          smtp: SmtpServer) -> None:
    finish_round(session, study, 0)  # Asha finished
    finish_round(session, study, 1, answers=2)  # Ben answered half; Cara never started
    assert online.queue_reminders(session, facilitator, study.session.id or 0, study.round.id or 0, BASE) == 2
    worker.run_once(engine, mail_settings)
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["ben@example.com", "cara@example.com"]
    assert all("not finished" in smtp.inbox.text(m) for m in smtp.inbox.messages)


def test_a_waiting_reminder_is_cancelled_when_its_panellist_finishes(session: Session, engine: Engine,
                                                                     study: Study, facilitator: User,
                                                                     mail_settings: Settings,
                                                                     smtp: SmtpServer) -> None:
    online.queue_reminders(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    finish_round(session, study, 2)  # Cara finishes while her reminder waits
    worker.run_once(engine, mail_settings)
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["asha@example.com", "ben@example.com"]
    cancelled = session.exec(select(OutboxMessage).where(OutboxMessage.status == MailStatus.cancelled)).one()
    assert cancelled.panellist_id == study.people[2].id and cancelled.to_address is None


def test_unsubscribing_stops_all_mail(client: TestClient, session: Session, engine: Engine, study: Study,
                                      facilitator: User, mail_settings: Settings, smtp: SmtpServer) -> None:
    cara = study.people[2]
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    page = client.get(f"/unsubscribe/{cara.unsubscribe_token}")
    assert page.status_code == 200 and "Stop emails" in page.text
    session.refresh(cara)
    assert cara.unsubscribed_at is None  # the page alone changes nothing
    done = post_form(client, f"/unsubscribe/{cara.unsubscribe_token}", {}, token_from=f"/unsubscribe/{cara.unsubscribe_token}")
    assert done.status_code == 303
    assert "no more emails" in client.get(done.headers["location"]).text
    worker.run_once(engine, mail_settings)  # the invitations
    later = utcnow() + timedelta(hours=25)  # no reminder within a day of the invitation
    online.queue_reminders(session, facilitator, study.session.id or 0, study.round.id or 0, BASE, now=later)
    worker.run_once(engine, mail_settings, now=later)
    assert smtp.inbox.to("cara@example.com") == []
    assert len(smtp.inbox.to("asha@example.com")) == 2  # an invitation and a reminder
    # The panel's mail page (staff) lists who unsubscribed.
    sign_in(client, facilitator)
    assert "Panellist 3 (Cara Lee)" in client.get(f"/panels/{study.panel.id}/mail").text


def test_an_outage_is_survived_and_every_message_arrives_once(session: Session, engine: Engine, study: Study,
                                                              facilitator: User, mail_settings: Settings,
                                                              smtp: SmtpServer) -> None:
    smtp.stop()
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    now = utcnow()
    tick = worker.run_once(engine, mail_settings, now=now)
    assert len(tick.failed) == 3 and tick.sent == []
    waiting = session.exec(select(OutboxMessage)).all()
    assert all(m.status == MailStatus.pending and m.attempts == 1 and m.last_error for m in waiting)
    assert all("Could not reach the mail server" in m.last_error for m in waiting)
    assert all(m.next_attempt_at.replace(tzinfo=None) > now.replace(tzinfo=None) for m in waiting)
    assert worker.run_once(engine, mail_settings, now=now).failed == []  # not due again yet: no hammering
    smtp.start()
    assert worker.run_once(engine, mail_settings, now=now + timedelta(seconds=30)).sent == []  # still waiting
    tick = worker.run_once(engine, mail_settings, now=now + outbox.backoff(1))
    assert len(tick.sent) == 3
    worker.run_once(engine, mail_settings, now=now + timedelta(hours=2))
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["asha@example.com", "ben@example.com", "cara@example.com"]


def test_a_message_that_keeps_failing_is_shown_and_can_be_tried_again(client: TestClient, session: Session,
                                                                      engine: Engine, study: Study,
                                                                      facilitator: User, mail_settings: Settings,
                                                                      smtp: SmtpServer) -> None:
    smtp.stop()
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    now = utcnow()
    for attempt in range(outbox.MAX_ATTEMPTS):
        worker.run_once(engine, mail_settings, now=now)
        now += outbox.backoff(attempt + 1)
    assert {m.status for m in session.exec(select(OutboxMessage))} == {MailStatus.failed}
    sign_in(client, facilitator)
    page = client.get(f"/panels/{study.panel.id}/mail")
    assert page.status_code == 200 and "Could not reach the mail server" in page.text
    assert "asha@example.com" not in page.text  # the mail page names panellists by number
    message = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).first()
    assert message is not None
    retried = post_form(client, f"/panels/{study.panel.id}/mail/{message.id}/retry", {},
                        token_from=f"/panels/{study.panel.id}/mail")
    assert retried.status_code == 303
    smtp.start()
    assert worker.run_once(engine, mail_settings).sent == [message.id]
    assert len(smtp.inbox.messages) == 1


def test_the_worker_logs_message_ids_never_addresses(session: Session, engine: Engine, study: Study,
                                                     facilitator: User, mail_settings: Settings,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    with caplog.at_level(logging.INFO, logger="codesign.worker"):
        tick = worker.run_once(engine, mail_settings)
    logged = caplog.text
    assert all(f"message {i} sent" in logged for i in tick.sent) and "@" not in logged


def test_two_workers_at_once_send_each_message_once(session: Session, engine: Engine, facilitator: User,
                                                    workshop: WorkshopSession, mail_settings: Settings,
                                                    smtp: SmtpServer) -> None:
    study = make_study(session, facilitator, workshop)
    for n in range(37):
        panels.add_panellist(session, facilitator, study.panel.id or 0, f"Person {n}", f"p{n}@example.com", "patient")
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    target = parse_smtp_url(smtp.url)
    start = threading.Barrier(2)
    ticks = [worker.Tick(), worker.Tick()]
    errors: list[BaseException] = []

    def run(tick: worker.Tick) -> None:
        try:
            start.wait(timeout=10)
            worker.send_due(engine, target, mail_settings.mail_from, BASE, tick)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in ticks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    sent = ticks[0].sent + ticks[1].sent
    assert len(sent) == len(set(sent)) == 40
    assert len(smtp.inbox.messages) == 40
    assert len({m["X-Codesign-Outbox-Id"] for m in smtp.inbox.messages}) == 40


def test_codesign_worker_once_sends_what_is_due(session: Session, study: Study, facilitator: User,
                                                 mail_settings: Settings, smtp: SmtpServer,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from codesign.cli import main

    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    for name, value in (("CODESIGN_DATABASE_URL", mail_settings.database_url), ("CODESIGN_ENV", "test"),
                        ("CODESIGN_SMTP_URL", smtp.url), ("CODESIGN_MAIL_FROM", "study@example.nhs.uk")):
        monkeypatch.setenv(name, value)
    assert main(["worker", "--once"]) == 0
    assert "3 sent" in capsys.readouterr().out
    assert len(smtp.inbox.messages) == 3
