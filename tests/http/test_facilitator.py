"""A facilitator at the front of the room: sign in, set up, watch the lobby, moderate live."""

from __future__ import annotations

import re

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import AuditEvent, Outcome, OutcomeSource, PopulationGroup, Role, WorkshopSession
from tests.conftest import PASSWORD, join, make_user, post_form, sign_in


def test_sign_in_page_and_wrong_password(client: TestClient, facilitator) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/signin", {"email": facilitator.email, "password": "nope"}, token_from="/signin")
    assert response.status_code == 422 and "not right" in response.text
    assert f'value="{facilitator.email}"' in response.text


def test_sign_in_redirects_only_to_local_paths(client: TestClient, facilitator) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/signin", {"email": facilitator.email, "password": PASSWORD,
                                             "next": "//evil.example/phish"}, token_from="/signin")
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_sign_out(client: TestClient, facilitator) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, facilitator)
    assert client.get("/groups/new").status_code == 200
    assert post_form(client, "/signout", {}, token_from="/").status_code == 303
    assert client.get("/groups/new").status_code == 303


def test_roles_guard_facilitator_actions(client: TestClient, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    observer = make_user(session, Role.observer)
    sign_in(client, observer)
    assert client.get(f"/sessions/{workshop.id}").status_code == 200  # can watch
    assert client.get("/groups/new").status_code == 403
    response = post_form(client, f"/sessions/{workshop.id}/close", {}, token_from="/")
    assert response.status_code == 403
    assert session.get(WorkshopSession, workshop.id).status == "open"  # type: ignore[union-attr]


def test_create_population_group_from_frailty_template(client: TestClient, session: Session, facilitator) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, facilitator)
    page = client.get("/groups/new")
    assert "Older people living with frailty" in page.text
    response = post_form(client, "/groups/new", {"name": "Older people, Haringey", "template": "older-people-frailty"},
                         token_from="/groups/new")
    assert response.status_code == 303
    group = session.exec(select(PopulationGroup)).one()
    detail = client.get(response.headers["location"])
    assert "Older people, Haringey" in detail.text and "I have fewer falls" in detail.text
    bad = post_form(client, "/groups/new", {"name": "  ", "template": "nonsense"}, token_from="/groups/new")
    assert bad.status_code == 422 and "Enter a name" in bad.text and "Choose one of the templates" in bad.text
    assert len(session.exec(select(PopulationGroup)).all()) == 1 and group.name == "Older people, Haringey"


def test_create_session_shows_code_qr_and_lobby(client: TestClient, session: Session, facilitator, workshop,  # type: ignore[no-untyped-def]
                                                other_client: TestClient) -> None:
    sign_in(client, facilitator)
    url = f"/groups/{workshop.population_group_id}/sessions/new"
    response = post_form(client, url, {"title": "Frailty workshop", "held_on": "2026-04-01"}, token_from=url)
    assert response.status_code == 303
    new = session.exec(select(WorkshopSession).where(WorkshopSession.title == "Frailty workshop")).one()
    console = client.get(response.headers["location"])
    code = new.join_code
    assert f"{code[:4]} {code[4:]}" in console.text
    assert '<svg role="img" aria-label="QR code that opens http://testserver/j/' + code in console.text
    assert "0 people</strong> joined" in console.text
    join(other_client, code, "carer")
    lobby = client.get(f"/sessions/{new.id}", headers={"HX-Request": "true"})
    assert lobby.status_code == 200 and lobby.text.lstrip().startswith('<div id="console-live"')
    assert "1 person</strong> joined" in lobby.text
    assert re.search(r"<dt>Carers</dt><dd>1</dd>", lobby.text)
    bad = post_form(client, url, {"title": "", "held_on": "20/03/2026"}, token_from=url)
    assert bad.status_code == 422 and "year-month-day" in bad.text


def test_live_fragment_answers_204_when_nothing_changed(client: TestClient, facilitator, workshop,  # type: ignore[no-untyped-def]
                                                        other_client: TestClient) -> None:
    sign_in(client, facilitator)
    first = client.get(f"/sessions/{workshop.id}", headers={"HX-Request": "true"})
    fp = re.search(r"\?fp=([0-9a-f]+)", first.text).group(1)  # type: ignore[union-attr]
    unchanged = client.get(f"/sessions/{workshop.id}?fp={fp}", headers={"HX-Request": "true"})
    assert unchanged.status_code == 204
    join(other_client, workshop.join_code, "patient")
    changed = client.get(f"/sessions/{workshop.id}?fp={fp}", headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "1 person</strong> joined" in changed.text
    assert client.get(f"/sessions/{workshop.id}/projector?fp=x", headers={"HX-Request": "true"}).status_code == 200


def test_moderation_end_to_end(client: TestClient, other_client: TestClient, session: Session, facilitator,  # type: ignore[no-untyped-def]
                               workshop) -> None:
    join(other_client, workshop.join_code, "patient")
    home = f"/s/{workshop.join_code}"
    for text in ("Same nurse each time", "Seeing the same nurse", "help with mood", "Free parking"):
        assert post_form(other_client, f"{home}/proposals", {"statement": text}, token_from=home).status_code == 303
    ids = {o.statement: o.id for o in session.exec(select(Outcome).where(Outcome.source == "participant"))}
    sign_in(client, facilitator)
    console = client.get(f"/sessions/{workshop.id}")
    assert "New proposals (4)" in console.text and "Seeing the same nurse" in console.text

    base = f"/sessions/{workshop.id}/outcomes"
    accept = post_form(client, f"{base}/{ids['Same nurse each time']}/accept", {}, token_from="/",
                       headers={"HX-Request": "true"})
    assert accept.status_code == 303 and accept.headers["location"].endswith(f"/sessions/{workshop.id}")

    page = f"{base}/{ids['Same nurse each time']}"
    merge = post_form(client, f"{page}/merge", {"merge": str(ids["Seeing the same nurse"]), "reason": "duplicate"},
                      token_from=page)
    assert merge.status_code == 303
    no_reason = post_form(client, f"{base}/{ids['help with mood']}/reword", {"statement": "Help with low mood",
                          "reason": ""}, token_from=page)
    assert no_reason.status_code == 422 and "Enter the reason" in no_reason.text
    assert 'value="Help with low mood"' in no_reason.text or ">Help with low mood<" in no_reason.text
    reword = post_form(client, f"{base}/{ids['help with mood']}/reword", {"statement": "Help with low mood",
                       "reason": "clearer"}, token_from=page)
    assert reword.status_code == 303
    withdraw = post_form(client, f"{base}/{ids['Free parking']}/withdraw", {"reason": "Not about care"},
                         token_from=page)
    assert withdraw.status_code == 303

    detail = client.get(page)
    assert "Seeing the same nurse" in detail.text and "came in by a merge" in detail.text
    sources = session.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == ids["Same nurse each time"])).all()
    assert len(sources) == 2
    audit = client.get(f"/sessions/{workshop.id}/audit").text
    for needle in ("outcome.accepted", "outcome.merged", "outcome.reworded", "outcome.withdrawn", "Reason: clearer",
                   "Not about care", facilitator.email):
        assert needle in audit
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "outcome.proposed")).all()
    # The participant sees what happened to their ideas.
    mine = other_client.get(home).text
    assert "On the list" in mine and "Joined with a similar idea" in mine and "Not taken forward" in mine


def test_weights_validation(client: TestClient, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, facilitator)
    url = f"/groups/{workshop.population_group_id}"
    bad = post_form(client, f"{url}/weights", {"weight-patient": "lots", "weight-carer": "1",
                                                "weight-clinician": "1", "weight-commissioner": "1"}, token_from=url)
    assert bad.status_code == 422 and "Enter a number for Patients" in bad.text
    ok = post_form(client, f"{url}/weights", {"weight-patient": "2", "weight-carer": "1", "weight-clinician": "1",
                                               "weight-commissioner": "1"}, token_from=url)
    assert ok.status_code == 303
    assert 'value="2"' in client.get(url).text


def test_admin_creates_accounts(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.admin)
    sign_in(client, admin)
    response = post_form(client, "/users", {"email": "new@example.nhs.uk", "role": "commissioner",
                                            "password": "long enough pw"}, token_from="/users")
    assert response.status_code == 303
    assert "new@example.nhs.uk" in client.get("/users").text
    bad = post_form(client, "/users", {"email": "new@example.nhs.uk", "role": "commissioner", "password": "x"},
                    token_from="/users")
    assert bad.status_code == 422 and "already an account" in bad.text


def test_not_found_pages(client: TestClient, facilitator) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, facilitator)
    assert client.get("/sessions/9999").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert "Page not found" in client.get("/no/such/page").text


def test_a_new_proposal_arrives_below_those_being_read(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                       facilitator, workshop) -> None:
    """The console refreshes itself while the facilitator reads it: a proposal arriving then must not
    push the list down, or the Accept button under the pointer would become another proposal's."""
    join(other_client, workshop.join_code, "patient")
    home = f"/s/{workshop.join_code}"
    sign_in(client, facilitator)
    post_form(other_client, f"{home}/proposals", {"statement": "Clinics that run in the evening"}, token_from=home)
    before = client.get(f"/sessions/{workshop.id}").text
    first_button = before.index("“Clinics that run in the evening”")
    post_form(other_client, f"{home}/proposals", {"statement": "Respite for carers at weekends"}, token_from=home)
    after = client.get(f"/sessions/{workshop.id}").text
    assert after.index("“Clinics that run in the evening”") < after.index("“Respite for carers at weekends”")
    assert after.index("“Clinics that run in the evening”") == first_button  # nothing above it moved
