"""The round downloads staff take away: results and reasons open in Excel (UTF-8 with a byte order
mark, formulas neutralised), and the raw per-answer CSV for analysts carries pseudonymous ids only."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import Participant, Round, User, WorkshopSession
from codesign.services import ballots, proposals, round_import, rounds, sessions
from tests.conftest import join, sign_in
from tests.round_helpers import accepted_ids, open_round

EQUALS = "=HYPERLINK(\"http://evil.example/\",\"Click me\")"
PLUS = "+44 7700 900123 rings the carer"
NAMES = ("Zebedee", "Quintessa", "Ottoline")


def _rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(codecs.BOM_UTF8), body[:20]
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _formula_outcomes(session: Session, facilitator: User, workshop: WorkshopSession) -> list[int]:
    assert workshop.id is not None
    proposer = sessions.join_session(session, workshop.id, "patient")
    made = [proposals.propose_outcome(session, workshop.id, proposer.id or 0, text) for text in (EQUALS, PLUS)]
    for outcome in made:
        proposals.accept_outcome(session, facilitator, workshop.id, outcome.id or 0)
    return [o.id or 0 for o in made]


def test_results_and_reasons_csv_have_a_bom_and_neutralised_formulas(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    assert workshop.id is not None
    equals, plus = _formula_outcomes(session, facilitator, workshop)
    found = open_round(session, facilitator, workshop, [equals, plus], min_group_size="1")
    person = sessions.join_session(session, workshop.id, "patient", "Zebedee")
    ballots.answer_rating(session, found.id or 0, person.id or 0, equals, "8", "bom-key-0000001", "=1+2 because")
    ballots.answer_rating(session, found.id or 0, person.id or 0, plus, "2", "bom-key-0000002", "@me: no")
    rounds.close_round(session, facilitator, workshop.id, found.id or 0)
    sign_in(client, facilitator)
    base = f"/sessions/{workshop.id}/rounds/{found.id}"

    results = _rows(client.get(f"{base}/results.csv").content)
    assert "rank" in results[0]  # the header is read without the mark stuck to its first name
    assert {r["outcome"] for r in results} == {"'" + EQUALS, "'" + PLUS}
    reasons = client.get(f"{base}/reasons.csv")
    assert reasons.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _rows(reasons.content)
    assert list(rows[0]) == ["outcome_id", "outcome", "group", "before", "after", "changed", "reason"]
    assert {r["reason"] for r in rows} == {"'=1+2 because", "'@me: no"}
    assert {r["outcome"] for r in rows} == {"'" + EQUALS, "'" + PLUS}


def test_every_answer_csv_is_pseudonymous_and_staff_only(
        client: TestClient, other_client: TestClient, session: Session, facilitator: User,
        workshop: WorkshopSession) -> None:
    assert workshop.id is not None
    equals, plus = _formula_outcomes(session, facilitator, workshop)
    plain = accepted_ids(session, workshop, 1)[0]
    found = open_round(session, facilitator, workshop, [plain, equals, plus], min_group_size="1")
    rid = found.id or 0
    zeb = sessions.join_session(session, workshop.id, "patient", NAMES[0])
    qui = sessions.join_session(session, workshop.id, "carer", NAMES[1], "3")
    join(other_client, workshop.join_code, "clinician", NAMES[2])  # a participant's own device
    otto = session.exec(select(Participant).where(Participant.first_name == NAMES[2])).one()
    for n, (who, outcome, value) in enumerate([(zeb, plain, "8"), (zeb, equals, "unable"), (zeb, plus, "2"),
                                               (qui, plain, "9"), (otto, equals, "5")]):
        ballots.answer_rating(session, rid, who.id or 0, outcome, value, f"analyst-key-{n:04d}",
                              "+ it matters" if who is qui else "")
    round_import.import_ballots(session, facilitator, workshop.id, rid,
                                f"participant,group,outcome,value\nPAPER-REF-77,commissioner,{plain},7\n", "paper.csv")
    base = f"/sessions/{workshop.id}/rounds/{rid}"
    url = f"{base}/answers.csv"

    # Participants never get it (not signed in: to the sign-in page); nobody gets it while open.
    refused = other_client.get(url, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/signin")
    sign_in(client, facilitator)
    assert client.get(url).status_code == 409
    rounds.close_round(session, facilitator, workshop.id, rid)
    assert other_client.get(url, follow_redirects=False).status_code == 303
    assert url in client.get(base).text  # linked from the round console beside the other downloads

    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    # Named with its session: two sessions' round 1 saved in one folder do not overwrite each other.
    assert f'filename="session-{workshop.id}-round-1-answers.csv"' in response.headers["content-disposition"]
    rows = _rows(response.content)
    assert list(rows[0]) == ["participant", "group", "table", "source", "method", "outcome_id", "outcome",
                             "versus_outcome_id", "versus_outcome", "answer", "answered_at", "reason"]
    assert len(rows) == 6
    by_person: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        assert re.fullmatch(r"P-[0-9a-f]{12}", row["participant"]), row["participant"]
        by_person.setdefault(row["participant"], []).append(row)
        datetime.fromisoformat(row["answered_at"])
    # One stable id per person in the round, four people; sorted by id, not by joining order.
    assert sorted(len(v) for v in by_person.values()) == [1, 1, 1, 3]
    assert [r["participant"] for r in rows] == sorted(r["participant"] for r in rows)
    zeb_rows = next(v for v in by_person.values() if len(v) == 3)
    answers = {int(r["outcome_id"]): (r["answer"], r["outcome"], r["group"], r["table"]) for r in zeb_rows}
    assert answers[equals] == ("unable", "'" + EQUALS, "patient", "")
    assert answers[plus] == ("2", "'" + PLUS, "patient", "")
    assert answers[plain][0] == "8"
    carer = next(r for r in rows if r["group"] == "carer")
    assert (carer["table"], carer["answer"], carer["reason"], carer["source"]) == ("3", "9", "'+ it matters", "app")
    paper = next(r for r in rows if r["group"] == "commissioner")
    assert (paper["answer"], paper["source"], paper["method"]) == ("7", "import", "rating")
    assert not any(cell.startswith(("=", "+", "@", "-")) for r in rows for cell in r.values())

    # Nothing that names or identifies anyone: no first name, token, email, external reference,
    # database id or join number in place of the pseudonym.
    text = response.content.decode("utf-8-sig")
    people = session.exec(select(Participant).where(Participant.session_id == workshop.id)).all()
    for secret in [*NAMES, facilitator.email, "PAPER-REF-77", *(p.token for p in people)]:
        assert secret not in text, secret
    ids = {r["participant"] for r in rows}
    assert not ids & {f"P-{p.id}" for p in people} and not ids & {f"P-{p.number}" for p in people}

    # The same download again gives the same ids; the same person in another round gets another id.
    assert _rows(client.get(url).content) == rows
    second = open_round(session, facilitator, workshop, [plain, equals], min_group_size="1")
    ballots.answer_rating(session, second.id or 0, zeb.id or 0, plain, "6", "analyst-key-9999")
    rounds.close_round(session, facilitator, workshop.id, second.id or 0)
    again = _rows(client.get(f"/sessions/{workshop.id}/rounds/{second.id}/answers.csv").content)
    assert len(again) == 1 and again[0]["participant"] not in ids


def test_every_answer_csv_for_a_pairwise_and_a_points_round(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    assert workshop.id is not None
    a, b, c = accepted_ids(session, workshop, 3)
    pairwise = open_round(session, facilitator, workshop, [a, b, c], method="pairwise", min_group_size="1")
    person = sessions.join_session(session, workshop.id, "patient", "Zebedee")
    ballots.answer_pair(session, pairwise.id or 0, person.id or 0, a, b, "right", "pair-key-000001")
    ballots.answer_pair(session, pairwise.id or 0, person.id or 0, a, c, "none", "pair-key-000002")
    rounds.close_round(session, facilitator, workshop.id, pairwise.id or 0)
    sign_in(client, facilitator)
    rows = _rows(client.get(f"/sessions/{workshop.id}/rounds/{pairwise.id}/answers.csv").content)
    assert [(int(r["outcome_id"]), int(r["versus_outcome_id"]), r["answer"], r["method"]) for r in rows] == [
        (a, b, "right", "pairwise"), (a, c, "none", "pairwise")]
    assert rows[0]["versus_outcome"] and rows[0]["participant"] == rows[1]["participant"]

    points = open_round(session, facilitator, workshop, [a, b, c], method="points", budget="5", min_group_size="1")
    ballots.set_draft(session, points.id or 0, person.id or 0, {a: 3, c: 2})
    other = sessions.join_session(session, workshop.id, "carer")
    ballots.set_draft(session, points.id or 0, other.id or 0, {b: 5})  # never sent: not counted, not listed
    ballots.submit_draft(session, points.id or 0, person.id or 0, "points-key-0001")
    rounds.close_round(session, facilitator, workshop.id, points.id or 0, confirm_unsent=True)
    rows = _rows(client.get(f"/sessions/{workshop.id}/rounds/{points.id}/answers.csv").content)
    assert sorted((int(r["outcome_id"]), r["answer"]) for r in rows) == sorted([(a, "3"), (c, "2")])
    assert session.get(Round, points.id) is not None


def test_every_answer_csv_for_a_table_round_names_the_table_not_a_person(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    assert workshop.id is not None
    a, b, c = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, [a, b, c], method="ranking", table_based="yes",
                       min_group_size="1")
    person = sessions.join_session(session, workshop.id, "patient", "Zebedee", "4")
    ballots.set_draft(session, found.id or 0, person.id or 0, {b: 1, a: 2, c: 3})
    ballots.submit_draft(session, found.id or 0, person.id or 0, "table-key-00001")
    rounds.close_round(session, facilitator, workshop.id, found.id or 0)
    sign_in(client, facilitator)
    rows = _rows(client.get(f"/sessions/{workshop.id}/rounds/{found.id}/answers.csv").content)
    assert {r["participant"] for r in rows} == {rows[0]["participant"]}
    assert re.fullmatch(r"T-[0-9a-f]{12}", rows[0]["participant"])
    assert sorted((int(r["outcome_id"]), r["answer"], r["table"]) for r in rows) == sorted(
        [(b, "1", "4"), (a, "2", "4"), (c, "3", "4")])
