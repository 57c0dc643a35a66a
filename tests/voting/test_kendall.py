"""Kendall's W with tie correction and the Friedman chi-square."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from codesign.voting import kendall_w
from codesign.voting.agreement import disagreements, kendall_w_between


def test_published_example_strawberry_farms() -> None:
    # Four raters rank eight farms (influentialpoints.com, "Kendall's coefficient of
    # concordance", worked example I): rank sums 31 12 12 15 22 5 22 25, S = 500,
    # W = 500 / (16 x 504 / 12) = 0.744, chi2 = k (n - 1) W = 20.83 on 7 df, P = 0.004.
    ranks = np.array(
        [
            [8, 4, 2, 3, 5, 1, 6, 7],
            [7, 3, 1, 4, 5, 2, 6, 8],
            [8, 2, 5, 6, 7, 1, 4, 3],
            [8, 3, 4, 2, 5, 1, 6, 7],
        ]
    )
    result = kendall_w(ranks)
    assert result is not None
    assert round(result.w, 3) == 0.744
    assert round(result.chi2, 2) == 20.83
    assert result.df == 7
    assert round(result.p_value, 3) == 0.004
    assert (result.raters, result.items) == (4, 8)


def test_tied_ranks_use_the_tie_correction() -> None:
    # Higher = preferred. Rater 1 ties items 1-2, rater 3 ties items 1-3.
    # Average ranks: r1 (3.5, 3.5, 2, 1), r2 (4, 3, 2, 1), r3 (3, 3, 3, 1);
    # rank sums 10.5, 9.5, 7, 3; mean 7.5; S = 9 + 4 + 0.25 + 20.25 = 33.5.
    # Ties: (2^3 - 2) + (3^3 - 3) = 30. W = 12 x 33.5 / (9 x 60 - 3 x 30) = 402 / 450.
    levels = np.array([[3, 3, 2, 1], [4, 3, 2, 1], [2, 2, 2, 1]])
    result = kendall_w(levels)
    assert result is not None
    assert result.w == pytest.approx(402 / 450)
    assert round(result.w, 3) == 0.893  # 0.744 without the correction
    assert result.chi2 == pytest.approx(8.04)
    # Friedman's tie-corrected statistic from scipy is the same number.
    friedman = stats.friedmanchisquare(*levels.T)
    assert result.chi2 == pytest.approx(friedman.statistic)
    assert result.p_value == pytest.approx(friedman.pvalue)


def test_w_against_scipy_friedman_on_random_ties() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        levels = rng.integers(1, 6, size=(rng.integers(2, 9), rng.integers(3, 9)))
        result = kendall_w(levels)
        if result is None:
            continue
        friedman = stats.friedmanchisquare(*levels.T)
        assert result.chi2 == pytest.approx(friedman.statistic)


def test_perfect_agreement_and_reversed_scale() -> None:
    same = np.array([[1, 2, 3, 4]] * 5)
    result = kendall_w(same)
    assert result is not None and result.w == pytest.approx(1.0)
    assert kendall_w(-same) == result  # direction of the scale does not matter


@pytest.mark.parametrize(
    "levels",
    [
        np.array([[1, 2, 3]]),  # one rater
        np.array([[1], [2]]),  # one item
        np.array([[5, 5, 5], [2, 2, 2]]),  # every rater ties everything
        np.zeros((0, 4)),
    ],
)
def test_undefined_cases_are_none(levels: np.ndarray) -> None:
    assert kendall_w(levels) is None


def test_between_groups_uses_outcomes_every_group_scored() -> None:
    scores: dict[str, list[Fraction | None]] = {
        "carer": [Fraction(1, 2), Fraction(1, 4), None, Fraction(1, 8)],
        "patient": [Fraction(3, 4), Fraction(1, 2), Fraction(1, 1), Fraction(1, 3)],
    }
    result = kendall_w_between(scores)
    assert result is not None
    assert (result.raters, result.items) == (2, 3)
    assert result.w == pytest.approx(1.0)
    assert kendall_w_between({"patient": scores["patient"]}) is None


def test_disagreements_largest_spread_first_ties_by_combined_rank() -> None:
    ranks = {"patient": [1, 2, 3, 4], "clinician": [4, 3, 2, 1], "carer": [1, 2, 3, 4]}
    found = disagreements(ranks, ["A", "B", "C", "D"], final_rank=[2, 1, 4, 3])
    assert [(d.outcome, d.spread) for d in found] == [("A", 3), ("D", 3), ("B", 1), ("C", 1)]
    assert found[0].ranks == {"patient": 1, "clinician": 4, "carer": 1}
    assert disagreements({"patient": [1, 2]}, ["A", "B"], [1, 2]) == ()
    many = {"a": list(range(1, 9)), "b": list(range(8, 0, -1))}
    assert len(disagreements(many, list("ABCDEFGH"), list(range(1, 9)))) == 5
