"""A participant on a tablet: join by code or QR link, choose a group, propose. And what they cannot do."""

from __future__ import annotations

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import Outcome, Participant, SessionStatus
from codesign.services import sessions
from tests.conftest import csrf_from, join, post_form


def test_join_by_typing_the_code(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    typed = workshop.join_code[:4].lower() + " " + workshop.join_code[4:]
    response = post_form(client, "/join", {"code": typed})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/j/{workshop.join_code}/group")
    page = client.get(response.headers["location"])
    assert "Which group are you in?" in page.text
    for label in ("Patient", "Carer", "Clinician", "Commissioner"):
        assert f">{label}</button>" in page.text


def test_qr_link_group_choice_and_reload_returns_same_participant(  # type: ignore[no-untyped-def]
        client: TestClient, workshop, session: Session) -> None:
    join(client, workshop.join_code, "carer", "Ann", "3")
    home = client.get(f"/s/{workshop.join_code}")
    assert home.status_code == 200 and "taking part as a <strong>carer</strong> (Ann), table 3" in home.text
    # Reopening the QR link on the same tablet goes straight back in, as the same participant.
    again = client.get(f"/j/{workshop.join_code}")
    assert again.status_code == 303 and again.headers["location"].endswith(f"/s/{workshop.join_code}")
    assert len(session.exec(select(Participant)).all()) == 1


def test_wrong_code_gets_a_clear_message(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/join", {"code": "ABCD2345"})
    assert response.status_code == 422
    assert "That code did not match. Check it against the screen" in response.text
    assert 'value="ABCD2345"' in response.text  # what was typed is kept
    malformed = post_form(client, "/join", {"code": "ABC-1"})
    assert malformed.status_code == 422 and "Codes have 8 letters and numbers" in malformed.text


def test_closed_code_gets_a_clear_message(client: TestClient, workshop, session: Session, facilitator) -> None:  # type: ignore[no-untyped-def]
    sessions.set_session_status(session, facilitator, workshop.id, SessionStatus.closed)
    response = post_form(client, "/join", {"code": workshop.join_code})
    assert response.status_code == 422 and "This session has closed" in response.text


def test_propose_and_see_it_waiting(client: TestClient, workshop, session: Session) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code)
    response = post_form(client, f"/s/{workshop.join_code}/proposals", {"statement": "I can see the same nurse"},
                         token_from=f"/s/{workshop.join_code}")
    assert response.status_code == 303
    page = client.get(f"/s/{workshop.join_code}")
    assert "Your idea has been sent" in page.text and "I can see the same nurse" in page.text
    assert session.exec(select(Outcome).where(Outcome.statement == "I can see the same nurse")).one()


def test_bad_proposal_rerendered_with_what_was_typed(client: TestClient, workshop, session: Session) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code)
    before = len(session.exec(select(Outcome)).all())
    long_text = "Fewer hospital visits " * 10
    response = post_form(client, f"/s/{workshop.join_code}/proposals",
                         {"statement": long_text, "description": "kept <b>safe</b>"},
                         token_from=f"/s/{workshop.join_code}")
    assert response.status_code == 422
    assert "200 characters or fewer" in response.text
    assert long_text.strip() in response.text and "kept &lt;b&gt;safe&lt;/b&gt;" in response.text
    blank = post_form(client, f"/s/{workshop.join_code}/proposals", {"statement": "   "},
                      token_from=f"/s/{workshop.join_code}")
    assert blank.status_code == 422 and "Enter the outcome" in blank.text
    assert len(session.exec(select(Outcome)).all()) == before


def test_user_text_is_escaped(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code, first_name="<img src=x onerror=alert(1)>")
    post_form(client, f"/s/{workshop.join_code}/proposals", {"statement": "<script>alert(1)</script>"},
              token_from=f"/s/{workshop.join_code}")
    page = client.get(f"/s/{workshop.join_code}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_participant_cookie_never_opens_facilitator_pages(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code)
    for url in ("/", f"/sessions/{workshop.id}", f"/sessions/{workshop.id}/projector",
                f"/sessions/{workshop.id}/audit", f"/groups/{workshop.population_group_id}", "/users"):
        response = client.get(url)
        assert response.status_code in (200, 303), url
        if response.status_code == 303:
            assert "/signin" in response.headers["location"], url
        else:
            assert "Sign in" in response.text and workshop.join_code not in response.text, url
    token = csrf_from(client, f"/s/{workshop.join_code}")
    response = client.post(f"/sessions/{workshop.id}/close", data={"csrf_token": token})
    assert response.status_code == 303 and "/signin" in response.headers["location"]


def test_participant_cannot_reach_another_session(client: TestClient, workshop, session: Session, facilitator) -> None:  # type: ignore[no-untyped-def]
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Another workshop")
    join(client, workshop.join_code)
    # Without joining the other session, its pages send the participant to join it afresh.
    response = client.get(f"/s/{other.join_code}")
    assert response.status_code == 303 and response.headers["location"].endswith(f"/j/{other.join_code}")
    token = csrf_from(client, f"/s/{workshop.join_code}")
    response = client.post(f"/s/{other.join_code}/proposals", data={"statement": "Sneaky", "csrf_token": token})
    assert response.status_code == 303
    assert session.exec(select(Outcome).where(Outcome.statement == "Sneaky")).first() is None


def test_hand_device_to_next_person(client: TestClient, workshop, session: Session) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code, "patient", "Ann")
    response = post_form(client, f"/s/{workshop.join_code}/leave", {}, token_from=f"/s/{workshop.join_code}")
    # The device proved the code when it joined: the next person chooses a group, no code to type.
    assert response.status_code == 303 and response.headers["location"].endswith(f"/j/{workshop.join_code}/group")
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "Which group are you in?" in page.text and "Ann" not in page.text
    join(client, workshop.join_code, "clinician", "Bo")
    assert len(session.exec(select(Participant)).all()) == 2
