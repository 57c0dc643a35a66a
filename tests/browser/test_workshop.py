"""A whole workshop in a real browser, from an empty database to the contract appendix.

A facilitator (laptop) sets up a population group and a session; the projector (1920x1080) shows the
join code; six people on tablets and phones (touch) join by the QR link, each in a stakeholder
group, and propose an outcome; the facilitator accepts the proposals, runs a rating round and a
ranking round, and reveals each result; every device follows the room by itself (no reloads) and
the projector picks up each result (htmx polling);
then a commissioner builds the framework from the rating round, completes the measurement
definitions and payment, freezes version 1 and downloads Appendix A as a Word document.

Every screen is photographed into test-output/screenshots/workshop-*.png. No sleeps: every wait is
on something the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from codesign.config import Settings
from codesign.models import Ballot, BallotAnswer, FrameworkVersion, Role, User, VersionStatus
from tests.browser.conftest import screenshot
from tests.browser.helpers import LAPTOP, PHONE, PROJECTOR, TABLET_LANDSCAPE, TABLET_PORTRAIT, sign_in
from tests.conftest import PASSWORD, SECRET, make_user

pytestmark = pytest.mark.browser

HYPOS = "I do not have severe hypos where I need someone else to help me"
FEET = "I keep my feet and legs: no amputation that could have been avoided"
# (device, group button, idea they propose)
PEOPLE = [
    (TABLET_PORTRAIT, "Patient", "I see the same nurse at every diabetes check"),
    (TABLET_LANDSCAPE, "Carer", "Carers are told what to do when sugar levels drop"),
    (PHONE, "Clinician", "Foot checks happen every year without chasing"),
    (TABLET_PORTRAIT, "Commissioner", "Fewer emergency admissions for diabetes"),
    (TABLET_LANDSCAPE, "Patient", "Education courses in the evening for working people"),
    (PHONE, "Carer", "Someone to talk to when diabetes gets me down"),
]
IN_ROUND = [HYPOS, FEET, PEOPLE[0][2], PEOPLE[2][2], PEOPLE[5][2]]
# Everyone rates the two library outcomes critical (so both reach consensus IN) and the rest lower.
RATINGS = {HYPOS: "Critical: 9", FEET: "Critical: 8", PEOPLE[0][2]: "Important but not critical: 6",
           PEOPLE[2][2]: "Important but not critical: 5", PEOPLE[5][2]: "Not important: 3"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """As the suite's settings, but the console and projector poll every half second (not every two),
    so the test waits less for them to catch up."""
    return Settings(database_url=database_url, env="test", secret_key=SECRET, secure_cookies=False,
                    poll_interval_ms=500)


def _create_round(page: Any, session_url: str, title: str, method: str, **options: str) -> str:
    page.goto(session_url)
    page.get_by_role("link", name="Create a voting round").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label(method).check()
    for label, value in options.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Untick all outcomes").click()
    for statement in IN_ROUND:
        page.get_by_role("checkbox", name=statement, exact=True).check()
    if method.startswith("Rating"):
        screenshot(page, "workshop-facilitator-new-round")
    page.get_by_role("button", name="Create round").click()
    # Six people in four groups: every group is under the round's minimum, and the page says what
    # that hides before the facilitator can open it.
    page.get_by_text("Some groups are too small to show").wait_for()
    page.get_by_label("I know which groups will be hidden").check()
    page.get_by_role("button", name="Open round for voting").click()
    page.get_by_text("Open", exact=True).wait_for()
    return str(page.url)


def _close_and_reveal(page: Any, round_url: str, voters: int) -> None:
    page.goto(round_url)
    voted = sum(int(t) for t in page.locator("#round-progress tbody td:nth-child(3)").all_inner_texts())
    assert voted == voters
    page.get_by_role("button", name="Close round").click()
    page.get_by_role("button", name="Reveal results to everyone").click()
    page.get_by_text("Results revealed").wait_for()


def _fill_definition(page: Any) -> None:
    """Fill what the library indicator left empty, respecting the indicator's direction."""
    lower = page.locator("#direction").input_value() == "lower"
    values = {
        "population": "Adults with diabetes registered with a GP practice in the area",
        "baseline_value": "40", "baseline_period": "2025/26", "baseline_source": "National Diabetes Audit 2025/26",
        "rag_green": "30" if lower else "50", "rag_amber": "35" if lower else "45",
        "consequence_of_breach": "A remedial action plan within 30 days",
        "accountable_providers": "Lead provider", "evidence": "Quarterly indicator report",
        "review_date": "2029-03-31", "data_owner": "NHS England", "small_number_rule": "Suppress counts below 5",
        "reporting_lag_months": "3", "rationale": "Voted critical by every group", "exclusions": "None",
        "time_base": "Rolling 12 months", "measurement_period": "The 12 months to 31 December in each contract year",
        "data_submission": "Quarterly extract to the ICB", "payment_timing": "On account; reconciled at year end",
        "floor_cap": "Floor at baseline; cap 100%", "breach_applies": "From the first paid year",
        "dispute_route": "Joint data quality group",
    }
    for field, value in values.items():
        box = page.locator(f"#{field}")
        if not box.input_value():
            box.fill(value)
    for field in ("indicator_type", "unit", "direction", "data_source", "collection_frequency",
                  "reporting_frequency", "achievement", "payment_thresholds"):
        select = page.locator(f"#{field}")
        if not select.input_value():
            select.select_option(index=1)
    targets = page.locator("input[id^=target-]")
    for i in range(targets.count()):
        targets.nth(i).fill(str(40 - 5 * i) if lower else str(40 + 5 * i))


def test_a_whole_workshop(guarded: Callable[..., Any], session: Session, tmp_path: Path) -> None:
    facilitator = make_user(session, Role.facilitator, "facilitator@example.nhs.uk")
    commissioner = make_user(session, Role.commissioner, "commissioner@example.nhs.uk")
    contexts = [guarded(**LAPTOP), guarded(**PROJECTOR), guarded(**LAPTOP)]
    laptop, projector, office = (c.context.new_page() for c in contexts)
    laptop.on("dialog", lambda dialog: dialog.accept())  # "Open the round?", "Close the round?"
    office.on("dialog", lambda dialog: dialog.accept())  # "Freeze version 1?"

    # --- The facilitator sets up: population group from the diabetes template, then a session.
    sign_in(laptop, facilitator.email, PASSWORD)
    laptop.get_by_role("button", name="Create a population group").click()
    laptop.get_by_label("Name").fill("Adults with diabetes, Tottenham")
    laptop.get_by_role("radio", name="Adults with diabetes").check()
    screenshot(laptop, "workshop-facilitator-new-group")
    laptop.get_by_role("button", name="Create population group").click()
    laptop.get_by_role("heading", name="Adults with diabetes, Tottenham").wait_for()
    laptop.get_by_role("button", name="Create a session").click()
    laptop.get_by_label("Title").fill("Diabetes outcomes workshop")
    laptop.get_by_role("button", name="Create session").click()
    laptop.get_by_role("heading", name="Who has joined").wait_for()
    session_url = laptop.url
    join_url = laptop.locator("main a[href*='/j/']").get_attribute("href")
    assert join_url is not None
    screenshot(laptop, "workshop-facilitator-console")

    # --- The projector shows the code and counts people in as they arrive.
    sign_in(projector, facilitator.email, PASSWORD)
    projector.goto(session_url + "/projector")
    projector.get_by_text("0 people joined").wait_for()
    screenshot(projector, "workshop-projector-lobby-empty")

    # --- Six people join by the QR link on their own devices, each proposes an idea.
    people = []
    for options, group, idea in PEOPLE:
        person = guarded(**options)
        contexts.append(person)
        page = person.context.new_page()
        page.goto(join_url)
        page.get_by_role("button", name=group, exact=True).tap()
        page.get_by_label("Your idea").fill(idea)
        page.get_by_role("button", name="Send my idea").tap()
        page.get_by_text("Your idea has been sent").wait_for()
        people.append(page)
    screenshot(people[0], "workshop-participant-proposed-768")
    screenshot(people[2], "workshop-participant-proposed-360")
    projector.get_by_text("6 people joined").wait_for()
    screenshot(projector, "workshop-projector-lobby-six")

    # --- The console shows the proposals as they arrive (polling); the facilitator accepts each.
    laptop.get_by_role("heading", name="New proposals (6)").wait_for()
    screenshot(laptop, "workshop-facilitator-proposals")
    for _device, _group, idea in PEOPLE:
        accept = laptop.get_by_role("button", name=f"Accept “{idea}”")
        accept.click()
        expect(accept).to_have_count(0)
    laptop.get_by_role("heading", name="New proposals (0)").wait_for()
    laptop.get_by_role("heading", name=re.compile(r"Accepted outcomes \(29\)")).wait_for()

    # --- Rating round over five outcomes: open, everyone votes by tapping, close, reveal.
    rating_url = _create_round(laptop, session_url, "How important is each outcome?", "Rating 1 to 9")
    projector.goto(rating_url + "/projector")
    projector.get_by_text("0 of 6 people have finished").wait_for()
    for index, page in enumerate(people):
        # Nobody reloads: each device goes to the first question by itself when the round opens.
        for n in range(1, 6):
            page.get_by_text(f"Question {n} of 5").wait_for()
            if index == 0 and n == 1:
                screenshot(page, "workshop-participant-rating-768")
            statement = page.locator("h1").inner_text().strip()
            page.get_by_role("button", name=RATINGS[statement], exact=True).tap()
        page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    screenshot(people[0], "workshop-participant-thank-you-768")
    screenshot(people[2], "workshop-participant-thank-you-360")
    projector.get_by_text("6 of 6 people have finished").wait_for()
    screenshot(projector, "workshop-projector-rating-voting")
    _close_and_reveal(laptop, rating_url, 6)
    screenshot(laptop, "workshop-facilitator-rating-results")
    rows = projector.locator(".app-projector-table tbody tr")
    expect(rows).to_have_count(5, timeout=15_000)  # the projector polls every 2 s and swaps itself
    expect(rows.first.locator(".app-projector-table__statement")).to_have_text(HYPOS)
    screenshot(projector, "workshop-projector-rating-results")

    # --- Ranking round: Add, Move up, Send; the projector follows again.
    ranking_url = _create_round(laptop, session_url, "Your top three", "Ranking: top choices in order",
                                **{"Ranking: how many to put in order (top k)": "3"})
    projector.goto(ranking_url + "/projector")
    projector.get_by_text("0 of 6 people have finished").wait_for()
    for index, page in enumerate(people):
        page.get_by_role("button", name=f"Add {FEET}").wait_for()  # followed from the results by itself
        for statement in (FEET, HYPOS, PEOPLE[index % 3 * 2][2] if index % 3 < 2 else PEOPLE[5][2]):
            page.get_by_role("button", name=f"Add {statement}").tap()
            page.get_by_role("button", name=f"Remove {statement}").wait_for()
        page.get_by_role("button", name=f"Move up {HYPOS}").tap()
        expect(page.locator("ol.app-rank-list .app-rank-item__text").first).to_have_text(HYPOS)
        if index == 0:
            screenshot(page, "workshop-participant-ranking-768")
        page.get_by_role("button", name="Send my ranking").tap()
        page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    projector.get_by_text("6 of 6 people have finished").wait_for()
    _close_and_reveal(laptop, ranking_url, 6)
    expect(rows).to_have_count(5, timeout=15_000)
    expect(rows.first.locator(".app-projector-table__statement")).to_have_text(HYPOS)
    screenshot(projector, "workshop-projector-ranking-results")
    people[0].goto(ranking_url.replace(session_url, join_url.replace("/j/", "/s/")))
    screenshot(people[0], "workshop-participant-ranking-results-768")

    # --- The commissioner builds the framework from the rating round, freezes it, downloads it.
    sign_in(office, commissioner.email, PASSWORD)
    office.get_by_role("link", name="Adults with diabetes, Tottenham").click()
    office.get_by_role("link", name="Outcomes framework").click()
    office.get_by_role("button", name="Start a draft framework").click()
    office.get_by_label("Closed round").select_option(
        label="Diabetes outcomes workshop · Round 1: How important is each outcome?")
    office.get_by_role("button", name="Use this round’s results").click()
    shortlist = office.locator("table.app-shortlist tbody tr")
    expect(shortlist).to_have_count(2)
    version_url = office.url.split("#")[0]
    for statement in (HYPOS, FEET):
        office.goto(version_url)
        office.get_by_role("link", name=statement).click()
        office.get_by_role("button", name=re.compile("^Use this indicator")).first.click()
        office.get_by_text("Still to fill in before freezing").wait_for()
        _fill_definition(office)
        office.get_by_role("button", name="Save definition").click()
        office.get_by_text("This definition is complete.", exact=True).wait_for()
    screenshot(office, "workshop-commissioner-definition")
    office.goto(version_url)
    office.get_by_role("link", name="Contract, payment terms, weights and the money preview").click()
    office.get_by_label("Annual contract value").fill("12,000,000")
    for field in ("protocol_reference", "ethics_consent", "funding", "eligibility", "limitations"):
        office.locator(f"#{field}").fill("Recorded for the workshop")
    for box in office.locator("textarea[id^=coi-]").all():
        box.fill("None declared")
    office.get_by_role("button", name="Save terms").click()
    office.get_by_role("button", name="Suggest weights from the combined scores").click()
    office.get_by_text("Total: 100%").wait_for()
    screenshot(office, "workshop-commissioner-payment")
    office.goto(version_url)
    office.get_by_text("Everything is in place.").wait_for()
    office.get_by_role("button", name="Freeze version 1").click()
    office.get_by_role("heading", name="Download Appendix A").wait_for()
    screenshot(office, "workshop-commissioner-frozen")
    with office.expect_download() as download_info:
        office.get_by_role("link", name="Word document (DOCX)").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".docx"
    document = docx.Document(str(saved))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for row in t.rows for c in row.cells])
    assert HYPOS in text and FEET in text  # the two outcomes agreed in the room are in Appendix A

    frozen = session.exec(select(FrameworkVersion).where(FrameworkVersion.status == VersionStatus.frozen)).one()
    assert frozen.sha256 and frozen.frozen_by_id == session.exec(
        select(User.id).where(User.email == commissioner.email)).one()
    # Every tap counted once: six rating ballots of five answers, six rankings of three.
    assert len(session.exec(select(Ballot).where(col(Ballot.submitted_at).is_not(None))).all()) == 12
    assert len(session.exec(select(BallotAnswer)).all()) == 6 * 5 + 6 * 3
    for c in contexts:
        assert c.blocked == [], c.blocked
