"""Schulze method: the 45-voter example from Schulze (2011) / Wikipedia, and the matrix code."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.voting import preference_counts, schulze_ranks, tally
from codesign.voting.schulze import borda_ranks, strongest_paths, weighted_preferences
from tests.voting.helpers import rankings, scored

# 45 voters over A-E (Wikipedia, "Schulze method", example): the winner is E and the order
# is E > A > C > B > D.
BLOCKS = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]
D = np.array(
    [
        [0, 20, 26, 30, 22],
        [25, 0, 16, 33, 18],
        [19, 29, 0, 17, 24],
        [15, 12, 28, 0, 14],
        [23, 27, 21, 31, 0],
    ]
)
P = np.array(
    [
        [0, 28, 28, 30, 24],
        [25, 0, 28, 33, 24],
        [25, 29, 0, 29, 24],
        [25, 28, 28, 0, 24],
        [25, 28, 28, 31, 0],
    ]
)


def levels() -> np.ndarray:
    rows = []
    for count, order in BLOCKS:
        row = [5 - order.index(c) for c in "ABCDE"]
        rows.extend([row] * count)
    return np.array(rows)


def test_pairwise_preferences_match_the_published_matrix() -> None:
    assert (preference_counts(levels(), lowest=0) == D).all()


def test_strongest_paths_match_the_published_matrix() -> None:
    assert (strongest_paths(D) == P).all()


def test_schulze_order_is_e_a_c_b_d() -> None:
    assert schulze_ranks(D) == [2, 4, 3, 5, 1]


def test_schulze_through_tally_from_ranked_ballots() -> None:
    orders = [list(order) for count, order in BLOCKS for _ in range(count)]
    results = tally(scored(rankings("voters", orders)), "ranking")
    ranks = {o.outcome: o.schulze_rank for o in results.outcomes}
    assert ranks == {"E": 1, "A": 2, "C": 3, "B": 4, "D": 5}


def test_both_counting_paths_agree() -> None:
    # Few levels use one matrix product per level; many levels compare columns directly.
    rng = np.random.default_rng(7)
    few = rng.integers(0, 5, size=(300, 12))
    many = rng.integers(0, 40, size=(300, 12))
    for matrix in (few, many):
        brute = (matrix[:, :, None] > matrix[:, None, :]).sum(axis=0)
        assert (preference_counts(matrix, lowest=0) == brute).all()


def test_levels_below_lowest_take_part_in_no_pair() -> None:
    # Rating: 0 = unable. Ballot 1 says A > B; ballot 2 has no view on A.
    matrix = np.array([[9, 3], [0, 5]])
    assert preference_counts(matrix, lowest=1).tolist() == [[0, 1], [0, 0]]
    assert preference_counts(matrix, lowest=0).tolist() == [[0, 1], [1, 0]]


def test_rating_unable_does_not_count_as_a_low_score() -> None:
    rows = [("a", "g", "A", 8), ("a", "g", "B", 6), ("b", "g", "A", None), ("b", "g", "B", 6)]
    rows += [("c", "g", "A", 7), ("c", "g", "B", 7)]
    results = tally(scored(rows), "rating")
    assert results.outcome("A").schulze_rank == 1
    assert results.outcome("B").schulze_rank == 2


def test_condorcet_cycle_ties_and_borda() -> None:
    # Rock-paper-scissors: every outcome beats one and loses to one by the same margin.
    cycle = np.array([[0, 2, 1], [1, 0, 2], [2, 1, 0]])
    assert schulze_ranks(cycle) == [1, 1, 1]
    assert borda_ranks(cycle) == [1, 1, 1]
    assert borda_ranks(np.array([[0, 3, 3], [1, 0, 2], [1, 2, 0]])) == [1, 2, 2]


def test_weighted_preferences_count_groups_by_weight_not_headcount() -> None:
    big = np.array([[0, 40], [0, 0]])  # 40 of 40 prefer A
    small = np.array([[0, 0], [5, 0]])  # 5 of 5 prefer B
    d = weighted_preferences([big, small], [40, 5], [0.5, 0.5])
    assert d.tolist() == [[0, 0.5], [0.5, 0]]
    assert schulze_ranks(d) == [1, 1]
    assert weighted_preferences([big, small], [40, 5], [0.75, 0.25])[0, 1] == pytest.approx(0.75)


def test_a_tied_pair_is_no_link() -> None:
    # A and B tie 1-1 head to head; A beats C 2-0; B and C never differ. A tie is not a link,
    # so B gets no path to C through A: only A beats C, and A and B share first place.
    d = np.array([[0, 1, 2], [1, 0, 0], [0, 0, 0]])
    assert schulze_ranks(d) == [1, 1, 2]


def test_many_levels_with_entries_below_lowest_count_as_the_brute_force_does() -> None:
    # Many levels compare rows of the smallest type that holds them, with stand-ins for entries
    # below `lowest`: the counts must not depend on the type or on where the levels lie.
    rng = np.random.default_rng(11)
    for low, high, lowest in ((0, 40, 1), (-120, 127, -100), (0, 30_000, 5), (-(2**40), 2**40, 0)):
        matrix = rng.integers(low, high, size=(200, 9), dtype=np.int64)
        valid = matrix >= lowest
        brute = ((matrix[:, :, None] > matrix[:, None, :]) & valid[:, :, None] & valid[:, None, :]).sum(axis=0)
        assert (preference_counts(matrix, lowest=lowest) == brute).all()
        halves = matrix / 2  # not whole numbers: compared as they are
        assert (preference_counts(halves, lowest=lowest / 2) == brute).all()
