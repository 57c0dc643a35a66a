"""Joining over HTTP: only a POST checks a code; a wrong code slows only the device that typed
it; GET writes nothing; /s/<code> pages reveal nothing to a device that has not joined."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import Participant
from tests.conftest import join, post_form

WRONG = "ZZZZ9999"


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in inspect(engine).get_table_names()}


def same_page(html: str, code: str) -> str:
    """The page with its code and per-request CSP nonce taken out."""
    return re.sub(r'nonce="[^"]*"', "", html).replace(code, "CODE")


def test_ten_wrong_codes_slow_that_device_and_another_device_joins_at_once(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, workshop, settings, clock: list[timedelta]) -> None:
    # Both test clients come from the same address, like two tablets on the venue's Wi-Fi.
    statuses = [post_form(client, "/join", {"code": WRONG}).status_code for _ in range(10)]
    assert statuses == [422] * settings.join_max_failures + [429] * (10 - settings.join_max_failures)
    refused = post_form(client, "/join", {"code": workshop.join_code})
    assert refused.status_code == 429
    assert "Wait 30 seconds, then try again. This only affects this device." in refused.text
    # The tablet beside it joins with the right code at once.
    response = post_form(other_client, f"/j/{workshop.join_code}", {"code": workshop.join_code},
                         token_from=f"/j/{workshop.join_code}")
    assert response.status_code == 303 and response.headers["location"].endswith(f"/j/{workshop.join_code}/group")
    join(other_client, workshop.join_code)
    # Slowed, not locked: after the wait the mistyping tablet gets in too.
    clock.append(timedelta(seconds=30))
    assert post_form(client, "/join", {"code": workshop.join_code}).status_code == 303


def test_a_wrong_code_says_what_happened(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/join", {"code": WRONG})
    assert response.status_code == 422
    assert "That code did not match. Check it against the screen" in response.text


def test_qr_link_shows_the_code_form_filled_in_and_never_looks_it_up(  # type: ignore[no-untyped-def]
        client: TestClient, engine: Engine, workshop) -> None:
    before = table_counts(engine)
    real = client.get(f"/j/{workshop.join_code}")
    wrong = client.get(f"/j/{WRONG}")
    for page, code in ((real, workshop.join_code), (wrong, WRONG)):
        assert page.status_code == 200 and "Enter the code on the screen" in page.text
        assert f'value="{code}"' in page.text and f'data-autosubmit="{code}"' in page.text
    # The same page for a real code and a wrong one: the GET cannot tell them apart.
    assert same_page(real.text, workshop.join_code) == same_page(wrong.text, WRONG)
    typed_loosely = client.get(f"/j/{workshop.join_code.lower()}")
    assert f'value="{workshop.join_code}"' in typed_loosely.text
    assert table_counts(engine) == before


def test_get_never_writes_on_the_join_and_participant_pages(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, engine: Engine, workshop) -> None:
    join(other_client, workshop.join_code)
    code = workshop.join_code
    before = table_counts(engine)
    for device in (client, other_client):
        for url in ("/join", f"/join?code={WRONG}", f"/j/{code}", f"/j/{WRONG}", f"/j/{code}/group",
                    f"/j/{WRONG}/group", f"/s/{code}", f"/s/{WRONG}", f"/s/{code}/rounds/1", f"/s/{WRONG}/rounds/1",
                    "/j/%00AAAAAAA", "/s/%00AAAAAAA"):
            assert device.get(url).status_code < 500, url
    assert table_counts(engine) == before


def _not_joined_answer(client: TestClient, method: str, path: str, code: str) -> tuple[int, str]:
    if method == "GET":
        response = client.get(path)
    else:
        response = post_form(client, path, {"statement": "x", "value": "5", "key": "k" * 32})
    return response.status_code, response.headers.get("location", "").replace(code, "CODE")


@pytest.mark.parametrize(("method", "suffix"), [
    ("GET", ""), ("GET", "/rounds/1"), ("GET", "/rounds/1/q/1"), ("GET", "/rounds/1/done"),
    ("POST", "/proposals"), ("POST", "/leave"), ("POST", "/rounds/1/q/1"), ("POST", "/rounds/1/pair"),
    ("POST", "/rounds/1/draft"), ("POST", "/rounds/1/submit"),
])
def test_participant_pages_answer_a_device_that_did_not_join_as_they_answer_a_wrong_code(  # type: ignore[no-untyped-def]
        client: TestClient, workshop, method: str, suffix: str) -> None:
    """Brute force through /s/<code> learns nothing: a real code and a wrong one look the same."""
    real = _not_joined_answer(client, method, f"/s/{workshop.join_code}{suffix}", workshop.join_code)
    wrong = _not_joined_answer(client, method, f"/s/{WRONG}{suffix}", WRONG)
    assert real == wrong == (303, "/j/CODE")


def test_a_device_that_joined_goes_straight_back_in(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code)
    again = client.get(f"/j/{workshop.join_code}")
    assert again.status_code == 303 and again.headers["location"].endswith(f"/s/{workshop.join_code}")
    # ...but its cookie says nothing about other codes.
    assert client.get(f"/j/{WRONG}").status_code == 200


def test_choosing_a_group_needs_the_code_proved_on_this_device(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, workshop) -> None:
    for code in (workshop.join_code, WRONG):
        page = client.get(f"/j/{code}/group")
        assert page.status_code == 303 and page.headers["location"] == f"/j/{code}"
        sneaky = post_form(client, f"/j/{code}/group", {"group": "patient"})
        assert sneaky.status_code == 303 and sneaky.headers["location"] == f"/j/{code}"
    assert session.exec(select(Participant)).all() == []
    assert post_form(client, "/join", {"code": workshop.join_code}).status_code == 303
    assert "Which group are you in?" in client.get(f"/j/{workshop.join_code}/group").text


@pytest.mark.parametrize("raw", ["\x00BCD2345", "ABCD\x002345", "ABC", "ABCD23O5"])
def test_codes_that_cannot_be_codes_are_refused_without_counting(  # type: ignore[no-untyped-def]
        client: TestClient, engine: Engine, workshop, settings, raw: str) -> None:
    before = table_counts(engine)
    for _ in range(settings.join_max_failures + 2):
        response = post_form(client, "/join", {"code": raw})
        assert response.status_code == 422 and "Codes have 8 letters and numbers" in response.text
    assert post_form(client, "/j/%00BCD2345", {"code": ""}).status_code == 404  # a control character in an address
    assert table_counts(engine) == before
    assert post_form(client, "/join", {"code": workshop.join_code}).status_code == 303
