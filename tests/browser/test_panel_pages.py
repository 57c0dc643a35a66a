"""The panel pages in a real browser: axe-core with no rule disabled and no sideways scrolling, at a
phone's width and a laptop's, on every panel page and each of its error states (422)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from codesign import db
from codesign.config import Settings
from codesign.models import Role, User, WorkshopSession
from codesign.services import population, rounds, sessions
from tests.browser.conftest import LiveServer, axe_violations
from tests.browser.helpers import LAPTOP, PHONE, sideways_scroll, sign_in
from tests.conftest import PASSWORD, make_user
from tests.panels.helpers import make_study, open_all, person_in, rate

pytestmark = pytest.mark.browser


def _study(settings: Settings) -> tuple[str, dict[str, Any]]:
    engine = db.make_engine(settings)
    try:
        with Session(engine) as s:
            actor: User = make_user(s, Role.facilitator)
            group = population.create_population_group(s, actor, "Adults with diabetes", "", "adults-with-diabetes")
            assert group.id is not None
            workshop: WorkshopSession = sessions.create_session(s, actor, group.id, "Workshop one", "2027-03-20")
            study = make_study(s, actor, workshop, 3)
            assert study.panel.id is not None
            from codesign.services import panels

            asha = panels.add_panellist(s, actor, study.panel.id, "Asha Patel", "asha@example.com", "patient")
            # Enough people for the people list to have pages (50 a page).
            from codesign.services import panel_people
            panel_people.upload_panel_list(s, actor, study.panel.id, "name,email,group\n" + "".join(
                f"Person {i:03d},person{i:03d}@example.org,{('patient', 'carer')[i % 2]}\n" for i in range(120)))
            open_all(s, actor, study)
            for index, found in enumerate(study.rounds):
                for group_key in ("patient", "carer"):
                    rate(s, found, person_in(s, study.sessions[index], group_key, asha if index == 2 and
                                             group_key == "patient" else None), study.outcomes, ["9", "5", "1"])
                assert found.id is not None
                rounds.close_round(s, actor, found.session_id, found.id)
            draft = rounds.create_round(s, actor, workshop.id or 0, {
                "title": "Second round", "method": "rating", "combine": "weighted", "in_min": "70",
                "in_max_low": "15", "out_min": "70", "out_max_high": "15", "min_group_size": "5", "budget": "10",
                "outcomes": ",".join(map(str, study.outcomes))})
            return actor.email, {"group": group.id, "panel": study.panel.id, "pooled": study.panel_round_id,
                                 "person": asha.id, "session": workshop.id, "draft": draft.id}
    finally:
        engine.dispose()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["360", "1280"])
def test_panel_pages_pass_axe_and_fit(viewport: dict[str, Any], guarded: Any, live_server: LiveServer,
                                      settings: Settings) -> None:
    email, ids = _study(settings)
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

    def submit(name: str, button: Any) -> None:
        with page.expect_navigation() as navigation:
            button.click()
        assert navigation.value is not None and navigation.value.status == 422, name
        check(name)

    panel = f"/panels/{ids['panel']}"
    visit("panels", f"/groups/{ids['group']}/panels")
    submit("panels-error-422", page.get_by_role("button", name="Create the panel"))
    visit("panel", panel)
    page.get_by_label("Email address").fill("not an email")
    submit("panel-add-error-422", page.get_by_role("button", name="Add to the panel"))
    page.get_by_label("Panel list (CSV)").set_input_files(files=[{
        "name": "list.csv", "mimeType": "text/csv", "buffer": b"name,email,group\nBen,asha@example.com,martians\n"}])
    submit("panel-upload-error-422", page.get_by_role("button", name="Upload the list"))
    visit("panel-page-2", f"{panel}?page=2")
    visit("panel-search", f"{panel}?q=person+01")
    visit("panel-search-nobody", f"{panel}?q=nobody+at+all")
    page.get_by_label("Participant").select_option(index=1)
    page.get_by_label("Is panellist number").fill("9999")
    submit("panel-match-error-422", page.get_by_role("button", name="Save the match"))
    visit("erase", f"{panel}/people/{ids['person']}/erase")
    visit("pooled-round", f"{panel}/rounds/{ids['pooled']}")
    visit("run-elsewhere", f"/sessions/{ids['session']}/rounds/{ids['draft']}/elsewhere")
    submit("run-elsewhere-error-422", page.get_by_role("button", name="Run it in these sessions"))
    assert problems == [], "\n".join(problems)
