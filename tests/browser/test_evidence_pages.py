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


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["360", "1280"])
def test_definition_page_charts_load_pass_axe_and_fill_the_baseline(guarded: Any, session: Session,  # type: ignore[no-untyped-def]
                                                                     viewport: dict[str, Any]) -> None:
    import json

    from sqlmodel import col, select

    from codesign.models import FrameworkVersion, ShortlistItem, VersionStatus
    from codesign.services.demo import seed_demo

    seed_demo(session)
    draft = session.exec(select(FrameworkVersion).where(FrameworkVersion.status == VersionStatus.draft)).one()
    items = session.exec(select(ShortlistItem).where(ShortlistItem.version_id == draft.id, ShortlistItem.included)
                         .order_by(col(ShortlistItem.position))).all()
    item = next(i for i in items if json.loads(i.definition_json).get("evidence_indicator"))
    user = make_user(session, Role.commissioner)
    context = guarded(**viewport)
    page = context.context.new_page()
    sign_in(page, user.email, PASSWORD)
    page.goto(f"/frameworks/{draft.id}/outcomes/{item.id}")
    page.get_by_role("heading", name="Indicator data").wait_for()
    page.get_by_text("Illustrative data").first.wait_for()
    charts = page.locator("img.app-chart__image")
    assert charts.count() == 3
    # Each chart is drawn (the SVG decodes under the page's Content-Security-Policy) and says what it shows.
    sizes = charts.evaluate_all("els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
    assert all(done and width > 100 for done, width, _alt in sizes), sizes
    assert [alt.split(" ")[0] for _d, _w, alt in sizes] == ["Bar", "Funnel", "Line"]
    problems = axe_violations(page) + sideways_scroll(page)
    page.get_by_text("Compared with similar areas: the numbers as a table").click()
    assert page.get_by_role("table").first.is_visible()
    problems += axe_violations(page)
    page.get_by_role("button", name="Use this as the baseline").click()
    page.get_by_text("filled in from the indicator data").wait_for()
    problems += axe_violations(page) + sideways_scroll(page)
    assert problems == []
    assert context.blocked == []
