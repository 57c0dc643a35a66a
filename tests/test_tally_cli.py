"""``codesign tally`` through run_tally with in-memory streams."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from codesign.tally_cli import add_tally_arguments, parse_groups, parse_weights, run_tally

DATA = Path(__file__).parent / "voting" / "data"


def run(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="codesign tally")
    add_tally_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    status = run_tally(parser.parse_args(list(argv)), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("method", ["rating", "ranking", "points", "pairwise"])
def test_json_output_for_each_example(method: str) -> None:
    extra = ["--top-k", "5"] if method == "ranking" else []
    status, out, err = run(str(DATA / f"{method}.csv"), "--method", method, *extra)
    assert status == 0
    # stderr says which groups were counted (the file's order), and nothing else.
    assert err == (f"codesign tally: {DATA / f'{method}.csv'}: counted patient (8 people), carer (5 people), "
                   "clinician (7 people), commissioner (4 people)\n")
    data = json.loads(out)
    assert data["method"] == method
    assert data["combine"] == "weighted"
    assert set(data["groups"]) == {"patient", "carer", "clinician", "commissioner"}
    # 4 commissioners: shown, as in a new round of the app (smallest group 3, not 5).
    assert data["groups"]["commissioner"] == {"n": 4, "weight": 0.25, "small": False}
    assert data["rule"]["min_group_size"] == 3
    assert [o["rank"] for o in data["outcomes"]] == list(range(1, 11))
    assert set(data["agreement"]) == {"kendall_w", "between_groups", "disagreements"}
    # Pretty, sorted, 2-space JSON.
    assert out.startswith('{\n  "agreement": {')
    assert out == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_rating_json_details() -> None:
    status, out, _ = run(str(DATA / "rating.csv"), "--method", "rating")
    assert status == 0
    data = json.loads(out)
    assert data["rule"]["in_min_pct_7_9"] == 0.7
    top = data["outcomes"][0]
    assert top["consensus"] in {"in", "out", "none"}
    patient = top["groups"]["patient"]
    assert set(patient) >= {"n", "score", "rank", "pct_7_9", "pct_1_3", "pct_unable", "distribution"}
    # The 8 patients rated 10 outcomes; PA04 and PA07 could not score one each (different ones).
    # W needs a complete block: setting the two outcomes aside keeps 8 x 8 = 64 answers, setting
    # the two people aside only 6 x 10 = 60 (voting/agreement.py), so W is over 8 outcomes.
    patient_w = data["agreement"]["kendall_w"]["patient"]
    assert (patient_w["raters"], patient_w["items"], patient_w["df"]) == (8, 8, 7)


def test_csv_output_has_one_row_per_outcome_with_flat_group_columns() -> None:
    status, out, _ = run(str(DATA / "points.csv"), "--method", "points", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 10
    assert rows[0]["rank"] == "1"
    for column in ("outcome", "score", "group.patient.score", "group.carer.mean_allocation"):
        assert column in rows[0]
    assert rows[0]["consensus"] == ""  # null for points


def test_options_rule_weights_and_combine_are_used(tmp_path: Path) -> None:
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"in_min_pct_7_9": 0.8, "in_max_pct_1_3": 0.1}))
    status, out, _ = run(
        str(DATA / "rating.csv"), "--method", "rating", "--rule", str(rule),
        "--weights", "patient=2, carer=1,clinician=1,commissioner=0", "--combine", "rank_of_ranks",
    )  # fmt: skip
    assert status == 0
    data = json.loads(out)
    assert data["rule"]["in_min_pct_7_9"] == 0.8
    assert data["groups"]["patient"]["weight"] == 0.5
    assert data["groups"]["commissioner"]["weight"] == 0.0
    assert data["combine"] == "rank_of_ranks"
    assert all(o["rank_points"] is not None for o in data["outcomes"])
    status, out, _ = run(str(DATA / "rating.csv"), "--method", "rating", "--rule", "strict_80_10")
    assert json.loads(out)["rule"]["in_max_pct_1_3"] == 0.1


def test_bad_ballots_report_file_line_and_column(tmp_path: Path) -> None:
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("participant,group,outcome,value\nP1,patient,Sight,7\nP2,patient,Sight,12\n")
    status, out, err = run(str(ballots), "--method", "rating")
    assert (status, out) == (2, "")
    assert err == f"codesign tally: {ballots}, line 3, column 4 (value): 12 is out of range 1-9\n"


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["missing.csv", "--method", "rating"], "missing.csv: file not found"),
        ("rule", ["--rule", "RULE"], "rule.json, line 1, column 24: invalid JSON"),
        ("badrule", ["--rule", "RULE"], "rule.json: in_min_pct_7_9 must be between 0 and 1"),
        (None, ["--weights", "patient"], "--weights: 'patient' is not group=weight"),
        (None, ["--weights", "patient=x"], "--weights: 'x' for 'patient' is not a number"),
        (None, ["--weights", "patient=-1"], "the weight for 'patient' must be 0 or more"),
        (None, ["--weights", "patient=1"], "ballots from group 'carer' but no weight"),
        (None, ["--top-k", "0"], "--top-k must be at least 1"),
        ("latin1", [], "line 2: not UTF-8 text"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, setup: str | None, args: list[str], message: str) -> None:
    ballots = str(DATA / "rating.csv")
    rule = tmp_path / "rule.json"
    if setup == "rule":
        rule.write_text('{"in_min_pct_7_9": 0.7,}')
    elif setup == "badrule":
        rule.write_text('{"in_min_pct_7_9": 70}')
    elif setup == "latin1":
        latin = tmp_path / "latin.csv"
        latin.write_bytes("participant,group,outcome,value\nP1,patient,Caf\xe9,7\n".encode("latin-1"))
        ballots = str(latin)
    argv = [a.replace("RULE", str(rule)) for a in args]
    if not argv or argv[0] != "missing.csv":
        argv = [ballots, "--method", "rating", *argv]
    status, out, err = run(*argv)
    assert (status, out) == (2, "")
    assert message in err
    assert err.count("\n") == 1 and err.startswith("codesign tally: ")


def test_parse_weights() -> None:
    assert parse_weights(None) is None
    assert parse_weights("patient=2,carer=0.5") == {"patient": 2.0, "carer": 0.5}


def test_csv_output_neutralises_formulas_in_names(tmp_path: Path) -> None:
    ballots = tmp_path / "ballots.csv"
    ballots.write_text('participant,group,outcome,value\nP1,@SUM(1),"=HYPERLINK(""http://x"")",9\n'
                       "P1,@SUM(1),+1-2,3\nP2,patient,-cmd,5\nP2,patient,Plain,7\n", encoding="utf-8")
    # A group is one the study has: a study's own groups are named with --groups.
    status, out, err = run(str(ballots), "--method", "rating", "--format", "csv", "--groups", "patient,@SUM(1)")
    assert status == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    cells = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'+1-2" in cells and "'-cmd" in cells and "Plain" in cells
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert not any(cell.startswith("-") and not cell.lstrip("-").replace(".", "", 1).isdigit() for cell in cells)


def test_groups_are_read_as_the_app_reads_them(tmp_path: Path) -> None:
    # A user trial: "Patients" was counted as a fifth group with its own share of the weight.
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("participant,group,outcome,value\nP1,Patients,A,9\nP2,patient,A,8\nP3,PATIENTS,B,7\n"
                       "C1,Carers,A,2\nC2,carer,B,3\n", encoding="utf-8")
    status, out, err = run(str(ballots), "--method", "rating")
    assert status == 0, err
    assert {g: (v["n"], v["weight"]) for g, v in json.loads(out)["groups"].items()} == {
        "patient": (3, 0.5), "carer": (2, 0.5)}
    assert err == f"codesign tally: {ballots}: counted patient (3 people), carer (2 people)\n"


def test_parse_groups() -> None:
    assert parse_groups(None) == {"patient": "Patients", "carer": "Carers", "clinician": "Clinicians",
                                  "commissioner": "Commissioners"}
    assert parse_groups("patient=Patients, nurse") == {"patient": "Patients", "nurse": "nurse"}
    for bad in ("patient,patient", "=Patients"):
        status, _, err = run(str(DATA / "rating.csv"), "--method", "rating", "--groups", bad)
        assert status == 2 and err.startswith("codesign tally: --groups: "), err


def test_a_group_tally_does_not_know_points_to_groups(tmp_path: Path) -> None:
    # From a user trial: "Nurses" was refused, with no word of how a study names its own groups.
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("participant,group,outcome,value\nP1,Patients,A,9\nN1,Nurses,A,8\n", encoding="utf-8")
    status, _, err = run(str(ballots), "--method", "rating")
    assert status == 2 and "line 3, column 2 (group)" in err and "“Nurses” is not a stakeholder group" in err
    assert err.rstrip("\n").endswith("(a study's own groups are named with --groups key=Name,...)")
    assert err.count("\n") == 1  # still one line
    status, out, err = run(str(ballots), "--method", "rating", "--groups", "patient=Patients,nurse=Nurses")
    assert status == 0 and set(json.loads(out)["groups"]) == {"patient", "nurse"}, err
