"""An online panellist on a phone (390x844): opens the link from the email the worker sent to a
real local SMTP server, answers half, leaves, comes back by the same link on a fresh browser, sees
their answers, finishes; then a reminder goes to those who did not finish, and not to them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from codesign.config import Settings
from codesign.mail import worker
from codesign.models import Ballot, Round, User, WorkshopSession, utcnow
from codesign.services import online
from tests.browser.conftest import axe_violations, screenshot
from tests.live_server import LiveServer
from tests.online.helpers import SmtpServer, make_study

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/take-part/[A-Za-z0-9_-]+)")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def tap_rating(page: Any, value: int) -> None:
    label = "Critical" if value >= 7 else "Important but not critical" if value >= 4 else "Not important"
    page.get_by_role("button", name=f"{label}: {value}", exact=True).tap()


def test_a_panellist_answers_over_two_visits_by_their_emailed_link(
        guarded: Any, live_server: LiveServer, session: Session, engine: Engine, settings: Settings,
        facilitator: User, workshop: WorkshopSession, smtp: SmtpServer) -> None:
    study = make_study(session, facilitator, workshop)
    found = session.get(Round, study.round.id)
    assert found is not None
    found.closes_at = utcnow() + timedelta(days=7)
    session.add(found)
    session.commit()
    mail = settings.with_overrides(smtp_url=smtp.url, mail_from="study@example.nhs.uk", public_url=live_server.url)
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, live_server.url)
    assert len(worker.run_once(engine, mail).sent) == 3
    [invitation] = smtp.inbox.to("asha@example.com")
    link = LINK.search(smtp.inbox.text(invitation))
    assert link is not None

    # First visit: the link, "Start", and two of the four questions.
    phone = guarded(**PHONE)
    page = phone.context.new_page()
    page.goto(link.group(1))
    page.get_by_role("heading", name="Hello Asha Patel").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "online-start-390")
    page.get_by_role("button", name="Start").tap()
    page.wait_for_url("**/q/1*")
    tap_rating(page, 8)
    page.wait_for_url("**/q/2*")
    tap_rating(page, 5)
    page.wait_for_url("**/q/3*")
    assert axe_violations(page) == []
    phone.close()

    # Later, on a fresh browser (no cookie): the same link goes straight back to question 3.
    again = guarded(**PHONE)
    page = again.context.new_page()
    page.goto(link.group(1))
    page.wait_for_url("**/q/3*")
    page.get_by_role("link", name="See all my answers").tap()
    page.get_by_role("heading", name="Your answers so far").wait_for()
    answers = page.locator(".app-answer-list li").all_inner_texts()
    assert [a.rsplit(":", 1)[1].strip() for a in answers] == ["8", "5", "not answered", "not answered"]
    screenshot(page, "online-return-390")
    page.get_by_role("link", name="Carry on").tap()
    page.wait_for_url("**/q/3*")
    tap_rating(page, 9)
    page.wait_for_url("**/q/4*")
    tap_rating(page, 2)
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    assert axe_violations(page) == []
    assert [u for u in again.blocked if "127.0.0.1" not in u] == []
    ballot = session.exec(select(Ballot).where(Ballot.round_id == study.round.id)).one()
    assert ballot.finished_at is not None

    # A reminder a day later (none within 24 hours of the invitations): to Ben and Cara, who have
    # not finished; not to Asha.
    later = utcnow() + timedelta(hours=25)
    online.queue_reminders(session, facilitator, study.session.id or 0, study.round.id or 0, live_server.url,
                           now=later)
    worker.run_once(engine, mail, now=later)
    reminded = sorted(m["To"] for m in smtp.inbox.messages if "reminder" in m["Subject"].lower())
    assert reminded == ["ben@example.com", "cara@example.com"]
