"""The order outcomes are shown in, through the pages: the new-round form (order radio, Move up
and Move down without JavaScript), the round page's statement of the order, and each person's
question pages, answers list and ranking list."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import pytest
from markupsafe import escape
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign.models import Outcome, Participant, Round, RoundOutcome, User, WorkshopSession
from codesign.services import rounds
from codesign.voting.order import split_options, voter_order
from tests.conftest import join, post_form, sign_in
from tests.round_helpers import accepted_ids, round_form, shown_outcome

SEED = "0a1b" * 16
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')
ARRANGEMENT = re.compile(r'name="arrangement" value="([^"]*)"')


def new_round_url(workshop: WorkshopSession) -> str:
    return f"/sessions/{workshop.id}/rounds/new"


def form_data(outcome_ids: list[int], **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {**round_form(outcome_ids), "outcomes": [str(i) for i in outcome_ids]}
    data.update(overrides)
    return data


def create(client: TestClient, workshop: WorkshopSession, data: dict[str, object]) -> int:
    response = post_form(client, new_round_url(workshop), data, token_from=new_round_url(workshop))
    assert response.status_code == 303, response.text[:2000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def open_via_page(client: TestClient, workshop: WorkshopSession, round_id: int) -> None:
    page = f"/sessions/{workshop.id}/rounds/{round_id}"
    response = post_form(client, f"{page}/open", {"acknowledge_small": "yes"}, token_from=page)
    assert response.status_code == 303, response.text[:1000]


def order_row(page: str) -> str:
    found = re.search(r'id="round-order">.*?<dd class="nhsuk-summary-list__value">(.*?)</dd>', page, re.S)
    assert found, page[:500]
    return html.unescape(re.sub(r"\s+", " ", found.group(1))).strip()


@pytest.fixture
def devices(client: TestClient) -> Iterator[list[TestClient]]:
    made = [TestClient(client.app, follow_redirects=False) for _ in range(3)]
    yield made
    for each in made:
        each.close()


def test_the_form_offers_both_orders_in_plain_words_with_random_chosen(  # type: ignore[no-untyped-def]
        client: TestClient, facilitator: User, workshop) -> None:
    sign_in(client, facilitator)
    page = client.get(new_round_url(workshop)).text
    assert "What order do people see the outcomes in?" in page
    assert re.search(r'value="random"\s+checked', page)
    assert "A different random order for each person" in page and "no outcome gains from always being asked first" in page
    assert "The same order for everyone: the order of the list below" in page
    # The default button (Enter in a field) is "Create round", ahead of every "Move down".
    assert page.index('<button type="submit" hidden tabindex="-1">Create round</button>') < page.index('name="move"')


def test_move_up_and_down_reorder_the_form_without_saving_and_the_order_is_kept(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    sign_in(client, facilitator)
    a, b, c, d = accepted_ids(session, workshop, 4)
    url = new_round_url(workshop)
    first = client.get(url).text
    listed = [int(i) for i in ARRANGEMENT.search(first).group(1).split(",")]  # type: ignore[union-attr]
    assert listed[:4] == [a, b, c, d]
    moved = post_form(client, url, form_data([a, c, d], arrangement=",".join(map(str, listed)), move=f"down:{a}",
                                           title="Kept title"), token_from=url)
    assert moved.status_code == 200 and session.exec(select(Round)).all() == []  # nothing saved
    assert ARRANGEMENT.search(moved.text).group(1).startswith(f"{b},{a},{c},{d}")  # type: ignore[union-attr]
    assert 'value="Kept title"' in moved.text
    assert re.search(rf'value="down:{a}" formnovalidate[^>]*autofocus', moved.text)  # focus stays on the button
    assert re.search(rf'value="{b}" checked', moved.text) is None and re.search(rf'value="{a}" checked', moved.text)
    arrangement = ARRANGEMENT.search(moved.text).group(1)  # type: ignore[union-attr]
    again = post_form(client, url, form_data([a, c, d], arrangement=arrangement, move=f"up:{d}"), token_from=url)
    arrangement = ARRANGEMENT.search(again.text).group(1)  # type: ignore[union-attr]
    assert arrangement.startswith(f"{b},{a},{d},{c}")
    round_id = create(client, workshop, form_data([a, c, d], arrangement=arrangement, order="facilitator"))
    positions = session.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == round_id)
                             .order_by(col(RoundOutcome.position))).all()
    assert list(positions) == [a, d, c]
    statements = {i: session.get_one(Outcome, i).statement for i in (a, c, d)}
    console = client.get(f"/sessions/{workshop.id}/rounds/{round_id}").text
    assert order_row(console) == f"In this order: 1. {statements[a]}; 2. {statements[d]}; 3. {statements[c]}"


def test_a_bad_order_is_a_422_naming_the_field(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, facilitator)
    url = new_round_url(workshop)
    response = post_form(client, url, form_data(accepted_ids(session, workshop, 3), order="sideways"), token_from=url)
    assert response.status_code == 422 and "Choose the order people see the outcomes in" in response.text
    assert 'href="#order"' in response.text and session.exec(select(Round)).all() == []
    # A move naming nothing re-shows the form unchanged rather than failing.
    before = ARRANGEMENT.search(client.get(url).text).group(1)  # type: ignore[union-attr]
    odd = post_form(client, url, form_data(accepted_ids(session, workshop, 3), arrangement=before, move="up:x9"),
                    token_from=url)
    assert odd.status_code == 200 and ARRANGEMENT.search(odd.text).group(1) == before  # type: ignore[union-attr]
    assert session.exec(select(Round)).all() == []


def test_each_person_sees_their_own_order_everywhere_and_the_console_says_so(  # type: ignore[no-untyped-def]
        client: TestClient, devices: list[TestClient], session: Session, facilitator: User, workshop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds.secrets, "token_hex", lambda n: SEED)
    sign_in(client, facilitator)
    ids = accepted_ids(session, workshop, 5)
    round_id = create(client, workshop, form_data(ids))  # the form's default: random
    console = f"/sessions/{workshop.id}/rounds/{round_id}"
    assert order_row(client.get(console).text).startswith("Random order for each person (the seed is drawn")
    open_via_page(client, workshop, round_id)
    assert order_row(client.get(console).text) == "Random order for each person (seed recorded)"
    found = session.get_one(Round, round_id)
    assert split_options(json.loads(found.options_json))[1].seed == SEED
    code = workshop.join_code
    base = f"/s/{code}/rounds/{round_id}"
    seen: list[list[int]] = []
    for n, tablet in enumerate(devices):
        join(tablet, code, "patient", f"Person {n}")
        person = session.exec(select(Participant).where(Participant.first_name == f"Person {n}")).one()
        expected = voter_order(ids, SEED, f"p:{person.id}")
        asked = [shown_outcome(session, tablet.get(f"{base}/q/{q}").text) for q in range(1, 6)]
        assert asked == expected
        seen.append(asked)
        # Answer question 3, then question 5: each lands on that person's outcome, and "next"
        # follows their order.
        page = tablet.get(f"{base}/q/3").text
        tapped = tablet.post(f"{base}/q/3", data={"csrf_token": TOKEN.search(page).group(1),  # type: ignore[union-attr]
                                                 "key": KEY.search(page).group(1), "value": "7"})  # type: ignore[union-attr]
        assert tapped.status_code == 303 and tapped.headers["location"].endswith("/q/4#question")
        assert shown_outcome(session, tablet.get(f"{base}/q/3").text) == expected[2]  # the same after a reload
        # "Vote now" goes to the first unanswered question, in their order.
        assert tablet.get(base).headers["location"].endswith("/q/1")
        done = tablet.get(f"{base}/done").text
        listed = re.findall(r'<li><a href="[^"]*/q/(\d+)(?:#question)?">([^<]*)</a>:\s*<strong>([^<]*)</strong>', done)
        statements = {i: html.unescape(str(session.get_one(Outcome, i).statement)) for i in ids}
        assert [(int(q), html.unescape(s)) for q, s, _ in listed] == [(q, statements[o]) for q, o in
                                                                      enumerate(expected, start=1)]
        assert [v for _, _, v in listed] == ["not answered", "not answered", "7", "not answered", "not answered"]
    assert len({tuple(s) for s in seen}) == 3  # three people, three different orders (with this seed)


def test_a_ranking_lists_the_outcomes_to_choose_from_in_each_persons_order(  # type: ignore[no-untyped-def]
        client: TestClient, devices: list[TestClient], session: Session, facilitator: User, workshop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds.secrets, "token_hex", lambda n: SEED)
    sign_in(client, facilitator)
    ids = accepted_ids(session, workshop, 5)
    round_id = create(client, workshop, form_data(ids, method="ranking", order="random"))
    open_via_page(client, workshop, round_id)
    code = workshop.join_code
    for n, tablet in enumerate(devices[:2]):
        join(tablet, code, "carer", f"Ranker {n}")
        person = session.exec(select(Participant).where(Participant.first_name == f"Ranker {n}")).one()
        page = tablet.get(f"/s/{code}/rounds/{round_id}").text
        others = page.split("Other outcomes", 1)[1]
        positions = {i: others.find(str(escape(session.get_one(Outcome, i).statement))) for i in ids}
        assert all(p >= 0 for p in positions.values())
        assert sorted(ids, key=positions.__getitem__) == voter_order(ids, SEED, f"p:{person.id}")
