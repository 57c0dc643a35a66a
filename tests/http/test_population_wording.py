"""A population group about frailty (from its template, or started blank) never sees pages that
assume diabetes: no diabetes example, no diabetes indicator suggested, no diabetes audit offered."""

from __future__ import annotations

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import queries
from codesign.contract import definition as defs
from codesign.library import suggest_indicators
from codesign.models import User
from codesign.services import framework_versions, population, proposals, sessions, shortlist
from tests.conftest import join, sign_in
from tests.framework_helpers import closed_rating_round

BLANK_OUTCOMES = ["Fewer emergency admissions to hospital", "Fewer falls at home", "I feel less lonely",
                  "I die in the place I choose", "Fewer medicines that do me harm"]


@pytest.mark.parametrize("template", ["older-people-frailty", ""])
def test_frailty_pages_never_mention_diabetes(client: TestClient, other_client: TestClient, session: Session,
                                              facilitator: User, template: str) -> None:
    group = population.create_population_group(session, facilitator, "Older people living with frailty", "", template)
    workshop = sessions.create_session(session, facilitator, group.id, "Frailty workshop", "2026-04-01")  # type: ignore[arg-type]
    if not template:
        for statement in BLANK_OUTCOMES:
            proposals.add_outcome(session, facilitator, workshop.id, statement)  # type: ignore[arg-type]
    found = closed_rating_round(session, facilitator, workshop)
    version = framework_versions.start_draft(session, facilitator, group.id)  # type: ignore[arg-type]
    shortlist.build_from_round(session, facilitator, version.id, found.id)
    items = queries.get_version_view(session, version.id).items + queries.get_version_view(session, version.id).excluded
    sign_in(client, facilitator)
    join(other_client, workshop.join_code)
    pages = [f"/groups/{group.id}", f"/groups/{group.id}/sessions/new", f"/sessions/{workshop.id}",
             f"/frameworks/{version.id}", f"/frameworks/{version.id}/payment",
             *[f"/frameworks/{version.id}/outcomes/{i.item.id}" for i in items]]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "diabet" not in response.text.lower(), url
    home = other_client.get(f"/s/{workshop.join_code}")
    assert home.status_code == 200 and "diabet" not in home.text.lower()


def test_a_blank_group_gets_no_indicators_written_for_another_population() -> None:
    assert suggest_indicators("Fewer emergency admissions to hospital", None, None) == []
    assert suggest_indicators("Fewer emergency admissions to hospital", None, "") == []
    frailty = suggest_indicators("Fewer emergency admissions to hospital", None, "older-people-frailty")
    assert frailty and all(i["population_template"] == "older-people-frailty" for i in frailty)


def test_the_diabetes_audit_is_offered_to_diabetes_groups_and_kept_where_chosen() -> None:
    source = defs.BY_NAME["data_source"]
    assert "National Diabetes Audit" in defs.choices_for(source, "adults-with-diabetes")
    assert "National Diabetes Audit" not in defs.choices_for(source, "older-people-frailty")
    assert "National Diabetes Audit" not in defs.choices_for(source, None)
    assert "National Diabetes Audit" in defs.choices_for(source, None, "National Diabetes Audit")
    assert defs.choices_for(defs.BY_NAME["unit"], None) == defs.BY_NAME["unit"].choices
