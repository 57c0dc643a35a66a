"""The panel pages over HTTP (routes/panels.py): staff only, CSRF on every form, 422 changing
nothing, 303 after each change, emails never outside the panel pages."""

from __future__ import annotations

import hashlib
import html

from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign.models import AuditEvent, Panel, Panellist, PanelRound, Participant, Role, Round, User, WorkshopSession
from codesign.services import panel_people, panels
from tests.conftest import csrf_from, join, make_user, post_form, sign_in
from tests.panels.helpers import make_study, open_all, person_in, rate
from tests.round_helpers import accepted_ids, round_form


def snapshot(engine: Engine) -> dict[str, str]:
    """Every table's rows, hashed: a 422 or a refused POST must leave them all as they were."""
    state = {}
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table}"')))
            state[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return state


def _panel(session: Session, facilitator: User, workshop: WorkshopSession) -> Panel:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Diabetes study")
    assert panel.id is not None
    panels.add_panellist(session, facilitator, panel.id, "Asha Patel", "asha@example.com", "patient", "Riverside")
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    return panel


def test_participants_commissioners_and_strangers_get_no_panel_page(client: TestClient, session: Session,
                                                                    facilitator: User,
                                                                    workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop)
    person = panel.id and session.exec(select(Panellist)).one()
    assert person is not None
    pages = [f"/groups/{workshop.population_group_id}/panels", f"/panels/{panel.id}",
             f"/panels/{panel.id}/people/{person.id}/erase", f"/panels/{panel.id}/rounds/1",
             f"/sessions/{workshop.id}/rounds/1/elsewhere"]
    for url in pages:  # nobody signed in: to the sign-in page
        response = client.get(url)
        assert response.status_code == 303 and "/signin" in response.headers["location"], url
    join(client, workshop.join_code)  # a participant's device
    for url in pages:
        assert client.get(url).status_code == 303, url
    for role in (Role.commissioner, Role.observer):
        sign_in(client, make_user(session, role))
        for url in pages:
            response = client.get(url)
            assert response.status_code == 403, (role, url)
            assert "asha" not in response.text.lower()


def test_every_panel_form_needs_the_csrf_token(client: TestClient, engine: Engine, session: Session,
                                               facilitator: User, workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop)
    person = session.exec(select(Panellist)).one()
    made = session.exec(select(Round)).first()
    sign_in(client, facilitator)
    before = snapshot(engine)
    for url in [f"/groups/{workshop.population_group_id}/panels", f"/panels/{panel.id}/people",
                f"/panels/{panel.id}/upload", f"/panels/{panel.id}/sessions", f"/panels/{panel.id}/sessions/new",
                f"/panels/{panel.id}/link", f"/panels/{panel.id}/match", f"/panels/{panel.id}/people/{person.id}/erase",
                f"/panels/{panel.id}/people/{person.id}/revoke",
                f"/sessions/{workshop.id}/rounds/{made.id if made else 1}/elsewhere"]:
        for data in ({"name": "x", "csrf_token": "forged"}, {"name": "x"}):
            assert client.post(url, data=data).status_code == 403, url
    assert snapshot(engine) == before


def test_panels_are_listed_and_created(client: TestClient, engine: Engine, session: Session, facilitator: User,
                                       workshop: WorkshopSession) -> None:
    sign_in(client, facilitator)
    url = f"/groups/{workshop.population_group_id}/panels"
    assert "No panels yet" in client.get(url).text
    before = snapshot(engine)
    bad = post_form(client, url, {"name": "  ", "description": "x" * 3000}, token_from=url)
    assert bad.status_code == 422 and "There is a problem" in bad.text
    assert snapshot(engine) == before
    made = post_form(client, url, {"name": "Study <2027>", "description": ""}, token_from=url)
    assert made.status_code == 303
    panel = session.exec(select(Panel)).one()
    assert made.headers["location"].endswith(f"/panels/{panel.id}")
    listing = client.get(url).text
    assert "Study &lt;2027&gt;" in listing and "<2027>" not in listing


def test_people_added_one_by_one_and_by_upload(client: TestClient, engine: Engine, session: Session,
                                               facilitator: User, workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop)
    sign_in(client, facilitator)
    page_url = f"/panels/{panel.id}"
    page = client.get(page_url)
    assert page.status_code == 200 and "Asha Patel" in page.text and "asha@example.com" in page.text
    assert f"/panels/{panel.id}/mail" in page.text and f"/panels/{panel.id}/stability" in page.text
    before = snapshot(engine)
    bad = post_form(client, f"{page_url}/people", {"name": "<b>Ben</b>", "email": "ASHA@example.com",
                                                   "group": "martian"}, token_from=page_url)
    assert bad.status_code == 422
    assert "already has that email" in bad.text and "Choose which group" in bad.text
    assert 'value="&lt;b&gt;Ben&lt;/b&gt;"' in bad.text
    assert snapshot(engine) == before
    good = post_form(client, f"{page_url}/people", {"name": "Ben Jones", "email": "ben@example.com",
                                                    "group": "clinician"}, token_from=page_url)
    assert good.status_code == 303 and "Added panellist 2" in client.get(page_url).text
    # Upload: a bad file is refused whole, each problem named by line and column.
    token = csrf_from(client, page_url)
    before = snapshot(engine)
    refused = client.post(f"{page_url}/upload", data={"csrf_token": token}, files={"file": (
        "list.csv", b"Name,Email,Stakeholder Group\nCy,cy@example.com,Carers\nDi,ben@example.com,patient\n"
                    b"Ed,ed@example.com,dentists\n", "text/csv")})
    assert refused.status_code == 422
    assert "Line 3, column 2 (email): &#39;ben@example.com&#39; is already on this panel" in refused.text
    assert "Line 4, column 3 (stakeholder group)" in refused.text and "nobody was added" in refused.text
    not_utf8 = client.post(f"{page_url}/upload", data={"csrf_token": token},
                           files={"file": ("list.csv", "name,email,group\nZoë,z@x.com,patient\n".encode("latin-1"),
                                           "text/csv")})
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.text
    assert snapshot(engine) == before
    added = client.post(f"{page_url}/upload", data={"csrf_token": token}, files={"file": (
        "list.csv", b"Name,Email,Stakeholder Group,Organisation\nCy,cy@example.com,Carers,Age UK\n", "text/csv")})
    assert added.status_code == 303
    assert [p.number for p in session.exec(select(Panellist).order_by(col(Panellist.number)))] == [1, 2, 3]


def test_sessions_attached_or_created_and_a_round_run_in_them(client: TestClient, engine: Engine,
                                                              session: Session, facilitator: User,
                                                              workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop)
    sign_in(client, facilitator)
    page_url = f"/panels/{panel.id}"
    before = snapshot(engine)
    assert post_form(client, f"{page_url}/sessions/new", {"title": "", "mode": "boat"},
                     token_from=page_url).status_code == 422
    assert snapshot(engine) == before
    assert post_form(client, f"{page_url}/sessions/new", {"title": "Online round 1", "held_on": "", "mode": "online"},
                     token_from=page_url).status_code == 303
    online = session.exec(select(WorkshopSession).where(WorkshopSession.title == "Online round 1")).one()
    assert (online.panel_id, online.mode) == (panel.id, "online")
    draft = Round  # the round to run in the online session too
    made = post_form(client, f"/sessions/{workshop.id}/rounds/new", round_form(accepted_ids(session, workshop, 3)),
                     token_from=f"/sessions/{workshop.id}/rounds/new")
    assert made.status_code == 303
    draft = session.exec(select(Round).where(Round.session_id == workshop.id)).one()  # type: ignore[assignment]
    console = client.get(f"/sessions/{workshop.id}/rounds/{draft.id}").text
    url = f"/sessions/{workshop.id}/rounds/{draft.id}/elsewhere"
    assert f'href="http://testserver{url}"' in console or f'href="{url}"' in console
    form = client.get(url)
    assert form.status_code == 200 and "Online round 1" in form.text
    before = snapshot(engine)
    assert post_form(client, url, {}, token_from=url).status_code == 422
    assert snapshot(engine) == before
    done = post_form(client, url, {"sessions": str(online.id)}, token_from=url)
    assert done.status_code == 303 and done.headers["location"].endswith(page_url)
    copy = session.exec(select(Round).where(Round.session_id == online.id)).one()
    assert copy.panel_round_id is not None and copy.panel_round_id == session.get_one(Round, draft.id).panel_round_id


def test_matching_erasing_and_revoking(client: TestClient, engine: Engine, session: Session, facilitator: User,
                                       workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop)
    asha = session.exec(select(Panellist)).one()
    someone = person_in(session, workshop, "patient")
    sign_in(client, facilitator)
    page_url = f"/panels/{panel.id}"
    before = snapshot(engine)
    assert post_form(client, f"{page_url}/match", {"participant": "999", "panellist": str(asha.id)},
                     token_from=page_url).status_code == 422
    assert snapshot(engine) == before
    # A clinician in the room cannot be Asha, a patient on the panel: refused, naming both groups.
    clinician = person_in(session, workshop, "clinician")
    before = snapshot(engine)
    refused = post_form(client, f"{page_url}/match", {"participant": str(clinician.id), "panellist": str(asha.id)},
                        token_from=page_url)
    assert refused.status_code == 422
    assert (f"Participant {clinician.number} joined as Clinicians but panellist 1 is on the panel as Patients"
            in html.unescape(refused.text))
    assert snapshot(engine) == before
    matched = post_form(client, f"{page_url}/match", {"participant": str(someone.id), "panellist": str(asha.id)},
                        token_from=page_url)
    assert matched.status_code == 303
    assert "Participant 1 of “Workshop one” is now panellist 1." in html.unescape(client.get(page_url).text)
    assert session.get_one(Participant, someone.id).panellist_id == asha.id
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "panel.participant_matched")).one()
    assert event.summary == "Participant 1 of “Workshop one” matched to panellist 1"
    assert "Asha" not in event.summary + event.details
    assert "Workshop one" in client.get(page_url).text.split("Asha Patel")[1]  # took part in
    # Revoking the personal link.
    assert post_form(client, f"{page_url}/people/{asha.id}/revoke", {}, token_from=page_url).status_code == 303
    assert session.get_one(Panellist, asha.id).link_revoked_at is not None
    # Erasing: a confirmation page first (no change on GET), then 303.
    before = snapshot(engine)
    confirm = client.get(f"{page_url}/people/{asha.id}/erase")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text and "asha@example.com" in confirm.text
    assert snapshot(engine) == before
    erased = post_form(client, f"{page_url}/people/{asha.id}/erase", {}, token_from=page_url)
    assert erased.status_code == 303
    page = client.get(page_url).text
    assert "Asha" not in page and "asha@example.com" not in page and "Erased" in page
    assert session.get_one(Participant, someone.id).panellist_id == asha.id  # the person stays, unnamed
    assert post_form(client, f"{page_url}/people/{asha.id}/erase", {}, token_from=page_url).status_code == 409


def test_pooled_results_page_and_linking(client: TestClient, engine: Engine, session: Session, facilitator: User,
                                         workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    open_all(session, facilitator, study)
    assert study.panel.id is not None
    who = panels.add_panellist(session, facilitator, study.panel.id, "Olu Online", "olu@example.com", "carer")
    for index, group in enumerate(("patient", "clinician", "carer")):
        person = person_in(session, study.sessions[index], group, who if index == 2 else None)
        rate(session, study.rounds[index], person, study.outcomes, ["9", "5", "2"])
    sign_in(client, facilitator)
    url = f"/panels/{study.panel.id}/rounds/{study.panel_round_id}"
    waiting = client.get(url)
    assert waiting.status_code == 200 and "Not counted yet" in waiting.text
    for r in study.rounds:
        assert r.id is not None
        post_form(client, f"/sessions/{r.session_id}/rounds/{r.id}/close", {},
                  token_from=f"/sessions/{r.session_id}/rounds/{r.id}")
    assert session.get_one(PanelRound, study.panel_round_id).results_sha256 is not None
    page = client.get(url).text
    assert "Everyone together" in page and "Each session" in page and "Online round" in page
    together = page.split("Everyone together")[1].split("Each session")[0]
    # Plain words, with the disclosure rules of a round's page: groups of one are not shown.
    assert "We do not show how carers, clinicians and patients answered" in together
    assert together.count("app-results__item") == 3 and "Kendall" not in together
    places = page.split("Each outcome’s place, together and in each session</h2>")[1].split("</table>")[0]
    assert places.count("<tr") == 4 and places.count("<td class=\"nhsuk-table__cell\">1</td>") == 4
    assert "olu" not in page.lower()  # results never name anyone
    # Linking rounds that differ is refused, saying what differs; nothing changes.
    r1 = post_form(client, f"/sessions/{study.sessions[1].id}/rounds/new",
                   round_form(study.outcomes), token_from=f"/sessions/{study.sessions[1].id}/rounds/new")
    r2 = post_form(client, f"/sessions/{study.sessions[2].id}/rounds/new",
                   round_form(study.outcomes, method="ranking", top_k="2"),
                   token_from=f"/sessions/{study.sessions[2].id}/rounds/new")
    assert r1.status_code == r2.status_code == 303
    ids = [r.id for r in session.exec(select(Round).where(col(Round.panel_round_id).is_(None),
                                                          Round.status == "draft"))]
    before = snapshot(engine)
    refused = client.post(f"/panels/{study.panel.id}/link", data={
        "rounds": [str(i) for i in ids], "csrf_token": csrf_from(client, f"/panels/{study.panel.id}")})
    assert refused.status_code == 422 and "different method" in refused.text
    assert snapshot(engine) == before
