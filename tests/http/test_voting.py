"""Voting rounds through the pages: the facilitator sets up and runs a round, participants vote on
their tablets, results appear only after close and reveal, and the downloads agree with
`codesign tally` and `codesign results`."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign import cli, queries
from codesign.models import (
    Ballot,
    BallotAnswer,
    Outcome,
    PairwiseAnswer,
    Participant,
    Role,
    Round,
    RoundStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
)
from codesign.services import ballots, demo_rounds, proposals, rounds, sessions
from codesign.services.demo import DEMO_PASSWORD
from codesign.tally_cli import run_tally
from tests.conftest import csrf_from, join, make_user, post_form, sign_in
from tests.round_helpers import accepted_ids, load_demo, open_round, round_form, shown_outcome

GROUPS = ("patient", "carer", "clinician", "commissioner")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')
FINGERPRINT = re.compile(r"\?fp=([0-9a-f]+)")
PROGRESS_ROW = re.compile(r'<td class="nhsuk-table__cell">([^<]+)</td>\s*'
                          r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)</td>\s*'
                          r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">\d+</td>\s*'
                          r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)</td>')
FORMULA = '=HYPERLINK("http://evil.example/","Click me")'


def token(page: str) -> str:
    match = TOKEN.search(page)
    assert match, page[:500]
    return match.group(1)


def progress(page: str) -> dict[str, tuple[int, int]]:
    """Group name -> (joined, voted) from the facilitator's progress table."""
    return {name: (int(joined), int(voted)) for name, joined, voted in PROGRESS_ROW.findall(page)}


def imported_ballots(page: str) -> dict[str, int]:
    """Group name -> imported ballots, the progress table's last column (there when there are any)."""
    row = PROGRESS_ROW.pattern + r'\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)</td>'
    return {name: int(imported) for name, _joined, _voted, imported in re.findall(row, page)}


def create_round_via_form(client: TestClient, workshop: WorkshopSession, data: dict[str, object]) -> int:
    url = f"/sessions/{workshop.id}/rounds/new"
    response = post_form(client, url, data, token_from=url)
    assert response.status_code == 303, response.text[:2000]
    match = re.search(r"/rounds/(\d+)$", response.headers["location"])
    assert match
    return int(match.group(1))


def form_data(outcome_ids: list[int], **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {**round_form(outcome_ids), "outcomes": [str(i) for i in outcome_ids]}
    data.update(overrides)
    return data


def facilitator_post(client: TestClient, workshop: WorkshopSession, round_id: int, action: str) -> None:
    page = f"/sessions/{workshop.id}/rounds/{round_id}"
    # Opening: the facilitator has read which groups are too small to show (tested on its own).
    data = {"acknowledge_small": "yes"} if action == "open" else {}
    response = post_form(client, f"{page}/{action}", data, token_from=page)
    assert response.status_code == 303, response.text[:1000]


def device(client: TestClient) -> TestClient:
    """Another device on the same running app. Not entered as a context manager: a second lifespan
    would replace the app's engine, and closing it mid-test would leave the app a disposed one."""
    return TestClient(client.app, follow_redirects=False)


@pytest.fixture
def tablets(client: TestClient) -> Iterator[list[TestClient]]:
    """Eight devices in the room."""
    with ExitStack() as stack:
        devices = [device(client) for _ in range(8)]
        for each in devices:
            stack.callback(each.close)
        yield devices


def answer_every_question(client: TestClient, db: Session, code: str, round_id: int,
                          values: dict[int, str]) -> str:
    """Tap through the rating pages from 'Vote now', giving each outcome shown its value from
    `values` (outcome id -> value: each person meets the outcomes in their own order); returns
    the 'done' page."""
    start = client.get(f"/s/{code}/rounds/{round_id}")
    assert start.status_code == 303 and start.headers["location"].endswith("/q/1")
    location = start.headers["location"]
    for _ in values:
        page = client.get(location)
        assert page.status_code == 200, page.text[:500]
        key = KEY.search(page.text)
        assert key
        value = values[shown_outcome(db, page.text)]
        response = client.post(location, data={"csrf_token": token(page.text), "key": key.group(1), "value": value})
        assert response.status_code == 303, response.text[:1000]
        location = response.headers["location"]
    assert location.endswith("/done#done")
    done = client.get(location)
    assert "Thank you, your answers are saved" in done.text
    return done.text


# Ratings per group (two people each) for outcomes A, B, D and the formula-like one, in the round's
# order (the facilitator's; each person is asked in their own order): A is IN, B is OUT, D is
# critical to patients only.
RATINGS = {
    "patient": (["9", "1", "9", "5"], ["8", "2", "9", "unable"]),
    "carer": (["9", "1", "5", "6"], ["9", "2", "6", "4"]),
    "clinician": (["7", "3", "2", "5"], ["9", "1", "3", "6"]),
    "commissioner": (["8", "1", "7", "4"], ["9", "2", "unable", "5"]),
}


def tally_csv_from_rows(session: Session, round_id: int) -> str:
    """The round's ballots, straight from the database rows, in `codesign tally`'s format."""
    groups = {g.id: g.key for g in session.exec(select(StakeholderGroup))}
    rows = session.exec(select(Ballot.voter_key, Ballot.stakeholder_group_id, BallotAnswer.outcome_id,
                               BallotAnswer.value)
                        .join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id))
                        .where(Ballot.round_id == round_id)).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["participant", "group", "outcome", "value"])
    for voter, group, outcome, value in rows:
        writer.writerow([voter, groups[group], outcome, "U" if value is None else value])
    return out.getvalue()


def test_round_form_keeps_what_was_typed_and_opens(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                   workshop) -> None:
    sign_in(client, facilitator)
    ids = accepted_ids(session, workshop, 3)
    url = f"/sessions/{workshop.id}/rounds/new"
    page = client.get(url)
    assert page.status_code == 200 and "Create a voting round" in page.text
    assert page.text.count('name="outcomes"') == len(accepted_ids(session, workshop))
    bad = post_form(client, url, {"title": "Round of the day", "method": "points", "budget": "4",
                                  "max_per_outcome": "7", "in_min": "101", "outcomes": [str(ids[1])]}, token_from=url)
    assert bad.status_code == 422
    for message in ("Choose at least two outcomes", "cannot be more than the dots each person has",
                    "must be between 0 and 100"):
        assert message in bad.text
    assert 'value="Round of the day"' in bad.text and 'value="101"' in bad.text and 'value="7"' in bad.text
    assert re.search(r'value="points"\s+checked', bad.text)
    ticked = re.findall(r'name="outcomes" type="checkbox" value="(\d+)"\s+checked', bad.text)
    assert ticked == [str(ids[1])]
    none_ticked = post_form(client, url, {"title": "T", "method": "rating"}, token_from=url)
    assert none_ticked.status_code == 422
    assert not re.findall(r'name="outcomes" type="checkbox" value="(\d+)"\s+checked', none_ticked.text)
    assert session.exec(select(Round)).all() == []

    round_id = create_round_via_form(client, workshop, form_data(ids, title="Round one"))
    console = client.get(f"/sessions/{workshop.id}/rounds/{round_id}")
    assert "Draft" in console.text and "Open round for voting" in console.text
    facilitator_post(client, workshop, round_id, "open")
    found = session.get(Round, round_id)
    assert found is not None and found.status == RoundStatus.open and found.title == "Round one"
    assert "Close round" in client.get(f"/sessions/{workshop.id}/rounds/{round_id}").text


def test_a_new_round_suits_a_workshop_of_8_to_16(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                 workshop) -> None:
    """Groups of 3 or 4 are the norm in a room of 12: the form proposes showing them, and a
    round created with the field left empty shows them too (groups of 2 stay hidden)."""
    sign_in(client, facilitator)
    url = f"/sessions/{workshop.id}/rounds/new"
    page = client.get(url)
    field = re.search(r'<input[^>]*name="min_group_size"[^>]*>', page.text)
    assert field and 'value="3"' in field.group(0)
    ids = accepted_ids(session, workshop, 3)
    round_id = create_round_via_form(client, workshop, form_data(ids, title="Small room", min_group_size=""))
    made = session.get(Round, round_id)
    assert made is not None and json.loads(made.rule_json)["min_group_size"] == 3


def test_a_rating_round_from_voting_to_results(  # type: ignore[no-untyped-def]
        client: TestClient, tablets: list[TestClient], session: Session, facilitator: User, workshop,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str,
        tmp_path: Path) -> None:
    # An outcome a spreadsheet would run as a formula, proposed and accepted in the room.
    proposer = sessions.join_session(session, workshop.id, "patient")
    formula = proposals.propose_outcome(session, workshop.id, proposer.id, FORMULA)  # type: ignore[arg-type]
    proposals.accept_outcome(session, facilitator, workshop.id, formula.id)  # type: ignore[arg-type]
    a, b, d = accepted_ids(session, workshop, 3)
    ids = [a, b, d, formula.id]
    assert all(isinstance(i, int) for i in ids)

    sign_in(client, facilitator)
    round_id = create_round_via_form(client, workshop, form_data(ids, title="How important is each?",  # type: ignore[arg-type]
                                                                 min_group_size="2"))
    facilitator_post(client, workshop, round_id, "open")
    code = workshop.join_code
    console = f"/sessions/{workshop.id}/rounds/{round_id}"
    projector = f"{console}/projector"
    htmx = {"HX-Request": "true"}

    people: list[tuple[TestClient, str, int]] = []
    for n, tablet in enumerate(tablets):
        group = GROUPS[n // 2]
        join(tablet, code, group, f"Person {n}")
        people.append((tablet, group, n % 2))
    live = client.get(console, headers=htmx)
    assert live.status_code == 200 and live.text.lstrip().startswith('<div id="round-progress"')
    assert live.headers["vary"].startswith("HX-Request")
    assert progress(live.text) == {"Patients": (3, 0), "Carers": (2, 0), "Clinicians": (2, 0),
                                   "Commissioners": (2, 0)}
    fingerprint = FINGERPRINT.search(live.text).group(1)  # type: ignore[union-attr]
    assert client.get(f"{console}?fp={fingerprint}", headers=htmx).status_code == 204
    assert client.get(f"{projector}?fp={fingerprint}", headers=htmx).status_code == 204
    # Someone joining late changes the progress table, so it is not "nothing changed".
    late = device(client)
    join(late, code, "carer")
    late.close()
    changed = client.get(f"{console}?fp={fingerprint}", headers=htmx)
    assert changed.status_code == 200 and progress(changed.text)["Carers"] == (3, 0)
    fingerprint = FINGERPRINT.search(changed.text).group(1)  # type: ignore[union-attr]

    # The participant's home page invites them to vote.
    home = tablets[0].get(f"/s/{code}")
    assert "Voting is open: Round 1: How important is each?" in home.text and f"/s/{code}/rounds/{round_id}" in home.text
    done = answer_every_question(tablets[0], session, code, round_id, dict(zip(ids, RATINGS["patient"][0], strict=True)))
    assert "not answered" not in done and "Change my answers" in done
    after_one = client.get(f"{console}?fp={fingerprint}", headers=htmx)
    assert after_one.status_code == 200 and progress(after_one.text)["Patients"] == (3, 1)
    for tablet, group, which in people[1:]:
        answer_every_question(tablet, session, code, round_id, dict(zip(ids, RATINGS[group][which], strict=True)))
    assert progress(client.get(console).text) == {"Patients": (3, 2), "Carers": (3, 2), "Clinicians": (2, 2),
                                                  "Commissioners": (2, 2)}

    # While open, and after close until revealed, nobody sees a result.
    statement_a = str(escape(session.get_one(Outcome, a).statement))
    for page in (client.get(projector).text, tablets[3].get(f"/s/{code}/rounds/{round_id}/done").text,
                 client.get(console).text):
        assert "Consensus in" not in page and "Combined score" not in page
    assert "8 of 10 people have finished" in client.get(projector).text
    assert client.get(f"{console}/results.json").status_code == 409
    facilitator_post(client, workshop, round_id, "close")
    closed_projector = client.get(projector).text
    assert "Voting has closed. Results soon." in closed_projector and statement_a not in closed_projector
    waiting = tablets[2].get(f"/s/{code}/rounds/{round_id}")
    assert waiting.status_code == 200 and "The facilitator will share the results soon" in waiting.text
    assert "Consensus in" not in waiting.text
    assert "voting has closed; results soon" in tablets[2].get(f"/s/{code}").text
    # A late tap on a question is refused and says why.
    late_page = tablets[2].get(f"/s/{code}/rounds/{round_id}/q/1")
    assert "This round has closed" in late_page.text
    refused = tablets[2].post(f"/s/{code}/rounds/{round_id}/q/1", data={
        "csrf_token": token(late_page.text), "key": "late-tap-000001", "value": "1"})
    assert refused.status_code == 409 and "this answer was not saved" in refused.text
    # The facilitator sees the results on the console as soon as the round has closed.
    assert "Consensus in" in client.get(console).text

    facilitator_post(client, workshop, round_id, "reveal")
    shown = client.get(projector).text
    # The room reads plain words (issue 11): agreed or not, counts of people; no statistics.
    assert shown.index(statement_a) < shown.index("Agreed: keep in")
    for badge in ("Agreed: keep in", "Agreed: leave out"):
        assert badge in shown
    # Outcomes 3 and 4 each rest on one answer in a group ("I cannot score this"): their consensus
    # ("No consensus" on the console) would say how that one person answered, so it is not shown.
    assert "Not agreed" not in shown and "Not shown" in shown
    assert "No consensus" in client.get(console).text
    assert "Patients" in shown and "2 people" in shown and "n=2" not in shown
    mine = tablets[5].get(f"/s/{code}/rounds/{round_id}")
    assert mine.status_code == 200 and "<h1>Results</h1>" in mine.text
    assert "Agreed: keep in" in mine.text and "Agreed: leave out" in mine.text and statement_a in mine.text
    for page in (shown, mine.text):
        assert "Consensus in" not in page and "Kendall" not in page and "Combined score" not in page
    assert "Kendall" in client.get(console).text
    assert "see the results" in tablets[5].get(f"/s/{code}").text

    # JSON: the tally schema, with the wording as "outcome" and the id beside it.
    body = client.get(f"{console}/results.json").json()
    assert body["schema_version"] == 1 and body["method"] == "rating" and body["rule"]["min_group_size"] == 2
    assert set(body["groups"]) == set(GROUPS) and body["groups"]["patient"] == {"n": 2, "small": False, "weight": 0.25}
    assert body["round"] == {"id": round_id, "number": 1, "title": "How important is each?", "status": "closed",
                             "table_based": False}
    by_id = {o["outcome_id"]: o for o in body["outcomes"]}
    assert [o["rank"] for o in body["outcomes"]] == [1, 2, 3, 4]
    assert by_id[formula.id]["outcome"] == FORMULA and by_id[formula.id]["label"] == FORMULA
    assert (by_id[a]["consensus"], by_id[b]["consensus"], by_id[formula.id]["consensus"]) == ("in", "out", "none")
    assert by_id[a]["rank"] == 1 and by_id[b]["rank"] == 4
    assert by_id[formula.id]["groups"]["patient"]["distribution"]["unable"] == 1
    assert by_id[d]["important_to"] == ["commissioner", "patient"]
    assert {"kendall_w", "between_groups", "disagreements"} <= set(body["agreement"])

    # CSV: the same rows, and a formula-like wording is neutralised.
    response = client.get(f"{console}/results.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert f"session-{workshop.id}-round-1-results.csv" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())  # UTF-8 with a byte order mark, as Excel wants
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["outcome_id"]) for r in rows] == [o["outcome_id"] for o in body["outcomes"]]
    formula_row = next(r for r in rows if int(r["outcome_id"]) == formula.id)
    assert formula_row["outcome"] == "'" + FORMULA and formula_row["label"] == "'" + FORMULA
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())

    # `codesign tally` on the same ballots, exported from the rows, gives the same order and scores.
    ballots_file = tmp_path / "ballots.csv"
    ballots_file.write_text(tally_csv_from_rows(session, round_id), encoding="utf-8")
    rule_file = tmp_path / "rule.json"
    rule_file.write_text(json.dumps(body["rule"]), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    status = run_tally(argparse.Namespace(ballots=str(ballots_file), method="rating", rule=str(rule_file),
                                          weights=None, top_k=None, budget=10, max_per_outcome=None,
                                          combine="weighted", format="json"), out, err)
    assert status == 0, err.getvalue()
    offline = json.loads(out.getvalue())
    assert [int(o["outcome"]) for o in offline["outcomes"]] == [o["outcome_id"] for o in body["outcomes"]]
    for mine_row, theirs in zip(body["outcomes"], offline["outcomes"], strict=True):
        assert (mine_row["rank"], mine_row["score"], mine_row["consensus"], mine_row["important_to"]) == (
            theirs["rank"], theirs["score"], theirs["consensus"], theirs["important_to"])
        assert mine_row["groups"] == theirs["groups"]
    assert offline["groups"] == body["groups"] and offline["agreement"]["kendall_w"] == body["agreement"]["kendall_w"]

    # `codesign results` prints what the pages download.
    monkeypatch.setenv("CODESIGN_DATABASE_URL", database_url)
    monkeypatch.setenv("CODESIGN_ENV", "test")
    capsys.readouterr()
    assert cli.main(["results", str(round_id), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == body
    assert cli.main(["results", str(round_id), "--format", "csv"]) == 0
    # The same text; only the download carries Excel's byte order mark (a terminal or pipe gets none).
    assert capsys.readouterr().out == response.content.decode("utf-8-sig")
    assert cli.main(["results", "999999"]) == 2 and "no round 999999" in capsys.readouterr().err


def test_codesign_results_waits_for_the_close(session: Session, facilitator: User, workshop,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              database_url: str) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    monkeypatch.setenv("CODESIGN_DATABASE_URL", database_url)
    monkeypatch.setenv("CODESIGN_ENV", "test")
    assert cli.main(["results", str(found.id)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "is open" in captured.err


def _ranking_button(page: str, label: str, statement: str) -> str:
    match = re.search(r'name="order" value="([^"]*)" class="[^"]*">' + label
                      + r'<span class="nhsuk-u-visually-hidden"> ' + re.escape(str(escape(statement))) + "</span>", page)
    assert match, f"no {label} button for {statement}"
    return match.group(1)


def test_ranking_by_tapping(client: TestClient, other_client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                            workshop) -> None:
    ids = accepted_ids(session, workshop, 4)
    found = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")
    text = {i: session.get_one(Outcome, i).statement for i in ids}
    a, b, c, d = ids
    join(other_client, workshop.join_code, "carer")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    page = other_client.get(url).text
    assert "Put the 3 that matter most in order" in page and "Nothing in your list yet" in page

    def tap(label: str, outcome: int) -> str:
        nonlocal page
        response = other_client.post(f"{url}/draft", data={"csrf_token": token(page),
                                                             "order": _ranking_button(page, label, text[outcome])})
        assert response.status_code == 303 and f"{url}#" in response.headers["location"], response.text[:500]
        page = other_client.get(url).text
        return page

    for outcome in (a, b, c):
        tap("Add", outcome)
    assert "My list (3 of 3)" in page and ">Add<span" not in page  # full: no more Add buttons
    tap("Move up", c)  # a c b
    tap("Move down", a)  # c a b
    tap("Remove", b)  # c a
    tap("Add", d)  # c a d
    ranked = re.findall(r'<li class="app-rank-item" id="ranked-(\d+)">', page)
    assert ranked == [str(c), str(a), str(d)]
    assert session.exec(select(BallotAnswer)).all() == []  # taps make a draft, not a vote
    sent = other_client.post(f"{url}/submit", data={"csrf_token": token(page), "key": KEY.search(page).group(1)})  # type: ignore[union-attr]
    assert sent.status_code == 303 and sent.headers["location"].endswith("/done#done")
    assert "Thank you, your answers are saved" in other_client.get(sent.headers["location"]).text
    assert {x.outcome_id: x.value for x in session.exec(select(BallotAnswer))} == {c: 1, a: 2, d: 3}
    tap("Remove", d)
    assert "You have changed your list" in page
    assert {x.outcome_id: x.value for x in session.exec(select(BallotAnswer))} == {c: 1, a: 2, d: 3}


def test_points_with_plus_and_minus(client: TestClient, other_client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                    facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="points", budget="5", max_per_outcome="3")
    text = {i: str(escape(session.get_one(Outcome, i).statement)) for i in ids}
    a, b, c = ids
    join(other_client, workshop.join_code, "clinician")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    page = other_client.get(url).text
    assert "Share out your 5 dots" in page and "<strong>5</strong> dots left" in page

    def button(sign: str, outcome: int) -> re.Match[str] | None:
        hidden = " one dot to " if sign == "+" else " one dot from "
        return re.search(r'name="set" value="(\d+:-?\d+)" class="[^"]*"\s*(disabled[^>]*)?>' + ("\\+" if sign == "+" else "−")
                         + r'<span class="nhsuk-u-visually-hidden">' + hidden + re.escape(text[outcome]), page)

    def tap(sign: str, outcome: int) -> None:
        nonlocal page
        found_button = button(sign, outcome)
        assert found_button and not found_button.group(2), f"{sign} is not available for {outcome}"
        alloc = re.search(r'name="alloc" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
        response = other_client.post(f"{url}/draft", data={"csrf_token": token(page), "alloc": alloc,
                                                             "set": found_button.group(1)})
        assert response.status_code == 303, response.text[:500]
        page = other_client.get(url).text

    for _ in range(3):
        tap("+", a)
    assert button("+", a).group(2)  # type: ignore[union-attr]  # at the cap of 3
    tap("+", b)
    tap("+", b)
    assert "<strong>0</strong> dots left" in page and button("+", c).group(2)  # type: ignore[union-attr]
    tap("-", a)
    assert "<strong>1</strong> dot left" in page
    sent = other_client.post(f"{url}/submit", data={"csrf_token": token(page), "key": KEY.search(page).group(1)})  # type: ignore[union-attr]
    assert sent.status_code == 303
    assert {x.outcome_id: x.value for x in session.exec(select(BallotAnswer))} == {a: 2, b: 2}
    # A hand-made request over the budget is refused on the page and changes nothing.
    over = other_client.post(f"{url}/draft", data={"csrf_token": token(page), "alloc": f"{a}:3,{b}:2", "set": f"{c}:1"})
    assert over.status_code == 422 and "You have 5 dots to share out" in over.text


def test_pairwise_answers_several_pairs(client: TestClient, other_client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                       facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 4)
    found = open_round(session, facilitator, workshop, ids, method="pairwise")
    join(other_client, workshop.join_code, "commissioner")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    seen: list[frozenset[int]] = []
    csrf = csrf_from(other_client, url)
    for n, choice in enumerate(["left", "right", "none", "left", "left", "right"]):
        page = other_client.get(url).text
        assert f"{n} answered" in page
        left = int(re.search(r'name="left" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
        right = int(re.search(r'name="right" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
        seen.append(frozenset((left, right)))
        response = other_client.post(f"{url}/pair", data={"csrf_token": token(page), "key": KEY.search(page).group(1),  # type: ignore[union-attr]
                                                           "left": str(left), "right": str(right), "choice": choice})
        assert response.status_code == 303
    assert len(set(seen)) == 6  # every pair of four, none twice
    assert "You have answered every pair" in other_client.get(url).text
    assert sorted(p.choice for p in session.exec(select(PairwiseAnswer))) == ["left"] * 3 + ["none"] + ["right"] * 2
    bad = other_client.post(f"{url}/pair", data={"csrf_token": csrf, "key": "k" * 20,
                                                 "left": str(ids[0]), "right": str(ids[1]), "choice": "both"})
    assert bad.status_code == 422 and len(session.exec(select(PairwiseAnswer)).all()) == 6


def test_delphi_round_two_shows_my_answer_and_the_groups(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids, min_group_size="2")  # small groups are hidden
    join(other_client, workshop.join_code, "patient", "Amara")
    amara = session.exec(select(Participant).where(Participant.first_name == "Amara")).one()
    others = [sessions.join_session(session, workshop.id, g) for g in ("patient", "carer", "carer", "carer")]
    for person, value in zip([amara, *others], ["8", "9", "2", "3", "7"], strict=True):
        ballots.answer_rating(session, first.id, person.id, ids[0], value, f"round-one-{person.id:08d}")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]

    sign_in(client, facilitator)
    page = client.get(f"/sessions/{workshop.id}/rounds/new?feedback={first.id}").text
    assert re.search(rf'<option value="{first.id}"\s+selected', page)
    second = create_round_via_form(client, workshop, form_data(ids, title="Round 2", feedback_round_id=str(first.id)))
    facilitator_post(client, workshop, second, "open")
    assert session.get_one(Round, second).feedback_round_id == first.id

    # Amara meets the outcomes in her own order: find the question that asks about ids[0] again.
    asked = [o.id for o in queries.get_participant_round(session, session.get_one(Round, second), amara).outcomes]
    place, other_place = asked.index(ids[0]) + 1, asked.index(ids[1]) + 1
    url = f"/s/{workshop.join_code}/rounds/{second}/q/{place}"
    # Round 1 is closed but its results are not revealed: only "you said", no group's figures.
    unrevealed = re.sub(r"\s+", " ", other_client.get(url).text)
    assert "You said: <strong>8</strong>" in unrevealed and "have not been shared yet" in unrevealed
    assert "scored)" not in unrevealed and "said 7–9" not in unrevealed
    rounds.set_revealed(session, facilitator, workshop.id, first.id, True)  # type: ignore[arg-type]
    question = re.sub(r"\s+", " ", other_client.get(url).text)
    assert "Last round" in question and "You said: <strong>8</strong>" in question
    assert "have not been shared yet" not in question
    # In plain words, out of each group's people (issue 11), not percentages of those who scored.
    patients = ("<strong>Patients</strong> (2 people): 2 of 2 patients said critical (7 to 9); "
                "0 of 2 said important but not critical (4 to 6); 0 of 2 said not important (1 to 3).")
    carers = ("<strong>Carers</strong> (3 people): 1 of 3 carers said critical (7 to 9); "
              "0 of 3 said important but not critical (4 to 6); 2 of 3 said not important (1 to 3).")
    assert "% said" not in question
    assert question.index(patients) < question.index(carers)  # in the population group's order
    assert "you can say why (optional)" in question
    answered = other_client.post(url, data={"csrf_token": token(question), "key": KEY.search(question).group(1),  # type: ignore[union-attr]
                                            "value": "6", "reason": "The carers made me think again"})
    assert answered.status_code == 303
    saved = session.exec(select(BallotAnswer).join(Ballot, col(Ballot.id) == col(BallotAnswer.ballot_id))
                         .where(Ballot.round_id == second)).one()
    assert (saved.value, saved.reason) == (6, "The carers made me think again")
    second_question = other_client.get(f"/s/{workshop.join_code}/rounds/{second}/q/{other_place}").text
    assert "You said: <strong>no answer</strong>" in second_question
    # Without a reason is fine too.
    assert other_client.post(f"/s/{workshop.join_code}/rounds/{second}/q/{other_place}", data={
        "csrf_token": token(second_question), "key": KEY.search(second_question).group(1),  # type: ignore[union-attr]
        "value": "5"}).status_code == 303


def test_participants_stay_in_their_own_session_and_out_of_facilitator_pages(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    ours = open_round(session, facilitator, workshop, ids)
    elsewhere = sessions.create_session(session, facilitator, workshop.population_group_id, "Another workshop")
    theirs = open_round(session, facilitator, elsewhere, ids)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    join(other_client, workshop.join_code, "patient")
    code = workshop.join_code
    assert other_client.get(f"/s/{code}/rounds/{ours.id}").status_code == 303
    assert other_client.get(f"/s/{code}/rounds/{theirs.id}").status_code == 404
    assert other_client.get(f"/s/{code}/rounds/{draft.id}").status_code == 404
    page = other_client.get(f"/s/{code}/rounds/{ours.id}/q/1").text
    refused = other_client.post(f"/s/{code}/rounds/{theirs.id}/q/1", data={
        "csrf_token": token(page), "key": "cross-session-01", "value": "9"})
    assert refused.status_code == 404
    # The other session's code does not know this device.
    assert other_client.get(f"/s/{elsewhere.join_code}/rounds/{theirs.id}").status_code == 303
    assert "/j/" in other_client.get(f"/s/{elsewhere.join_code}/rounds/{theirs.id}").headers["location"]

    console = f"/sessions/{workshop.id}/rounds/{draft.id}"
    for url in (console, f"{console}/projector", f"{console}/results.json", f"/sessions/{workshop.id}/rounds/new"):
        response = other_client.get(url)
        assert response.status_code == 303 and "/signin" in response.headers["location"], url
    opened = other_client.post(f"{console}/open", data={"csrf_token": token(page)})
    assert opened.status_code == 303 and "/signin" in opened.headers["location"]
    assert session.get_one(Round, draft.id).status == RoundStatus.draft
    assert session.exec(select(Ballot)).all() == []

    observer = make_user(session, Role.observer)
    sign_in(client, observer)
    assert client.get(console).status_code == 200
    assert post_form(client, f"{console}/open", {}, token_from=console).status_code == 403
    assert session.get_one(Round, draft.id).status == RoundStatus.draft


def test_missing_csrf_token_saves_nothing(client: TestClient, other_client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                          facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    join(other_client, workshop.join_code, "carer")
    url = f"/s/{workshop.join_code}/rounds/{found.id}/q/1"
    page = other_client.get(url).text
    for data in ({"key": KEY.search(page).group(1), "value": "9"},  # type: ignore[union-attr]
                 {"key": "another-key-0001", "value": "9", "csrf_token": "forged"}):
        response = other_client.post(url, data=data)
        assert response.status_code == 403 and "Nothing was saved" in response.text
    assert session.exec(select(Ballot)).all() == []
    sign_in(client, facilitator)
    assert client.post(f"/sessions/{workshop.id}/rounds/{draft.id}/open", data={}).status_code == 403
    assert client.post(f"/sessions/{workshop.id}/rounds/new", data=form_data(ids)).status_code == 403
    assert session.get_one(Round, draft.id).status == RoundStatus.draft
    assert len(session.exec(select(Round)).all()) == 2


def test_a_participant_without_a_table_number_is_told_in_a_table_round(  # type: ignore[no-untyped-def]
        other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="ranking", table_based="yes")
    join(other_client, workshop.join_code, "patient")
    url = f"/s/{workshop.join_code}/rounds/{found.id}"
    page = other_client.get(url)
    assert page.status_code == 200 and "This round is voted by tables" in page.text
    assert "did not give a table number" in page.text and 'name="order"' not in page.text
    tapped = other_client.post(f"{url}/draft", data={"csrf_token": csrf_from(other_client, f"/s/{workshop.join_code}"),
                                                      "order": str(ids[0])})
    assert tapped.status_code == 409 and "Your answer was not saved" in tapped.text
    assert "This round has closed" not in tapped.text and "table number" in tapped.text
    assert session.exec(select(Ballot)).all() == []

    # They give their table number on the page: a bad one is refused with what was typed kept.
    token = csrf_from(other_client, url)
    bad = other_client.post(f"{url}/table", data={"csrf_token": token, "table_number": "<b>four</b>"})
    assert bad.status_code == 422 and "must be a whole number" in bad.text
    assert 'value="&lt;b&gt;four&lt;/b&gt;"' in bad.text
    assert other_client.post(f"{url}/table", data={"csrf_token": token, "table_number": ""}).status_code == 422
    def table_number() -> int | None:
        session.rollback()  # a fresh read, not this test session's earlier snapshot
        return session.exec(select(Participant)).one().table_number

    assert table_number() is None
    given = other_client.post(f"{url}/table", data={"csrf_token": token, "table_number": " 4 "})
    assert given.status_code == 303
    assert table_number() == 4
    page = other_client.get(url)
    assert "Your table, table 4, agrees one list together" in page.text and 'name="order"' in page.text
    # Once given, it cannot be changed from the device (that would let one device vote for two tables).
    again = other_client.post(f"{url}/table", data={"csrf_token": token, "table_number": "5"})
    assert again.status_code == 409 and "already at table 4" in again.text and "Your answer was not saved" in again.text
    assert table_number() == 4
    # Now the table's list can be made from this device.
    tapped = other_client.post(f"{url}/draft", data={"csrf_token": token, "order": str(ids[0])})
    assert tapped.status_code == 303
    assert session.exec(select(Ballot)).one().voter_key == "t:4"


# ---- importing ballots ------------------------------------------------------------------------


def _upload(client: TestClient, workshop: WorkshopSession, round_id: int, text: str, name: str = "survey.csv"):  # type: ignore[no-untyped-def]
    page = f"/sessions/{workshop.id}/rounds/{round_id}"
    return client.post(f"{page}/import", data={"csrf_token": csrf_from(client, page)},
                       files={"ballots": (name, text.encode("utf-8"), "text/csv")})


def test_importing_a_good_file(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids, min_group_size="1")
    live = sessions.join_session(session, workshop.id, "patient")
    ballots.answer_rating(session, found.id, live.id, ids[0], "4", "live-vote-00001")  # type: ignore[arg-type]
    wording = session.get_one(Outcome, ids[1]).statement
    text = ("\ufeffParticipant,Group,Outcome,Value\n"
            f"S-1,patient,{ids[0]},9\nS-1,patient,{wording},8\n"
            f"S-2,Carers,{ids[0]},7\nS-2,Carers,{ids[1]},U\n\n"
            f"S-3,clinician,{ids[0]},2\n")
    sign_in(client, facilitator)
    response = _upload(client, workshop, found.id, text, "online-survey.csv")  # type: ignore[arg-type]
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Imported 3 ballots from online-survey.csv (5 answers), all new." in page
    # The live patient answered one question of two: started only. Imported voters did not join
    # the room: their ballots are counted apart (and in the results).
    assert progress(page) == {"Patients": (1, 0), "Carers": (0, 0), "Clinicians": (0, 0), "Commissioners": (0, 0)}
    assert imported_ballots(page) == {"Patients": 1, "Carers": 1, "Clinicians": 1, "Commissioners": 0}
    imported = session.exec(select(Participant).where(col(Participant.external_ref).is_not(None))).all()
    assert sorted(p.external_ref or "" for p in imported) == ["S-1", "S-2", "S-3"]
    facilitator_post(client, workshop, found.id, "close")  # type: ignore[arg-type]
    body = client.get(f"/sessions/{workshop.id}/rounds/{found.id}/results.json").json()
    assert {k: v["n"] for k, v in body["groups"].items()} == {"patient": 2, "carer": 1, "clinician": 1}
    first = next(o for o in body["outcomes"] if o["outcome_id"] == ids[0])
    assert first["groups"]["patient"]["distribution"]["9"] == 1 and first["groups"]["patient"]["distribution"]["4"] == 1
    audit = client.get(f"/sessions/{workshop.id}/audit").text
    assert "Imported 3 ballots into round 1 from online-survey.csv" in audit


def test_importing_again_says_what_was_replaced_and_who_moved_group(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids, min_group_size="1")
    sign_in(client, facilitator)
    first = f"participant,group,outcome,value\nS-1,patient,{ids[0]},9\n<b>S-2</b>,patient,{ids[0]},8\n"
    assert _upload(client, workshop, found.id, first).status_code == 303  # type: ignore[arg-type]
    again = first.replace("<b>S-2</b>,patient", "<b>S-2</b>,Carers") + f"S-3,carer,{ids[1]},5\n"
    response = _upload(client, workshop, found.id, again, "late.csv")  # type: ignore[arg-type]
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert ("Imported 3 ballots from late.csv (3 answers): 1 new, 2 replacing earlier ones from this round. "
            "1 voter is now in another group, as this file says: &lt;b&gt;S-2&lt;/b&gt; Patients to Carers.") in page


BAD_FILES = [
    ("S-1,patient,A,9\nS-1,patient,B,8\nS-2,carer,A,7\nS-2,carer,B,12\n",
     "line 5, column 4 (value): 12 is out of range 1-9"),
    ("S-1,patient,A,9\nS-2,carer,A,7\nS-1,clinician,B,8\n", "line 4, column 2 (group): participant 'S-1' is in group"),
    ("S-1,patient,A,9\nS-2,carer,A,7\nS-3,friends,A,7\n",
     "line 4, column 2 (group): “friends” is not a stakeholder group"),
    ("S-1,patient,A,9\nS-2,carer,Better parking,7\n",
     "line 3, column 3 (outcome): 'Better parking' is not on the ballot"),
]


def test_a_bad_file_is_refused_whole(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    sign_in(client, facilitator)
    for rows, expected in BAD_FILES:
        text = "participant,group,outcome,value\n" + rows.replace("A,", f"{ids[0]},").replace("B,", f"{ids[1]},")
        response = _upload(client, workshop, found.id, text, "paper.csv")  # type: ignore[arg-type]
        assert response.status_code == 422, expected
        assert "The file was not imported" in response.text
        assert str(escape(f"paper.csv, {expected}")) in response.text, expected
    assert session.exec(select(Ballot)).all() == [] and session.exec(select(Participant)).all() == []


def test_an_upload_that_is_not_utf8_or_empty_is_refused(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                        workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    latin = client.post(f"{page}/import", data={"csrf_token": csrf_from(client, page)},
                        files={"ballots": ("old.csv", "participant,group,outcome,value\nJosé,patient,1,9\n"
                                           .encode("latin-1"), "text/csv")})
    assert latin.status_code == 422 and "old.csv is not UTF-8 text" in latin.text
    empty = client.post(f"{page}/import", data={"csrf_token": csrf_from(client, page)})
    assert empty.status_code == 422 and "Choose a CSV file of ballots" in empty.text
    assert session.exec(select(Ballot)).all() == []


def test_reset_through_the_console_needs_a_reason(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                  workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    person = sessions.join_session(session, workshop.id, "carer")
    ballots.answer_rating(session, found.id, person.id, ids[0], "6", "before-reset-01")  # type: ignore[arg-type]
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    refused = post_form(client, f"{page}/reset", {"reason": "  "}, token_from=page)
    assert refused.status_code == 422 and "Enter the reason for resetting the round" in refused.text
    assert len(session.exec(select(Ballot)).all()) == 1
    done = post_form(client, f"{page}/reset", {"reason": "Wrong outcomes on the list"}, token_from=page)
    assert done.status_code == 303 and session.exec(select(Ballot)).all() == []
    assert "Wrong outcomes on the list" in client.get(f"/sessions/{workshop.id}/audit").text


def test_the_demo_round_screens_render(client: TestClient, session: Session, engine: Engine) -> None:
    info = load_demo(engine)
    response = post_form(client, "/signin", {"email": info.facilitator_email, "password": DEMO_PASSWORD},
                         token_from="/signin")
    assert response.status_code == 303
    for found in session.exec(select(Round).where(Round.session_id == info.session_id)):
        console = client.get(f"/sessions/{info.session_id}/rounds/{found.id}")
        assert console.status_code == 200 and "Results revealed" in console.text
        assert progress(console.text)["Patients"] == (4, 4)  # in the room
        assert imported_ballots(console.text)["Patients"] == 8  # from the online survey
        projector = client.get(f"/sessions/{info.session_id}/rounds/{found.id}/projector")
        assert projector.status_code == 200 and str(escape(demo_rounds.HYPOS)) in projector.text
        assert "small group" not in projector.text
        if found.method == "rating":
            assert "Agreed: keep in" in projector.text and "Agreed: leave out" in projector.text
    audit = client.get(f"/sessions/{info.session_id}/audit").text
    assert "Imported 32 ballots into round 1 from online-survey.csv" in audit
