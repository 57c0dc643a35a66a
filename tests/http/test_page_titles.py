"""Titles that say where you are (issue 11, item 8): a screen reader's first words on each page, and
what a tab or the history list shows. Each question's title names the question, the outcome and
the round; the summary page says "Thank you" only once every answer is in."""

from __future__ import annotations

import html
import re

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign.models import Outcome, User
from codesign.naming import round_label
from tests.conftest import join
from tests.round_helpers import accepted_ids, open_round, shown_outcome

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')


def title(page: str) -> str:
    found = TITLE.search(page)
    assert found, page[:300]
    return " ".join(html.unescape(found.group(1)).split())


def _answer(client: TestClient, url: str, value: str) -> None:
    page = client.get(url).text
    response = client.post(url, data={"csrf_token": TOKEN.search(page).group(1),  # type: ignore[union-attr]
                                      "key": KEY.search(page).group(1), "value": value})  # type: ignore[union-attr]
    assert response.status_code == 303, response.text[:500]


def test_each_rating_question_has_its_own_title(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3), title="Priorities")
    join(client, workshop.join_code)
    base = f"/s/{workshop.join_code}/rounds/{found.id}"
    label = round_label(found)
    titles = []
    for n in (1, 2, 3):
        page = client.get(f"{base}/q/{n}").text
        outcome = session.get_one(Outcome, shown_outcome(session, page))
        assert title(page) == f"Question {n} of 3: {outcome.statement} – {label} – codesign"
        titles.append(title(page))
    assert len(set(titles)) == 3

    done = f"{base}/done"
    assert title(client.get(done).text) == f"Your answers so far: 0 of 3 answered – {label} – codesign"
    _answer(client, f"{base}/q/1", "8")
    _answer(client, f"{base}/q/2", "unable")
    assert title(client.get(done).text) == f"Your answers so far: 2 of 3 answered – {label} – codesign"
    _answer(client, f"{base}/q/3", "3")
    assert title(client.get(done).text) == f"Thank you, your answers are saved – {label} – codesign"


def test_pairwise_ranking_and_points_titles_name_the_task_and_round(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 4)
    join(client, workshop.join_code)
    code = workshop.join_code
    pairwise = open_round(session, facilitator, workshop, ids, method="pairwise", title="Pairs")
    page = client.get(f"/s/{code}/rounds/{pairwise.id}").text
    left, right = (html.unescape(s) for s in re.findall(r'class="nhsuk-button app-pair__button">([^<]*)</button>', page))
    assert title(page) == f"Which matters more: {left}, or {right}? – {round_label(pairwise)} – codesign"
    assert title(client.get(f"/s/{code}/rounds/{pairwise.id}/done").text).startswith("Your answers so far")
    ranking = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3", title="Rank")
    assert title(client.get(f"/s/{code}/rounds/{ranking.id}").text) == (
        f"Put the 3 that matter most in order – {round_label(ranking)} – codesign")
    points = open_round(session, facilitator, workshop, ids, method="points", budget="10", title="Dots")
    assert title(client.get(f"/s/{code}/rounds/{points.id}").text) == (
        f"Share out your 10 dots – {round_label(points)} – codesign")
