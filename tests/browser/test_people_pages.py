"""A session's people page and console after a big ballot import, in a real browser: axe-core with
no rule disabled and no sideways scrolling at a phone's width and a laptop's, on every page of the
list and its searches, a person's page (with the merge form by number in a room too big to list)
and its 422, the console and a round's progress with imported ballots counted apart."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from codesign import db
from codesign.config import Settings
from codesign.models import Role, User
from codesign.queries.people import MERGE_CHOICES
from codesign.services import ballots, people, population, round_import, rounds, sessions
from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.helpers import LAPTOP, PHONE, sideways_scroll, sign_in
from tests.conftest import PASSWORD, make_user
from tests.round_helpers import accepted_ids, round_form

pytestmark = pytest.mark.browser
GROUPS = ("patient", "carer", "clinician", "commissioner")


def _session(settings: Settings) -> tuple[str, dict[str, Any]]:
    """A room bigger than the merge list (MERGE_CHOICES + 3), one removed, and 120 imported voters."""
    engine = db.make_engine(settings)
    try:
        with Session(engine) as s:
            actor: User = make_user(s, Role.facilitator)
            group = population.create_population_group(s, actor, "Adults with diabetes", "", "adults-with-diabetes")
            assert group.id is not None
            workshop = sessions.create_session(s, actor, group.id, "Big survey workshop", "2027-03-20")
            assert workshop.id is not None
            ids = accepted_ids(s, workshop, 2)
            made = rounds.create_round(s, actor, workshop.id, round_form(ids))
            found = rounds.open_round(s, actor, workshop.id, made.id or 0, acknowledge_small=True)
            room = [sessions.join_session(s, workshop.id, GROUPS[i % 4], f"Person {i}" if i % 3 else "", str(1 + i % 9))
                    for i in range(MERGE_CHOICES + 3)]
            ballots.answer_rating(s, found.id or 0, room[0].id or 0, ids[0], "8", "browser-people-key-0001")
            people.remove_person(s, actor, workshop.id, room[-1].id or 0, "Joined the wrong workshop", "keep")
            text = "participant,group,outcome,value\n" + "".join(
                f"PAPER-{i:04d},{GROUPS[i % 4]},{o},{1 + i % 9}\n" for i in range(120) for o in ids)
            round_import.import_ballots(s, actor, workshop.id, found.id or 0, text, "paper.csv")
            return actor.email, {"session": workshop.id, "round": found.id, "person": room[0].id}
    finally:
        engine.dispose()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["360", "1280"])
def test_people_pages_pass_axe_and_fit(viewport: dict[str, Any], guarded: Any, live_server: LiveServer,
                                       settings: Settings) -> None:
    email, ids = _session(settings)
    page = guarded(**viewport).context.new_page()
    sign_in(page, email, PASSWORD)
    problems: list[str] = []

    def check(name: str) -> None:
        problems.extend(f"{name}: axe {v['id']} [{v['impact']}] {v['help']} at {v['nodes']}"
                        for v in axe_violations(page))
        problems.extend(f"{name}: {p}" for p in sideways_scroll(page))

    def visit(name: str, url: str) -> None:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        check(name)

    listed = f"/sessions/{ids['session']}/people"
    visit("people", listed)
    screenshot(page, f"people-imported-{viewport['viewport']['width']}")
    page.get_by_role("navigation", name="Pages of people in this session").get_by_role("link", name="Next").click()
    page.wait_for_url("**page=2*")
    check("people-page-2")
    visit("people-last-page", f"{listed}?page=99")
    page.get_by_label("Find someone").fill("PAPER-0042")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("status").filter(has_text="1 person matches").wait_for()
    check("people-search")
    visit("people-search-filters", f"{listed}?group=carer&who=imported")
    visit("people-search-nobody", f"{listed}?q=nobody+at+all")
    visit("console", f"/sessions/{ids['session']}")
    screenshot(page, f"console-imported-{viewport['viewport']['width']}")
    visit("round-console", f"/sessions/{ids['session']}/rounds/{ids['round']}")
    visit("round-projector", f"/sessions/{ids['session']}/rounds/{ids['round']}/projector")
    visit("person-merge-by-number", f"{listed}/{ids['person']}")
    page.get_by_label("Their participant number", exact=False).fill("99999")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Make them one person").click()
    assert navigation.value is not None and navigation.value.status == 422
    check("person-merge-error-422")
    assert problems == [], "\n".join(problems)
