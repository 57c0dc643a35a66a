"""The indicator data and peer pages in a real browser: axe clean (no rule disabled), no sideways
scrolling, at a phone's and a laptop's width, with their 422 error states."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from codesign.models import Role
from codesign.services.demo import seed_demo_evidence
from tests.browser.conftest import axe_violations
from tests.browser.helpers import LAPTOP, PHONE, sideways_scroll, sign_in
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["360", "1280"])
def test_evidence_pages_pass_axe(guarded: Any, session: Session, viewport: dict[str, Any], tmp_path: Any) -> None:
    seed_demo_evidence(session, None)
    user = make_user(session, Role.commissioner)
    context = guarded(**viewport)
    page = context.context.new_page()
    sign_in(page, user.email, PASSWORD)
    problems: dict[str, list[Any]] = {}

    def check(name: str) -> None:
        found = axe_violations(page) + sideways_scroll(page)
        if found:
            problems[name] = found

    page.goto("/evidence")
    page.get_by_role("heading", name="Indicators held").wait_for()
    check("data")
    bad = tmp_path / "bad.csv"
    bad.write_text("Area Code,Value\nA,1\n", encoding="utf-8")
    page.get_by_label("CSV file of indicator data").set_input_files(str(bad))
    page.get_by_role("button", name="Import indicator data").click()
    page.get_by_text("missing columns").first.wait_for()
    check("data-error-422")
    page.goto("/evidence/peers?area=DEMO-HI")
    assert "DEMO-P01" in page.get_by_label("Peer area codes").input_value()
    check("peers")
    page.get_by_label("Peer area codes").fill("DEMO-HI")
    page.get_by_role("button", name="Save peers").click()
    page.get_by_text("cannot be its own peer").first.wait_for()
    check("peers-error-422")
    assert problems == {}
    assert context.blocked == []
