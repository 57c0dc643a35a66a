"""Setting the facilitator's order on the new-round form in a browser without JavaScript: Move
down reorders the list and keeps focus on the button, and Enter in a field still creates the round."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select

from codesign.models import Outcome, Round, RoundOutcome, User, WorkshopSession
from tests.conftest import PASSWORD
from tests.round_helpers import accepted_ids

pytestmark = pytest.mark.browser


def test_the_facilitator_sets_the_order_without_javascript(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    first, second, third = (session.get_one(Outcome, i).statement for i in accepted_ids(session, workshop, 3))
    device = guarded(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = device.context.new_page()
    page.goto("/signin")
    page.get_by_label("Email address").fill(facilitator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()

    page.goto(f"/sessions/{workshop.id}/rounds/new")
    assert page.get_by_label("A different random order for each person").is_checked()
    page.get_by_label("Title").fill("Our order")
    page.get_by_role("button", name=f"Move down “{first}”", exact=True).click()
    page.get_by_role("button", name=f"Move down “{first}”", exact=True).wait_for()
    labels = page.locator(".app-arranged__item .nhsuk-checkboxes__label").all_inner_texts()
    assert labels[:3] == [second, first, third]
    # Focus stays on the button pressed, so pressing it again moves the outcome further.
    # (Locators, not page.evaluate: with JavaScript off only Playwright's own world runs scripts.
    # axe checks this page, with scripts on, in the accessibility sweep.)
    assert page.locator("button:focus").get_attribute("value") == page.get_by_role(
        "button", name=f"Move down “{first}”", exact=True).get_attribute("value")
    assert page.get_by_label("Title").input_value() == "Our order"  # what was typed is kept
    page.get_by_label("The same order for everyone: the order of the list below").check()
    # Enter in a text field submits with the form's first submit button: "Create round".
    page.get_by_label("Title").press("Enter")
    page.locator("#round-order").wait_for()
    made = session.exec(select(Round).where(Round.title == "Our order")).one()
    positions = session.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == made.id)
                             .order_by(col(RoundOutcome.position))).all()
    statements = [session.get_one(Outcome, i).statement for i in positions]
    assert statements[:3] == [second, first, third]
    assert page.locator("#round-order dd").inner_text().startswith(f"In this order: 1. {second}; 2. {first}; 3. {third}")
    assert device.blocked == []
