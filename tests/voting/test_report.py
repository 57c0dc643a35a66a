"""Results -> JSON dict and CSV rows: schema, rounding only at output, labels."""

from __future__ import annotations

import json

import pytest

from codesign.voting import MethodOptions, tally
from codesign.voting.csvio import parse_ballots_csv
from codesign.voting.report import round_half_up, round_significant
from codesign.voting.types import Method
from tests.voting.helpers import DATA, ratings, scored


def example(method: Method) -> dict[str, object]:
    options = MethodOptions(top_k=5) if method == "ranking" else MethodOptions()
    text = (DATA / f"{method}.csv").read_text(encoding="utf-8")
    ballots = parse_ballots_csv(text, method, options=options)
    return tally(ballots, method, options=options).to_dict()


def test_rounding_is_half_up_on_the_decimal_shown() -> None:
    assert round_half_up(2.675, 2) == 2.68  # the float is 2.67499999...
    assert round(2.675, 2) == 2.67  # what built-in rounding would show
    assert round_half_up(0.125, 2) == 0.13
    assert round(0.125, 2) == 0.12  # built-in rounds half to even
    assert round_half_up(12.25, 1) == 12.3
    assert round_half_up(-2.5, 0) == -3.0
    assert round_half_up(None, 2) is None
    assert round_significant(0.000123456, 4) == 0.0001235
    assert round_significant(0.0, 4) == 0.0


def test_top_level_keys_and_group_fields_per_method() -> None:
    expected_fields = {
        "rating": {"mean", "median", "pct_7_9", "pct_1_3", "pct_unable", "distribution"},
        "ranking": {"mean_points", "times_ranked", "first_places"},
        "points": {"mean_allocation", "times_given"},
        "pairwise": {"wins", "losses", "ties", "appearances"},
    }
    for method, fields in expected_fields.items():
        data = example(method)  # type: ignore[arg-type]
        assert set(data) == {
            "schema_version", "method", "combine", "rule", "options", "groups", "outcomes",
            "agreement",
        }  # fmt: skip
        assert data["method"] == method
        outcomes = data["outcomes"]
        assert isinstance(outcomes, list) and len(outcomes) == 10
        first = outcomes[0]
        assert set(first) == {
            "outcome", "label", "rank", "score", "consensus", "important_to", "schulze_rank",
            "borda_rank", "rank_points", "groups",
        }  # fmt: skip
        assert [o["rank"] for o in outcomes] == list(range(1, 11))
        assert set(first["groups"]) == {"carer", "clinician", "commissioner", "patient"}
        assert set(first["groups"]["patient"]) == {"n", "score", "rank"} | fields
        json.dumps(data, allow_nan=False)


def test_rating_output_rounding_and_distribution() -> None:
    rows = ratings("patient", {"A": [9, 8, 7, 7, 5, 2, None]})
    data = tally(scored(rows), "rating").to_dict()
    group = data["outcomes"][0]["groups"]["patient"]
    assert group["pct_7_9"] == 66.7  # 4 of 6
    assert group["pct_1_3"] == 16.7
    assert group["pct_unable"] == 14.3  # 1 of 7 answers
    assert group["mean"] == 6.33
    assert group["score"] == 0.6667
    assert group["distribution"] == {
        "1": 0, "2": 1, "3": 0, "4": 0, "5": 1, "6": 0, "7": 2, "8": 1, "9": 1, "unable": 1,
    }  # fmt: skip
    assert data["groups"] == {"patient": {"n": 7, "weight": 1.0, "small": False}}


def test_labels_are_added_without_changing_ids() -> None:
    rows = ratings("patient", {"hba1c": [9], "bp": [5]})
    results = tally(scored(rows), "rating")
    data = results.to_dict(labels={"hba1c": "My blood sugar stays in a safe range"})
    assert data["outcomes"][0]["outcome"] == "hba1c"
    assert data["outcomes"][0]["label"] == "My blood sugar stays in a safe range"
    assert data["outcomes"][1]["label"] == "bp"


def test_csv_rows_are_flat_and_aligned() -> None:
    options = MethodOptions()
    text = (DATA / "rating.csv").read_text(encoding="utf-8")
    results = tally(parse_ballots_csv(text, "rating"), "rating", options=options)
    rows = results.to_csv_rows()
    assert len(rows) == 10
    assert all(list(row) == list(rows[0]) for row in rows)
    columns = list(rows[0])
    assert columns[:9] == [
        "rank", "outcome", "label", "score", "consensus", "important_to", "schulze_rank",
        "borda_rank", "rank_points",
    ]  # fmt: skip
    assert "group.patient.score" in columns
    assert "group.carer.distribution.unable" in columns
    assert "group.clinician.pct_7_9" in columns
    first = results.outcomes[0]
    assert rows[0]["important_to"] == ";".join(first.important_to)
    assert rows[0]["group.patient.rank"] == first.groups["patient"].rank
    assert rows[0]["score"] == pytest.approx(first.score, abs=5e-5)
