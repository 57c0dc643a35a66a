"""The presenter screen: one URL that shows whatever the room is doing; pausing and resuming."""

from __future__ import annotations

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import AuditEvent, LiveView, Role, User
from codesign.queries.room import get_room_state
from codesign.services import ballots, rounds, sessions
from tests.conftest import join, make_user, post_form, sign_in
from tests.round_helpers import accepted_ids, open_round


def test_one_url_follows_the_room_from_lobby_to_results(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    sign_in(client, facilitator)
    url = f"/sessions/{workshop.id}/present"
    code = workshop.join_code
    lobby = client.get(url).text
    assert "people joined" in lobby and "app-present__corner" not in lobby  # the big code and QR
    assert f'data-live-events="/sessions/{workshop.id}/events"' in lobby

    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, title="Rate these", min_group_size="1")
    voter = sessions.join_session(session, workshop.id, "patient")
    for n, outcome in enumerate(ids):
        ballots.answer_rating(session, found.id, voter.id, outcome, "8", f"present-{n}")  # type: ignore[arg-type]
    voting = client.get(url).text
    assert "Round 1: Rate these" in voting and "Voting is open." in voting
    assert "1 of 1 person has finished" in voting or "1 of 1 people have finished" in voting
    assert "app-present__corner" in voting and code[:4] in voting  # late arrivals can still join

    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    assert "Voting has closed. Results soon." in client.get(url).text
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]
    shown = client.get(url).text
    assert "app-projector-table" in shown and "Voting has closed" not in shown

    rounds.close_session(session, facilitator, workshop.id)
    ended = client.get(url).text
    assert "This session has closed" in ended and "app-present__corner" not in ended and code[:4] not in ended


def test_pause_and_resume_move_the_room_and_are_audited(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    sign_in(client, facilitator)
    console = f"/sessions/{workshop.id}"
    assert post_form(client, f"{console}/pause", {}, token_from=console).status_code == 303
    session.commit()  # end the test session's read, to see what the app wrote
    state = get_room_state(session, workshop.id)
    assert state is not None and state.view == LiveView.pause
    assert "We will carry on in a moment." in client.get(f"{console}/present").text
    assert "Resume the room" in client.get(console).text
    assert post_form(client, f"{console}/resume", {}, token_from=console).status_code == 303
    session.commit()  # end the test session's read, to see what the app wrote
    state = get_room_state(session, workshop.id)
    assert state is not None and (state.view, state.round_id) == (LiveView.voting, found.id)  # back to the vote
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.session_id == workshop.id))]
    assert "room.paused" in actions and "room.resumed" in actions
    # Without the form's token nothing changes.
    assert client.post(f"{console}/pause", data={}).status_code == 403
    session.commit()  # end the test session's read, to see what the app wrote
    state = get_room_state(session, workshop.id)
    assert state is not None and state.view == LiveView.voting


def test_only_staff_see_it_and_only_facilitators_pause(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, workshop) -> None:
    join(other_client, workshop.join_code)  # a participant's device
    refused = other_client.get(f"/sessions/{workshop.id}/present", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/signin")
    assert other_client.get(f"/sessions/{workshop.id}/events", follow_redirects=False).status_code == 303
    sign_in(client, make_user(session, Role.commissioner))
    assert client.get(f"/sessions/{workshop.id}/present").status_code == 200
    console = f"/sessions/{workshop.id}"
    assert post_form(client, f"{console}/pause", {}, token_from=console).status_code == 403


def test_results_where_every_group_is_too_small_say_why_nothing_is_shown(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)  # smallest group to show: 5
    join(other_client, workshop.join_code, "carer")
    for n, group in enumerate(("patient", "clinician")):
        voter = sessions.join_session(session, workshop.id, group)
        for outcome in ids:
            ballots.answer_rating(session, found.id, voter.id, outcome, "8", f"small-{n}-{outcome}")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]
    page = other_client.get(f"/s/{workshop.join_code}/rounds/{found.id}").text
    assert "Every group in this round has too few people" in page
    assert "Each group’s views are shown side by side" not in page
    sign_in(client, facilitator)
    screen = client.get(f"/sessions/{workshop.id}/present").text
    assert "Every group has too few people to show how it answered" in screen


def test_results_of_a_round_nobody_answered_say_so(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]
    sign_in(client, facilitator)
    screen = client.get(f"/sessions/{workshop.id}/present").text
    assert "No votes were counted in this round." in screen and "app-projector-table" not in screen


def test_a_countdown_shows_on_the_presenter_screen_and_devices_and_closes_nothing(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2), title="Quick one")
    join(other_client, workshop.join_code, "carer")
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    for bad, says in (("five", "whole number"), ("121", "120")):
        refused = post_form(client, f"{page}/countdown", {"minutes": bad}, token_from=page)
        assert refused.status_code == 422 and says in refused.text and f'value="{bad}"' in refused.text
    assert post_form(client, f"{page}/countdown", {"minutes": "5"}, token_from=page).status_code == 303
    assert "Stop the countdown" in client.get(page).text
    for shown in (client.get(f"/sessions/{workshop.id}/present").text,
                  other_client.get(f"/s/{workshop.join_code}/rounds/{found.id}/q/1").text):
        assert 'role="timer"' in shown and ("5:00 left" in shown or "4:5" in shown)
    session.commit()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "round.countdown")).all()
    assert [e.summary for e in events] == ["Countdown of 5 minutes started on round 1"]
    assert post_form(client, f"{page}/countdown", {"minutes": "0"}, token_from=page).status_code == 303
    assert 'role="timer"' not in client.get(f"/sessions/{workshop.id}/present").text
    state = get_room_state(session, workshop.id)
    assert state is not None and state.round_status == "open"  # the countdown closed nothing
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    late = post_form(client, f"{page}/countdown", {"minutes": "3"}, token_from=page)
    assert late.status_code == 409 and "only while the round is open" in late.text


def test_a_screen_refreshing_itself_after_sign_out_is_refused_not_sent_to_sign_in(  # type: ignore[no-untyped-def]
        client: TestClient, facilitator: User, workshop) -> None:
    """The projector polls while the facilitator signs out in another tab: it must not be replaced by
    a sign-in form on the big screen (nor keep a password form up after signing back in)."""
    url = f"/sessions/{workshop.id}/projector"
    polled = client.get(f"{url}?fp=0123", headers={"HX-Request": "true"}, follow_redirects=False)
    assert polled.status_code == 401 and "HX-Redirect" not in polled.headers and "Sign in" not in polled.text
    streamed = client.get(f"/sessions/{workshop.id}/events", headers={"Accept": "text/event-stream"},
                          follow_redirects=False)
    assert streamed.status_code == 401
    # A person opening the page (not a refresh) is still sent to sign in, and back afterwards.
    opened = client.get(url, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].startswith("/signin?next=")
    sign_in(client, facilitator)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
