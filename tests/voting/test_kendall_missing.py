"""Kendall's W when some answers are "I cannot score this" (issue 12): W over the largest complete
block, found by setting aside the rater or outcome with the most gaps (agreement.complete_block)."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.voting import tally
from codesign.voting.agreement import complete_block
from tests.voting.helpers import ratings, scored

U = None  # unable to score


def test_hand_worked_example_sets_aside_the_outcome_two_people_could_not_score() -> None:
    # Four patients rate A, B, C, D; two of them cannot score D.
    rows = ratings("patient", {"A": [9, 8, 7, 9], "B": [5, 6, 7, 4], "C": [1, 2, 3, 2], "D": [U, U, 5, 8]})
    w = tally(scored(rows), "rating").agreement.kendall_w["patient"]
    # By hand: D has two gaps, each rater at most one, so D is set aside and all four raters stay.
    # Ranks (A, B, C): 3 2 1 | 3 2 1 | 2.5 2.5 1 (one tie of two) | 3 2 1.
    # Rank sums 11.5, 8.5, 4; mean m(n+1)/2 = 8; S = 3.5^2 + 0.5^2 + 4^2 = 28.5.
    # W = 12 S / (m^2 (n^3 - n) - m sum(t^3 - t)) = 342 / (16 * 24 - 4 * 6) = 342 / 360 = 0.95.
    # Friedman chi-square = m (n - 1) W = 4 * 2 * 0.95 = 7.6 on 2 degrees of freedom.
    assert w is not None
    assert (w.raters, w.items) == (4, 3)
    assert w.w == pytest.approx(0.95)
    assert w.chi2 == pytest.approx(7.6)
    assert w.df == 2
    assert w.p_value == pytest.approx(np.exp(-7.6 / 2))  # chi-square upper tail with 2 df


def test_w_is_computed_when_every_participant_could_not_score_something() -> None:
    # Nobody could score D, so no participant scored everything: "complete raters only" (what
    # this did before) had no W at all. Setting D aside leaves four raters who agree exactly.
    rows = ratings("carer", {"A": [9, 9, 8, 9], "B": [7, 6, 7, 5], "C": [2, 1, 3, 1], "D": [U, U, U, U]})
    w = tally(scored(rows), "rating").agreement.kendall_w["carer"]
    assert w is not None and (w.raters, w.items) == (4, 3)
    assert w.w == pytest.approx(1.0)
    assert w.chi2 == pytest.approx(8.0)  # m (n - 1) W = 4 * 2 * 1


def test_each_participant_missing_a_different_outcome_still_gives_w() -> None:
    # The diagonal case: the best complete block has six answers (2 x 3 or 3 x 2).
    rows = ratings("carer", {"A": [9, 9, 8, 9, U], "B": [7, 6, 7, U, 7], "C": [5, 4, U, 5, 4], "D": [2, U, 1, 2, 1],
                             "E": [U, 1, 2, 1, 2]})
    w = tally(scored(rows), "rating").agreement.kendall_w["carer"]
    assert w is not None and w.raters * w.items == 6 and min(w.raters, w.items) >= 2


def test_complete_block_keeps_the_most_answers() -> None:
    answered = np.ones((5, 3), dtype=bool)
    answered[1, 1] = False
    rows, cols = complete_block(answered)  # 4 raters x 3 outcomes (12) beats 5 x 2 (10)
    assert rows.tolist() == [0, 2, 3, 4] and cols.tolist() == [0, 1, 2]
    rows, cols = complete_block(answered.T)  # 3 raters x 5 outcomes: set the outcome aside (3 x 4)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [0, 2, 3, 4]


def test_complete_block_sets_aside_an_outcome_many_could_not_score() -> None:
    answered = np.array([[True, False, True], [True, False, True], [True, True, True]])
    rows, cols = complete_block(answered)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [0, 2]


def test_complete_block_of_nothing_answered_is_empty() -> None:
    rows, cols = complete_block(np.zeros((3, 2), dtype=bool))
    assert rows.size == 0 or cols.size == 0
    assert tally(scored(ratings("g", {"A": [U, U], "B": [U, U]})), "rating").agreement.kendall_w["g"] is None
