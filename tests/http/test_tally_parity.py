"""`codesign tally` and the app count the same file the same way: groups are read by one function
(voting/groups.py), a group neither knows is refused by both at its line and column, and tally's
defaults are a new round's, so tally on a round's own ballots download, with no options, gives the
round's results."""

from __future__ import annotations

import argparse
import codecs
import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.errors import ValidationFailed
from codesign.export.tally_ballots import recount_command
from codesign.models import Outcome, Participant, User, WorkshopSession
from codesign.queries.reasons import results_document
from codesign.queries.rounds import round_results
from codesign.services import ballots, population, round_import, rounds, sessions
from codesign.tally_cli import add_tally_arguments, run_tally
from tests.conftest import make_user, sign_in
from tests.round_helpers import accepted_ids, open_round


def tally(path: Path, *options: str) -> tuple[int, dict[str, Any] | None, str]:
    parser = argparse.ArgumentParser(prog="codesign tally")
    add_tally_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    status = run_tally(parser.parse_args([str(path), "--method", "rating", *options]), out, err)
    return status, json.loads(out.getvalue()) if status == 0 else None, err.getvalue()


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A results document without what only the app adds: the round, the reasons, outcome ids."""
    found = copy.deepcopy(document)
    found.pop("round", None)
    found.pop("reasons", None)
    for item in [*found["outcomes"], *(found.get("agreement") or {}).get("disagreements", [])]:
        item.pop("outcome_id", None)
    return found


def statements(session: Session, ids: list[int]) -> list[str]:
    return [session.get_one(Outcome, i).statement for i in ids]


# Groups as people type them: by name, in any case, with stray spaces; and by key.
MIXED_CASE = [("R-1", "Patients"), ("R-2", "patients"), ("R-3", " PATIENT "), ("R-4", "Carers"), ("R-5", "carer"),
              ("R-6", "CARERS"), ("R-7", "Clinicians"), ("R-8", "clinician"), ("R-9", "Clinicians"),
              ("R-10", "Commissioners"), ("R-11", "commissioner"), ("R-12", "Commissioners")]
RATINGS = ["9", "7", "3", "U", "8", "6", "2", "9", "7", "5", "1", "8"]


def test_the_same_file_counts_the_same_in_the_app_and_in_tally(
        session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    ids = accepted_ids(session, workshop, 3)
    words = statements(session, ids)
    found = open_round(session, facilitator, workshop, ids, min_group_size="")  # the new-round form's default
    lines = [f"{who},{group},{words[j]},{RATINGS[(n + 5 * j) % len(RATINGS)]}"
             for n, (who, group) in enumerate(MIXED_CASE) for j in range(3)]
    text = "participant,group,outcome,value\n" + "\n".join(lines) + "\n"
    assert round_import.import_ballots(session, facilitator, workshop.id or 0, found.id or 0, text, "survey.csv").voters == 12
    rounds.close_round(session, facilitator, workshop.id or 0, found.id or 0)
    app = results_document(session, workshop.id or 0, found.id or 0)
    file = tmp_path / "survey.csv"
    file.write_text(text, encoding="utf-8")
    status, theirs, err = tally(file)
    assert status == 0 and theirs is not None, err
    # Four groups of three, as the app counted them; "Patients" is not a fifth group with its own weight.
    assert {g: (v["n"], v["weight"], v["small"]) for g, v in theirs["groups"].items()} == {
        g: (3, 0.25, False) for g in ("patient", "carer", "clinician", "commissioner")}
    assert comparable(app) == comparable(theirs)
    assert err == (f"codesign tally: {file}: counted patient (3 people), carer (3 people), clinician (3 people), "
                   "commissioner (3 people)\n")


def test_a_group_neither_knows_is_refused_by_both_at_its_line_and_column(
        session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    text = f"participant,group,outcome,value\nR-1,Patients,{ids[0]},9\nR-2,carer,{ids[0]},4\nR-3,Nurses,{ids[1]},7\n"
    expected = ("survey.csv, line 4, column 2 (group): “Nurses” is not a stakeholder group here; use one of "
                "patient, carer, clinician, commissioner (a group's key or its name)")
    with pytest.raises(ValidationFailed) as caught:
        round_import.import_ballots(session, facilitator, workshop.id or 0, found.id or 0, text, "survey.csv")
    assert expected in caught.value.errors["ballots"]
    assert session.exec(select(Participant).where(Participant.external_ref.is_not(None))).all() == []  # type: ignore[union-attr]
    file = tmp_path / "survey.csv"
    file.write_text(text, encoding="utf-8")
    status, _, err = tally(file)
    # The same message, and tally alone says how a study names groups of its own.
    assert status == 2 and err == (f"codesign tally: {tmp_path / expected} "
                                   "(a study's own groups are named with --groups key=Name,...)\n")
    # A study with groups of its own names them, and tally counts them as the app would.
    status, theirs, err = tally(file, "--groups", "patient=Patients,carer=Carers,nurse=Nurses")
    assert status == 0 and theirs is not None, err
    assert set(theirs["groups"]) == {"patient", "carer", "nurse"}


# A new round's groups in a workshop: 3 and 4 people, all shown (a minimum of 5 would hide them all).
PEOPLE = {"patient": [["9", "8", "2", "6"], ["8", "9", "3", "unable"], ["7", "9", "1", "5"], ["9", "6", "4", "5"]],
          "carer": [["9", "7", "4", "6"], ["8", "8", "2", "7"], ["6", "9", "3", "5"]],
          "clinician": [["7", "9", "2", "4"], ["8", "6", "3", "5"], ["9", "8", "2", "3"]],
          "commissioner": [["9", "5", "1", "6"], ["8", "7", "2", "4"], ["7", "9", "1", "5"], ["8", "8", "3", "5"]]}


def test_tally_on_a_rounds_own_ballots_download_gives_its_results_with_no_options(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    assert workshop.id is not None
    ids = accepted_ids(session, workshop, 4)
    found = open_round(session, facilitator, workshop, ids, min_group_size="")
    rid = found.id or 0
    for group, people in PEOPLE.items():
        for n, values in enumerate(people):
            person = sessions.join_session(session, workshop.id, group, f"{group.title()}{n}")
            for outcome, value in zip(ids, values, strict=True):
                ballots.answer_rating(session, rid, person.id or 0, outcome, value, f"k-{group}-{n}-{outcome}")
    base = f"/sessions/{workshop.id}/rounds/{rid}"
    sign_in(client, facilitator)
    assert client.get(f"{base}/ballots.csv").status_code == 409  # nobody sees a running count
    rounds.close_round(session, facilitator, workshop.id, rid)
    assert f"{base}/ballots.csv" in client.get(base).text  # linked on the console

    response = client.get(f"{base}/ballots.csv")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="session-{workshop.id}-round-1-ballots.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(codecs.BOM_UTF8)
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "participant,group,outcome,value"
    for name in [f"{g.title()}{n}" for g, people in PEOPLE.items() for n in range(len(people))]:
        assert name not in text
    # The same pseudonyms as the round's answers.csv, so an analyst can put the two side by side.
    answers = client.get(f"{base}/answers.csv").content.decode("utf-8-sig")
    ids_here = {line.split(",")[0] for line in text.splitlines()[1:]}
    assert len(ids_here) == 14 and all(re.fullmatch(r"P-[0-9a-f]{12}", i) for i in ids_here)
    assert ids_here == {line.split(",")[0] for line in answers.splitlines()[1:]}

    file = tmp_path / "round-1-ballots.csv"
    file.write_bytes(response.content)
    status, theirs, err = tally(file)  # --method only: every other setting is tally's default
    assert status == 0 and theirs is not None, err
    app = client.get(f"{base}/results.json").json()
    assert app["rule"]["min_group_size"] == 3 and not any(g["small"] for g in app["groups"].values())
    assert comparable(app) == comparable(theirs)


def test_the_ballots_download_is_for_staff_and_not_for_a_table_round(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    assert workshop.id is not None
    ids = accepted_ids(session, workshop, 3)
    tables = open_round(session, facilitator, workshop, ids, method="ranking", table_based="yes")
    rounds.close_round(session, facilitator, workshop.id, tables.id or 0)
    url = f"/sessions/{workshop.id}/rounds/{tables.id}/ballots.csv"
    assert client.get(url).status_code == 303  # not signed in: to the sign-in page
    sign_in(client, make_user(session, "commissioner"))
    response = client.get(url)
    assert response.status_code == 409 and "tables" in response.text
    assert url not in client.get(f"/sessions/{workshop.id}/rounds/{tables.id}").text


def test_the_command_the_app_gives_recounts_a_round_with_settings_of_its_own(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    # A ranking of the top 2 of 4 with rank of ranks and patients weighted double, and a rating round
    # with a stricter rule kept for groups of 5: tally needs options, and the command names them.
    assert workshop.id is not None
    population.set_stakeholder_weights(session, facilitator, workshop.population_group_id,
                                       {"patient": "2", "carer": "1", "clinician": "1", "commissioner": "1"})
    ids = accepted_ids(session, workshop, 4)
    words = statements(session, ids)
    ranking = open_round(session, facilitator, workshop, ids, method="ranking", top_k="2", combine="rank_of_ranks",
                         min_group_size="")
    rating = open_round(session, facilitator, workshop, ids, in_min="80", min_group_size="5")
    people = [(f"R-{n}", group) for n, group in enumerate(["Patients", "patient", "Carers", "Clinicians",
                                                           "commissioner", "Carers", "Clinicians"])]
    ranked = "".join(f"{who},{group},{words[(n + j) % 4]},{j + 1}\n" for n, (who, group) in enumerate(people)
                     for j in range(2))
    rated = "".join(f"{who},{group},{words[j]},{(n * 3 + j * 5) % 9 + 1}\n" for n, (who, group) in enumerate(people)
                    for j in range(4))
    sign_in(client, facilitator)
    for found, rows, expected in [
            (ranking, ranked, "--method ranking --top-k 2 --weights carer=1,clinician=1,commissioner=1,patient=2 "
                              "--combine rank_of_ranks"),
            (rating, rated, "--method rating --rule RULE.json --weights carer=1,clinician=1,commissioner=1,patient=2")]:
        rid = found.id or 0
        round_import.import_ballots(session, facilitator, workshop.id, rid, "participant,group,outcome,value\n" + rows,
                                    "paper.csv")
        rounds.close_round(session, facilitator, workshop.id, rid)
        command = recount_command(round_results(session, workshop.id, rid), f"round-{found.number}-ballots.csv")
        assert command == f"codesign tally round-{found.number}-ballots.csv {expected}"
        file = tmp_path / f"round-{found.number}-ballots.csv"
        file.write_bytes(client.get(f"/sessions/{workshop.id}/rounds/{rid}/ballots.csv").content)
        app = client.get(f"/sessions/{workshop.id}/rounds/{rid}/results.json").json()
        (tmp_path / "RULE.json").write_text(json.dumps(app["rule"]), encoding="utf-8")
        options = command.split()[3:]
        parser = argparse.ArgumentParser(prog="codesign tally")
        add_tally_arguments(parser)
        out, err = io.StringIO(), io.StringIO()
        args = [str(file), *[str(tmp_path / o) if o == "RULE.json" else o for o in options]]
        assert run_tally(parser.parse_args(args), out, err) == 0, err.getvalue()
        assert comparable(app) == comparable(json.loads(out.getvalue()))
