""""Larger text" never loses what was typed (issue 11, item 3).

Without JavaScript the switch on a page with something to type is a second submit button of that
page's form: the page comes back, larger, with what was typed, and nothing else happens (no code
checked, nobody joined, no idea sent). With JavaScript it is sent in the background (204)."""

from __future__ import annotations

import re

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import Outcome, Participant
from tests.conftest import csrf_from, join, post_form

LARGE_HTML = re.compile(r'<html[^>]*class="[^"]*\bapp-large-text\b')


def _switch_button(page: str) -> str:
    found = re.search(r"<button[^>]*data-text-size[^>]*>[^<]*</button>", page)
    assert found, "no text size switch"
    return found.group(0)


def _form_switch(page: str, form_id: str, main_button: str) -> None:
    """Without JavaScript the switch is a second submit button of the page's own form, after its
    main button (Enter sends the form's first button), and the header switch is marked to hide."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S)
    assert form, f"no form {form_id}"
    inside = form.group(0)
    assert 'name="text_size" value="large"' in inside
    assert inside.index(main_button) < inside.index('name="text_size"')
    assert "app-text-size--needs-script" in page


def test_join_page_keeps_the_code_typed(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    _form_switch(client.get("/join").text, "join-form", "Continue")
    response = post_form(client, "/join", {"code": "ABCD 23", "text_size": "large"})
    assert response.status_code == 200 and LARGE_HTML.search(response.text)
    assert 'value="ABCD 23"' in response.text and "did not match" not in response.text  # not checked
    assert response.cookies.get("codesign_text") == "large"
    assert ">Standard text size</button>" in _switch_button(response.text)
    assert 'name="text_size" value="normal"' in response.text
    back = post_form(client, "/join", {"code": "ABCD 23", "text_size": "normal"})
    assert back.status_code == 200 and not LARGE_HTML.search(back.text) and 'value="ABCD 23"' in back.text
    assert client.cookies.get("codesign_text") == "normal"


def test_group_page_keeps_name_and_table_and_joins_nobody(  # type: ignore[no-untyped-def]
        client: TestClient, workshop, session: Session) -> None:
    proved = post_form(client, "/join", {"code": workshop.join_code})
    url = proved.headers["location"]
    _form_switch(client.get(url).text, "group-form", 'name="group"')
    response = post_form(client, url, {"first_name": "Ann <b>", "table_number": "4", "text_size": "large"})
    assert response.status_code == 200 and LARGE_HTML.search(response.text)
    assert 'value="Ann &lt;b&gt;"' in response.text and 'value="4"' in response.text
    assert session.exec(select(Participant)).all() == []


def test_proposal_page_keeps_the_idea_and_sends_nothing(  # type: ignore[no-untyped-def]
        client: TestClient, workshop, session: Session) -> None:
    join(client, workshop.join_code)
    home = f"/s/{workshop.join_code}"
    _form_switch(client.get(home).text, "propose-form", "Send my idea")
    before = len(session.exec(select(Outcome)).all())
    response = post_form(client, f"{home}/proposals",
                         {"statement": "I can see the same nurse", "description": "Half written", "text_size": "large"},
                         token_from=home)
    assert response.status_code == 200 and LARGE_HTML.search(response.text)
    assert "I can see the same nurse</textarea>" in response.text and "Half written</textarea>" in response.text
    assert len(session.exec(select(Outcome)).all()) == before
    assert LARGE_HTML.search(client.get(home).text)  # remembered on the next page


def test_background_switch_answers_204_and_remembers(client: TestClient) -> None:
    token = csrf_from(client, "/join")
    response = client.post("/text-size", data={"text_size": "large"},
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 204 and response.cookies.get("codesign_text") == "large"
    assert LARGE_HTML.search(client.get("/join").text)
