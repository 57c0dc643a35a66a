"""Ranking and points lists change in place (issue 11, item 2), and the participants' "on the list
so far" section is left alone when nothing changed (item 9), over HTTP: with htmx (HX-Request) a
tap answers with the list's fragment and says what it did; without JavaScript it is a plain form
post whose 303 lands on the tapped outcome's row."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import event
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import Outcome, Participant, User, WorkshopSession
from codesign.services import proposals
from tests.conftest import join
from tests.round_helpers import accepted_ids, open_round

HTMX = {"HX-Request": "true"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([^"]*)"')
NEWS = re.compile(r'<p id="list-news" hx-swap-oob="innerHTML">([^<]*)</p>')


def _field(pattern: re.Pattern[str], page: str) -> str:
    match = pattern.search(page)
    assert match, page[:800]
    return match.group(1)


def _button(page: str, did: str, outcome: int) -> dict[str, str]:
    """The tapped button's form action and its name=value, as the browser would send them."""
    match = re.search(rf'<button type="submit" id="{did}-{outcome}"[^>]*>', page)
    assert match, f"no {did} button for {outcome}"
    tag = match.group(0)
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
    assert attrs["hx-post"] == attrs["formaction"] and attrs["hx-target"] == "#ballot-area"
    assert attrs["hx-swap"] == "outerHTML"  # explicit on every element, not inherited
    return {"action": unescape(attrs["formaction"]), "name": attrs["name"], "value": attrs["value"]}


def _tap(client: TestClient, page: str, did: str, outcome: int, *, htmx: bool, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    button = _button(page, did, outcome)
    data = {"csrf_token": _field(TOKEN, page), "version": _field(VERSION, page), button["name"]: button["value"],
            **(extra or {})}
    return client.post(button["action"], data=data, headers=HTMX if htmx else {}, follow_redirects=False)


def test_ranking_taps_swap_the_list_and_say_what_moved(  # type: ignore[no-untyped-def]
        other_client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    ids = accepted_ids(session, workshop, 4)
    found = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")
    text = {i: session.get_one(Outcome, i).statement for i in ids}
    join(other_client, workshop.join_code, "carer")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    page = other_client.get(url).text
    assert '<p class="nhsuk-u-visually-hidden" id="list-news" role="status"></p>' in page  # there from the start

    # With htmx: the POST redirects to the list's fragment, which htmx's request follows.
    added = _tap(other_client, page, "add", ids[0], htmx=True)
    assert added.status_code == 303 and added.headers["location"] == f"{url}?part=list"
    part = other_client.get(added.headers["location"], headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text and part.text.lstrip().startswith("<div id=\"ballot-area\"")
    assert unescape(_field(NEWS, part.text)) == f"Added {text[ids[0]]} to your list at position 1"
    page = part.text
    for outcome in ids[1:3]:
        page = other_client.get(_tap(other_client, page, "add", outcome, htmx=True).headers["location"],
                                headers=HTMX).text
    moved = _tap(other_client, page, "down", ids[0], htmx=True)
    page = other_client.get(moved.headers["location"], headers=HTMX).text
    assert unescape(_field(NEWS, page)) == f"Moved {text[ids[0]]} to position 2"
    assert re.findall(r'id="ranked-(\d+)"', page) == [str(ids[1]), str(ids[0]), str(ids[2])]
    # Said once: the next refresh of the list does not say it again.
    assert _field(NEWS, other_client.get(f"{url}?part=list", headers=HTMX).text) == ""
    removed = _tap(other_client, page, "remove", ids[2], htmx=True)
    page = other_client.get(removed.headers["location"], headers=HTMX).text
    assert unescape(_field(NEWS, page)) == f"Removed {text[ids[2]]} from your list"

    # Without JavaScript: the same buttons are plain form posts, and the 303 lands on the tapped row.
    page = other_client.get(url).text
    up = _tap(other_client, page, "up", ids[0], htmx=False)
    assert up.status_code == 303 and up.headers["location"] == f"{url}#ranked-{ids[0]}"
    full = other_client.get(up.headers["location"].split("#")[0]).text
    assert "<html" in full and f'id="ranked-{ids[0]}"' in full
    assert re.findall(r'id="ranked-(\d+)"', full) == [str(ids[0]), str(ids[1])]
    assert f'id="list-news" role="status">Moved {text[ids[0]]} to position 1</p>' in unescape(full)
    gone = _tap(other_client, full, "remove", ids[1], htmx=False)
    assert gone.headers["location"] == f"{url}#other-{ids[1]}"  # it is now in "Other outcomes"


def test_points_taps_update_the_dots_left_in_place(  # type: ignore[no-untyped-def]
        other_client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    a, b = ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids, method="points", budget="6", max_per_outcome="3")
    text = {i: session.get_one(Outcome, i).statement for i in ids}
    join(other_client, workshop.join_code, "clinician")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    page = other_client.get(url).text
    alloc = re.compile(r'name="alloc" value="([^"]*)"')
    for _ in range(2):
        tapped = _tap(other_client, page, "more", b, htmx=True, extra={"alloc": _field(alloc, page)})
        assert tapped.headers["location"] == f"{url}?part=list"
        page = other_client.get(tapped.headers["location"], headers=HTMX).text
    assert unescape(_field(NEWS, page)) == f"2 dots on {text[b]}, 4 left"
    assert '<p class="app-dots-left" id="dots-left"><strong>4</strong> dots left to give</p>' in page
    fewer = _tap(other_client, page, "fewer", b, htmx=True, extra={"alloc": _field(alloc, page)})
    page = other_client.get(fewer.headers["location"], headers=HTMX).text
    assert unescape(_field(NEWS, page)) == f"1 dot on {text[b]}, 5 left"

    # Without JavaScript: lands on the outcome's row, the counter in the page.
    full = other_client.get(url).text
    plain = _tap(other_client, full, "more", a, htmx=False, extra={"alloc": _field(alloc, full)})
    assert plain.status_code == 303 and plain.headers["location"] == f"{url}#o-{a}"
    assert "<strong>4</strong> dots left to give" in other_client.get(url).text


def test_a_stale_list_from_another_tablet_gets_the_list_as_it_is_in_place(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User,
        workshop: WorkshopSession) -> None:
    a, b, c = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, [a, b, c], method="ranking", table_based="yes")
    join(client, workshop.join_code, "patient", "", "4")
    join(other_client, workshop.join_code, "clinician", "", "4")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    left, right = client.get(url).text, other_client.get(url).text
    assert _tap(client, left, "add", a, htmx=True).status_code == 303
    stale = _tap(other_client, right, "add", b, htmx=True)
    assert stale.status_code == 409 and "<html" not in stale.text  # htmx swaps it in place of the list
    assert "Table 4’s list changed on another tablet" in stale.text
    assert "Table 4’s list changed on another tablet" in unescape(_field(NEWS, stale.text))  # and says it
    assert re.findall(r'id="ranked-(\d+)"', stale.text) == [str(a)]  # the list as it is now
    # Without JavaScript, as before: the whole page again, 409, with the same message.
    plain = _tap(other_client, right, "add", c, htmx=False)
    assert plain.status_code == 409 and "<html" in plain.text and "list changed on another tablet" in plain.text


def test_the_accepted_list_is_answered_204_while_unchanged(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User,
        workshop: WorkshopSession) -> None:
    join(other_client, workshop.join_code, "patient")
    home = f"/s/{workshop.join_code}"
    fp = re.compile(r'\?part=accepted&amp;fp=([0-9a-f]+)"')
    first = _field(fp, other_client.get(home).text)
    polled = other_client.get(f"{home}?part=accepted&fp={first}", headers=HTMX)
    assert polled.status_code == 204 and polled.text == ""
    # Something changes on the list: the next poll gets the new list, with its own fingerprint.
    person = session.exec(select(Participant)).one()
    idea = proposals.propose_outcome(session, workshop.id, person.id, "I can see my own records")
    assert other_client.get(f"{home}?part=accepted&fp={first}", headers=HTMX).status_code == 204  # only proposed
    proposals.accept_outcome(session, facilitator, workshop.id, idea.id or 0)
    changed = other_client.get(f"{home}?part=accepted&fp={first}", headers=HTMX)
    assert changed.status_code == 200 and "I can see my own records" in changed.text
    assert changed.text.lstrip().startswith('<div id="accepted"')
    second = _field(fp, changed.text)
    assert second != first
    assert other_client.get(f"{home}?part=accepted&fp={second}", headers=HTMX).status_code == 204
    # A reworded outcome changes it too.
    proposals.reword_outcome(session, facilitator, workshop.id, idea.id or 0, "I can read my own records", "plainer")
    reworded = other_client.get(f"{home}?part=accepted&fp={second}", headers=HTMX)
    assert reworded.status_code == 200 and "I can read my own records" in reworded.text



def test_an_unchanged_poll_of_the_list_so_far_is_one_read_past_the_join_check(  # type: ignore[no-untyped-def]
        app, other_client: TestClient, session: Session, workshop: WorkshopSession) -> None:
    join(other_client, workshop.join_code, "patient")
    home = f"/s/{workshop.join_code}"
    fingerprint = _field(re.compile(r'\?part=accepted&amp;fp=([0-9a-f]+)"'), other_client.get(home).text)
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        status = other_client.get(f"{home}?part=accepted&fp={fingerprint}", headers=HTMX).status_code
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert status == 204
    # The list itself is not read: one statement touches outcomes, the fingerprint's.
    assert len([s for s in seen if "outcome" in s.lower()]) == 1, seen
    assert len(seen) <= 3, seen  # the device's join check, then the fingerprint
