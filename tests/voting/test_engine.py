"""tally(): weights, combination rules, tie-breaks and the shape of the results."""

from __future__ import annotations

import json
from fractions import Fraction

import pandas as pd
import pytest

from codesign.voting import MethodOptions, tally
from codesign.voting.combine import normalise_weights
from tests.voting.helpers import ratings, scored


def two_group_points() -> pd.DataFrame:
    # Patients: A 0.70, B 0.20, C 0.10. Clinicians: B 0.35, C 0.33, A 0.32 (budget 100).
    return scored(
        [
            ("p", "patient", "A", 70),
            ("p", "patient", "B", 20),
            ("p", "patient", "C", 10),
            ("c", "clinician", "A", 32),
            ("c", "clinician", "B", 35),
            ("c", "clinician", "C", 33),
        ]
    )


def test_weighted_combination_with_equal_and_given_weights() -> None:
    options = MethodOptions(budget=100)
    equal = tally(two_group_points(), "points", options=options)
    assert equal.order == ["A", "B", "C"]
    assert equal.outcome("A").score == pytest.approx((0.70 + 0.32) / 2)
    assert equal.groups["patient"].weight == 0.5
    weighted = tally(two_group_points(), "points", options=options, weights={"patient": 1, "clinician": 3})
    assert weighted.outcome("A").score == pytest.approx(0.25 * 0.70 + 0.75 * 0.32)
    assert weighted.groups["clinician"].weight == 0.75


def test_rank_of_ranks_differs_from_weighted_and_reports_points() -> None:
    results = tally(two_group_points(), "points", options=MethodOptions(budget=100), combine="rank_of_ranks")
    # Group ranks: patient A1 B2 C3, clinician B1 C2 A3; points N - r + 1 summed:
    # A 3 + 1 = 4, B 2 + 3 = 5, C 1 + 2 = 3.
    assert results.order == ["B", "A", "C"]
    assert [o.rank_points for o in results.outcomes] == [5.0, 4.0, 3.0]
    assert results.outcome("A").score == pytest.approx(0.51)  # score stays the weighted one
    assert tally(two_group_points(), "points", options=MethodOptions(budget=100)).outcome("A").rank_points is None


def test_rank_of_ranks_applies_weights_times_group_count() -> None:
    results = tally(
        two_group_points(),
        "points",
        options=MethodOptions(budget=100),
        combine="rank_of_ranks",
        weights={"patient": 3, "clinician": 1},
    )
    # multipliers 0.75 x 2 = 1.5 and 0.5: A 1.5 x 3 + 0.5 x 1 = 5, B 3 + 1.5 = 4.5, C 1.5 + 1.
    assert [(o.outcome, o.rank_points) for o in results.outcomes] == [
        ("A", 5.0),
        ("B", 4.5),
        ("C", 2.5),
    ]


def test_disagreements_and_between_group_agreement() -> None:
    results = tally(two_group_points(), "points", options=MethodOptions(budget=100))
    spreads = [(d.outcome, d.spread) for d in results.agreement.disagreements]
    assert spreads == [("A", 2), ("B", 1), ("C", 1)]
    between = results.agreement.between_groups
    assert between is not None and between.raters == 2 and between.items == 3
    assert results.agreement.kendall_w == {"clinician": None, "patient": None}  # m = 1


def test_weight_rules() -> None:
    assert normalise_weights(None, ["a", "b", "c"]) == {g: Fraction(1, 3) for g in "abc"}
    # Decimals are read as written: 0.1 and 0.2 normalise to exactly 1/3 and 2/3.
    assert normalise_weights({"a": 0.1, "b": 0.2}, ["a", "b"]) == {
        "a": Fraction(1, 3),
        "b": Fraction(2, 3),
    }
    # A weighted group with no ballots is ignored.
    assert normalise_weights({"a": 1, "b": 1, "absent": 5}, ["a", "b"])["a"] == Fraction(1, 2)
    with pytest.raises(ValueError, match="ballots from group 'b' but no weight"):
        normalise_weights({"a": 1}, ["a", "b"])
    with pytest.raises(ValueError, match="must be 0 or more"):
        normalise_weights({"a": -1, "b": 1}, ["a", "b"])
    with pytest.raises(ValueError, match="add up to 0"):
        normalise_weights({"a": 0, "b": 0}, ["a", "b"])
    with pytest.raises(ValueError, match="must be a number"):
        normalise_weights({"a": "1"}, ["a"])  # type: ignore[dict-item]


def test_zero_weight_group_is_reported_but_does_not_count() -> None:
    rows = ratings("patient", {"A": [9], "B": [5]}) + ratings("clinician", {"A": [1], "B": [9]})
    results = tally(scored(rows), "rating", weights={"patient": 1, "clinician": 0})
    assert results.order == ["A", "B"]
    assert results.outcome("A").score == 1.0
    assert results.groups["clinician"].weight == 0.0
    assert results.outcome("A").groups["clinician"].rank == 2


def test_tie_break_share_7_9_before_schulze_and_alphabet() -> None:
    # Same mean (5); Zeta has 50% at 7-9, Alpha none.
    rows = ratings("g", {"Alpha": [5, 5], "Zeta": [9, 1]})
    assert tally(scored(rows), "rating").order == ["Zeta", "Alpha"]


def test_tie_break_schulze_before_alphabet() -> None:
    # Same mean (6) and share 7-9 (2/3); two of three prefer Zeta to Yew.
    rows = ratings("g", {"Yew": [7, 7, 4], "Zeta": [8, 8, 2]})
    results = tally(scored(rows), "rating")
    assert results.outcome("Yew").score == results.outcome("Zeta").score
    assert results.order == ["Zeta", "Yew"]


def test_tie_break_alphabetical_ignores_case() -> None:
    rows = ratings("g", {"banana": [5], "Cherry": [5], "apple": [5]})
    assert tally(scored(rows), "rating").order == ["apple", "banana", "Cherry"]


def test_group_ranks_use_the_same_rule() -> None:
    rows = ratings("g", {"Yew": [7, 7, 4], "Zeta": [8, 8, 2], "Ash": [1, 1, 1]})
    results = tally(scored(rows), "rating")
    assert {o.outcome: o.groups["g"].rank for o in results.outcomes} == {
        "Zeta": 1,
        "Yew": 2,
        "Ash": 3,
    }


def test_no_ballots_gives_every_listed_outcome_unscored() -> None:
    empty = scored([])
    results = tally(empty, "rating", outcomes=["B", "a"])
    assert results.groups == {}
    assert results.order == ["a", "B"]
    assert {o.score for o in results.outcomes} == {None}
    assert results.agreement.between_groups is None
    json.dumps(results.to_dict(), allow_nan=False)


def test_bad_arguments() -> None:
    ballots = scored([("a", "g", "A", 5)])
    with pytest.raises(ValueError, match="unknown method 'borda'"):
        tally(ballots, "borda")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown combine"):
        tally(ballots, "rating", combine="sum")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing column 'value'"):
        tally(ballots.drop(columns="value"), "rating")
    with pytest.raises(ValueError, match="outcome 'A' is not on the ballot"):
        tally(ballots, "rating", outcomes=["B"])
    with pytest.raises(ValueError, match="outcome 'B' is listed twice"):
        tally(ballots, "rating", outcomes=["A", "B", "B"])
    with pytest.raises(ValueError, match="group is missing"):
        tally(scored([("a", None, "A", 5)]), "rating")  # type: ignore[list-item]
    with pytest.raises(ValueError, match="whole numbers"):
        tally(scored([("a", "g", "A", "high")]), "rating")


def test_results_hold_only_plain_python_values() -> None:
    rows = ratings("patient", {"A": [9, 8, None], "B": [1, 2, 3]})
    results = tally(scored(rows), "rating")

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        else:
            assert value is None or type(value) in (str, int, float, bool), type(value)

    walk(results.to_dict())
    outcome = results.outcomes[0]
    assert type(outcome.score) is float and type(outcome.rank) is int
    assert type(outcome.groups["patient"].mean) is float
    assert type(outcome.groups["patient"].n) is int
