"""The people list and its forms over HTTP: who may see and do what, CSRF, 422 naming the field,
audit rows, and a removed or merged participant's device."""

from __future__ import annotations

import json
import re
import threading
import uuid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign import integrity, queries
from codesign.models import AuditEvent, Ballot, Participant, Role, User
from codesign.services import ballot_sql, ballots, people, sessions
from tests.conftest import csrf_from, join, make_user, post_form, sign_in
from tests.round_helpers import accepted_ids, open_round
from tests.services.test_round_trust import _waiting_on_a_lock, stored_equals_recount


def people_url(workshop) -> str:  # type: ignore[no-untyped-def]
    return f"/sessions/{workshop.id}/people"


def person_url(workshop, person: Participant) -> str:  # type: ignore[no-untyped-def]
    return f"/sessions/{workshop.id}/people/{person.id}"


def audit(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def only_person(session: Session, workshop) -> Participant:  # type: ignore[no-untyped-def]
    return session.exec(select(Participant).where(Participant.session_id == workshop.id)).one()


def test_the_list_shows_each_person_and_their_rounds_and_is_linked_from_the_console(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    join(other_client, workshop.join_code, "carer", first_name="<b>Bea</b>", table="4")
    bea = only_person(session, workshop)
    ballots.answer_rating(session, found.id or 0, bea.id or 0, ids[0], "7", uuid.uuid4().hex)
    sessions.join_session(session, workshop.id, "patient")
    sign_in(client, facilitator)
    assert people_url(workshop) in client.get(f"/sessions/{workshop.id}").text
    page = client.get(people_url(workshop))
    assert page.status_code == 200
    assert "&lt;b&gt;Bea&lt;/b&gt;" in page.text and "<b>Bea</b>" not in page.text  # escaped
    assert "Participant 2" in page.text and "Carers" in page.text and "Started" in page.text
    assert "Round 1" in page.text


@pytest.mark.parametrize("role", [Role.commissioner, Role.observer])
def test_other_staff_may_read_but_not_act(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, workshop, role: str) -> None:
    person = sessions.join_session(session, workshop.id, "patient")
    sign_in(client, make_user(session, role))
    assert client.get(people_url(workshop)).status_code == 200
    page = client.get(person_url(workshop, person))
    assert page.status_code == 200 and "Remove from the session" not in page.text
    for action, data in (("edit", {"group": "carer"}), ("remove", {"reason": "x", "answers": "keep"}),
                         ("merge", {"duplicate": "1"})):
        response = post_form(client, f"{person_url(workshop, person)}/{action}", data, token_from=people_url(workshop))
        assert response.status_code == 403
    assert session.get_one(Participant, person.id).stakeholder_group_id == person.stakeholder_group_id
    assert session.get_one(Participant, person.id).in_room


def test_participants_and_strangers_see_nothing(client: TestClient, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code, "patient")
    person = only_person(session, workshop)
    for url in (people_url(workshop), person_url(workshop, person)):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin")
    response = post_form(client, f"{person_url(workshop, person)}/remove", {"reason": "x", "answers": "keep"},
                         token_from=f"/s/{workshop.join_code}")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")
    assert session.get_one(Participant, person.id).in_room


def test_a_person_of_another_session_is_not_found_here(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Another room", "")
    stranger = sessions.join_session(session, other.id, "patient")
    sign_in(client, facilitator)
    assert client.get(person_url(workshop, stranger)).status_code == 404
    response = post_form(client, f"{person_url(workshop, stranger)}/edit", {"group": "carer", "table_number": ""},
                         token_from=people_url(workshop))
    assert response.status_code == 404
    assert session.get_one(Participant, stranger.id).stakeholder_group_id == stranger.stakeholder_group_id


def test_posts_need_the_csrf_token(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    person = sessions.join_session(session, workshop.id, "patient")
    sign_in(client, facilitator)
    response = client.post(f"{person_url(workshop, person)}/remove", data={"reason": "x", "answers": "keep"})
    assert response.status_code == 403 and "security token" in response.text
    assert session.get_one(Participant, person.id).in_room and audit(session, "participant.removed") == []


@pytest.mark.parametrize(("action", "data", "field", "message"), [
    ("edit", {"group": "carer", "table_number": "abc"}, "edit-table_number", "whole number"),
    ("edit", {"group": "", "table_number": ""}, "edit-group", "Choose the stakeholder group"),
    ("remove", {"reason": "", "answers": "keep"}, "remove-reason", "Enter the reason"),
    ("remove", {"reason": "Left", "answers": ""}, "remove-answers", "keep or discard"),
    ("merge", {"duplicate": ""}, "merge-duplicate", "Choose who joined twice"),
])
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop, action: str, data: dict[str, str],
        field: str, message: str) -> None:
    person = sessions.join_session(session, workshop.id, "patient", "Ann", "2")
    sessions.join_session(session, workshop.id, "patient", "Someone else")
    sign_in(client, facilitator)
    response = post_form(client, f"{person_url(workshop, person)}/{action}", data, token_from=people_url(workshop))
    assert response.status_code == 422
    assert message in response.text and f'href="#{field}"' in response.text and f'id="{field}"' in response.text
    again = session.get_one(Participant, person.id)
    assert again.in_room and (again.stakeholder_group_id, again.table_number) == (person.stakeholder_group_id, 2)
    assert session.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("participant."))).all() == []


def test_edit_is_audited_with_before_and_after(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    person = sessions.join_session(session, workshop.id, "patient", "Ann", "")
    sign_in(client, facilitator)
    response = post_form(client, f"{person_url(workshop, person)}/edit", {"group": "clinician", "table_number": "7"},
                         token_from=people_url(workshop))
    assert response.status_code == 303 and response.headers["location"] == people_url(workshop)
    assert "Saved the changes to Ann" in client.get(people_url(workshop)).text
    [event] = audit(session, "participant.edited")
    details = json.loads(event.details)
    assert details["before"] == {"group": "Patients", "table": None}
    assert details["after"] == {"group": "Clinicians", "table": 7}
    assert event.actor_id == facilitator.id and event.session_id == workshop.id


def test_a_removed_participants_device_sees_a_clear_page_and_can_be_handed_on(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    join(other_client, workshop.join_code, "patient", first_name="Cal")
    cal = only_person(session, workshop)
    sign_in(client, facilitator)
    response = post_form(client, f"{person_url(workshop, cal)}/remove",
                         {"reason": "Joined the wrong workshop", "answers": "discard"}, token_from=people_url(workshop))
    assert response.status_code == 303
    listed = client.get(people_url(workshop)).text
    assert "Cal has been removed" in listed and "Removed or merged (1)" in listed
    assert "Joined the wrong workshop" in audit(session, "participant.removed")[0].summary
    for url in (f"/s/{workshop.join_code}", f"/s/{workshop.join_code}/rounds/{found.id}", f"/j/{workshop.join_code}"):
        page = other_client.get(url)
        assert page.status_code == 403 and "no longer in this session" in page.text, url
    proposal = post_form(other_client, f"/s/{workshop.join_code}/proposals", {"statement": "Still here?"},
                         token_from="/join")
    assert proposal.status_code == 403
    # A rating tap (the hot path, which does not read the page's participant first) stores nothing
    # and lands on the same page.
    tap = post_form(other_client, f"/s/{workshop.join_code}/rounds/{found.id}/q/1",
                    {"value": "5", "key": uuid.uuid4().hex}, token_from="/join")
    assert tap.status_code == 303 and other_client.get(tap.headers["location"]).status_code == 403
    assert session.exec(select(Ballot)).all() == []
    handed = post_form(other_client, f"/s/{workshop.join_code}/leave", {}, token_from="/join")
    assert handed.status_code == 303 and handed.headers["location"].endswith("/group")
    assert other_client.get(handed.headers["location"]).status_code == 200  # the next person can join


def test_merge_says_how_many_answers_were_dropped(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    ann = sessions.join_session(session, workshop.id, "patient", "Ann")
    join(other_client, workshop.join_code, "carer", first_name="Ann again")
    again = session.exec(select(Participant).where(Participant.first_name == "Ann again")).one()
    for who, outcome, value in ((ann, ids[0], "9"), (again, ids[0], "3"), (again, ids[1], "4")):
        ballots.answer_rating(session, found.id or 0, who.id or 0, outcome, value, uuid.uuid4().hex)
    sign_in(client, facilitator)
    url = f"{person_url(workshop, ann)}/merge"
    refused = post_form(client, url, {"duplicate": str(again.id)}, token_from=people_url(workshop))
    assert refused.status_code == 422 and "choose which group is right" in refused.text
    response = post_form(client, url, {"duplicate": str(again.id), "group": "patient"}, token_from=people_url(workshop))
    assert response.status_code == 303
    listed = client.get(people_url(workshop)).text
    assert re.search(r"1 answers moved\. 1 of Ann again’s answers were dropped", listed)
    assert "Merged into Ann" in listed
    assert other_client.get(f"/s/{workshop.join_code}").status_code == 403
    assert session.get_one(Participant, again.id).merged_into_id == ann.id
    assert len(audit(session, "participant.merged")) == 1


def test_nothing_changes_on_a_get(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    person = sessions.join_session(session, workshop.id, "patient")
    sign_in(client, facilitator)
    for action in ("edit", "remove", "merge"):
        assert client.get(f"{person_url(workshop, person)}/{action}").status_code == 405
    people.remove_person(session, facilitator, workshop.id, person.id or 0, "Gone", "keep")
    page = client.get(person_url(workshop, person))
    assert page.status_code == 200 and "Gone" in page.text and "Remove from the session" not in page.text


@pytest.mark.parametrize("change", ["merge", "discard"])
def test_a_merge_or_discard_request_racing_a_close_request(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, engine: Engine, session: Session, facilitator: User, workshop,
        monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """Two facilitators' requests at once: the change holds the round's lock, so the close waits for
    it (PostgreSQL: seen waiting on the lock) and then counts what the change left; the stored
    results equal a recount and `codesign verify` finds nothing."""
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    ann, twice = (sessions.join_session(session, workshop.id, "patient") for _ in range(2))
    for who, outcome, value in ((ann, ids[0], "9"), (twice, ids[0], "2"), (twice, ids[1], "1")):
        ballots.answer_rating(session, found.id or 0, who.id or 0, outcome, value, uuid.uuid4().hex)
    colleague = make_user(session, Role.facilitator)
    sign_in(client, facilitator)
    sign_in(other_client, colleague)
    if change == "merge":
        url, data = f"{person_url(workshop, ann)}/merge", {"duplicate": str(twice.id)}
    else:
        url, data = f"{person_url(workshop, twice)}/remove", {"reason": "Not here", "answers": "discard"}
    change_token = csrf_from(client, people_url(workshop))
    close_token = csrf_from(other_client, people_url(workshop))
    close_url = f"/sessions/{workshop.id}/rounds/{found.id}/close"
    session.close()
    inside, go = threading.Event(), threading.Event()
    name = "merge_ballot" if change == "merge" else "discard_ballot"
    real = getattr(ballot_sql, name)

    def paused(*args, **kwargs):  # type: ignore[no-untyped-def]
        done = real(*args, **kwargs)
        inside.set()  # the ballots have changed; the request has not committed yet
        assert go.wait(30)
        return done

    monkeypatch.setattr(ballot_sql, name, paused)
    answers: dict[str, int] = {}

    def post(who: str, c: TestClient, target: str, form: dict[str, str]) -> None:
        answers[who] = c.post(target, data=form).status_code

    changer = threading.Thread(target=post, args=("change", client, url, {**data, "csrf_token": change_token}))
    changer.start()
    assert inside.wait(30)
    closer = threading.Thread(target=post, args=("close", other_client, close_url, {"csrf_token": close_token}))
    closer.start()
    if engine.dialect.name == "postgresql":
        assert _waiting_on_a_lock(engine, closer), "the close did not wait for the change in flight"
    go.set()
    changer.join(30)
    closer.join(30)
    assert answers == {"change": 303, "close": 303}
    with Session(engine) as s:
        assert stored_equals_recount(s, found.id or 0)
        assert [str(p) for p in integrity.verify(s).problems] == []
        results = queries.round_results(s, workshop.id, found.id or 0).results
        assert results is not None
        # Counted after the change: the duplicate's second answer is the person's, or gone.
        assert results.outcome(str(ids[1])).groups["patient"].n == (1 if change == "merge" else 0)
        assert results.outcome(str(ids[0])).groups["patient"].n == 1  # the person once, not twice
