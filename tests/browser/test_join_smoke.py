"""A participant joins with the code on a 768x1024 tablet; axe-core finds nothing on the way."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from codesign.models import Outcome, Participant
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser
TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True}


def test_participant_joins_by_code_and_proposes(guarded: Any, workshop: Any, session: Session) -> None:
    tablet = guarded(**TABLET)
    page = tablet.context.new_page()
    page.goto("/join")
    assert axe_violations(page) == []
    screenshot(page, "join-768")

    page.get_by_label("Enter the code on the screen").fill(workshop.join_code.lower())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**/j/{workshop.join_code}/group")
    assert axe_violations(page) == []
    screenshot(page, "choose-group-768")

    page.get_by_label("Your first name (optional)").fill("Ann")
    page.get_by_role("button", name="Carer").click()
    page.wait_for_url(f"**/s/{workshop.join_code}")
    page.get_by_label("Your idea").fill("Carers get a proper break")
    page.get_by_role("button", name="Send my idea").click()
    page.get_by_text("Your idea has been sent").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "propose-768")

    # Bad input: an empty idea is refused with the NHS.UK error summary, and nothing is saved.
    page.get_by_role("button", name="Send my idea").click()
    page.get_by_text("There is a problem").wait_for()
    assert axe_violations(page) == []

    assert session.exec(select(Participant)).one().first_name == "Ann"
    assert [o.statement for o in session.exec(select(Outcome).where(Outcome.source == "participant"))] == [
        "Carers get a proper break"]
    assert [u for u in tablet.blocked if "127.0.0.1" not in u] == []


def test_the_qr_link_submits_the_code_by_itself_once(guarded: Any, workshop: Any, session: Session) -> None:
    """Scanning the QR code opens /j/<code>: the code form, filled in, which our script sends once,
    landing on "Which group are you in?". Opened again in the same tab, the form waits for a tap."""
    tablet = guarded(**TABLET)
    page = tablet.context.new_page()
    page.goto(f"/j/{workshop.join_code}")
    page.wait_for_url(f"**/j/{workshop.join_code}/group")
    page.get_by_role("heading", name="Which group are you in?").wait_for()
    page.goto(f"/j/{workshop.join_code}")
    assert page.get_by_label("Enter the code on the screen").input_value() == workshop.join_code
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Patient", exact=True).click()
    page.wait_for_url(f"**/s/{workshop.join_code}")
    page.goto(f"/j/{workshop.join_code}")  # joined: straight back in
    page.wait_for_url(f"**/s/{workshop.join_code}")
    assert len(session.exec(select(Participant)).all()) == 1
