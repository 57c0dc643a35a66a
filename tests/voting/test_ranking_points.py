"""Ranking (Borda, top-k) and points allocation: known answers and the turnout rule."""

from __future__ import annotations

import pytest

from codesign.voting import MethodOptions, tally
from tests.voting.helpers import rankings, scored

MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE = "Memphis", "Nashville", "Chattanooga", "Knoxville"


def tennessee() -> list[tuple[str, str, str, object]]:
    """The textbook Borda example: where Tennessee's capital would be, 100 voters.

    42 Memphis > Nashville > Chattanooga > Knoxville; 26 Nashville > Chattanooga > Knoxville >
    Memphis; 15 Chattanooga > Knoxville > Nashville > Memphis; 17 Knoxville > Chattanooga >
    Nashville > Memphis. Classical Borda (3-2-1-0): Nashville 194, Chattanooga 173,
    Memphis 126, Knoxville 107.
    """
    blocks = [
        (42, [MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE]),
        (26, [NASHVILLE, CHATTANOOGA, KNOXVILLE, MEMPHIS]),
        (15, [CHATTANOOGA, KNOXVILLE, NASHVILLE, MEMPHIS]),
        (17, [KNOXVILLE, CHATTANOOGA, NASHVILLE, MEMPHIS]),
    ]
    orders = [order for count, order in blocks for _ in range(count)]
    return rankings("voters", orders)


def test_borda_tennessee_example() -> None:
    results = tally(scored(tennessee()), "ranking")
    # k = 4, so first earns 4 ... fourth 1; score = points / (100 voters x 4).
    expected = {NASHVILLE: 294, CHATTANOOGA: 273, MEMPHIS: 226, KNOXVILLE: 207}
    for name, points in expected.items():
        outcome = results.outcome(name)
        assert outcome.score == points / 400
        assert outcome.groups["voters"].mean_points == points / 100
    assert results.order == [NASHVILLE, CHATTANOOGA, MEMPHIS, KNOXVILLE]
    # The classical Borda order of the same weak orders agrees; Schulze (Condorcet) puts
    # Knoxville above Memphis, because 58 of 100 prefer it.
    assert [results.outcome(n).borda_rank for n in results.order] == [1, 2, 3, 4]
    assert results.outcome(NASHVILLE).schulze_rank == 1
    assert results.outcome(KNOXVILLE).schulze_rank == 3
    assert results.outcome(MEMPHIS).schulze_rank == 4
    assert results.outcome(MEMPHIS).groups["voters"].first_places == 42
    assert results.outcome(MEMPHIS).groups["voters"].times_ranked == 100


def test_turnout_is_not_rewarded() -> None:
    # One of four ranks A first; all four rank B second. B must win.
    orders = [["A", "B"], ["C", "B"], ["C", "B"], ["C", "B"]]
    results = tally(scored(rankings("patient", orders)), "ranking", options=MethodOptions(top_k=3))
    assert results.outcome("A").score == pytest.approx(3 / 12)
    assert results.outcome("B").score == pytest.approx(8 / 12)
    assert results.order == ["C", "B", "A"]


def test_top_k_points_and_unranked_zero() -> None:
    orders = [["A", "C"], ["C", "B"], ["D", "B"]]
    results = tally(scored(rankings("g", orders)), "ranking", options=MethodOptions(top_k=2))
    scores = {o.outcome: o.score for o in results.outcomes}
    assert scores == {"A": 2 / 6, "B": 2 / 6, "C": 3 / 6, "D": 2 / 6}
    # A, B and D tie on points. More first places first: A and D (one each) before B (none).
    # A and D tie head to head (one ballot each way), but B beats A 2-1 while nothing but C
    # beats D, so Schulze puts D (rank 2) above A (rank 3) before the alphabet is consulted.
    assert [results.outcome(n).schulze_rank for n in "ABCD"] == [3, 2, 1, 2]
    assert results.order == ["C", "D", "A", "B"]


def test_ranking_positions_are_checked() -> None:
    with pytest.raises(ValueError, match="position 3 is out of range 1-2"):
        tally(scored([("a", "g", "A", 3)]), "ranking", outcomes=["A", "B"])
    with pytest.raises(ValueError, match="position 2 is out of range 1-1"):
        tally(scored([("a", "g", "A", 2)]), "ranking", outcomes=["A", "B"], options=MethodOptions(top_k=1))
    with pytest.raises(ValueError, match="used position 1 more than once"):
        tally(scored([("a", "g", "A", 1), ("a", "g", "B", 1)]), "ranking")
    with pytest.raises(ValueError, match="value is missing"):
        tally(scored([("a", "g", "A", None)]), "ranking")


def test_points_score_is_mean_allocation_over_budget() -> None:
    rows = [("p1", "g", "A", 6), ("p1", "g", "B", 4), ("p2", "g", "A", 10)]
    results = tally(scored(rows), "points", outcomes=["A", "B", "C"])
    assert [(o.outcome, o.score) for o in results.outcomes] == [
        ("A", 0.8),
        ("B", 0.2),
        ("C", 0.0),
    ]
    a = results.outcome("A").groups["g"]
    assert (a.mean_allocation, a.times_given, a.n) == (8.0, 2, 2)
    assert results.outcome("B").groups["g"].mean_allocation == 2.0  # p2's nothing counts as 0


def test_points_limits_are_checked() -> None:
    options = MethodOptions(budget=10, max_per_outcome=5)
    with pytest.raises(ValueError, match="points 6 are over the cap of 5 per outcome"):
        tally(scored([("a", "g", "A", 6)]), "points", options=options)
    with pytest.raises(ValueError, match="allocated 11 points; the budget is 10"):
        rows = [("a", "g", "A", 5), ("a", "g", "B", 5), ("a", "g", "C", 1)]
        tally(scored(rows), "points", options=options)
    with pytest.raises(ValueError, match="points -1 are negative"):
        tally(scored([("a", "g", "A", -1)]), "points")


def test_points_kendall_ties_zero_allocations() -> None:
    rows = [("p1", "g", "A", 7), ("p1", "g", "B", 3), ("p2", "g", "A", 6), ("p2", "g", "B", 4)]
    results = tally(scored(rows), "points", outcomes=["A", "B", "C"])
    w = results.agreement.kendall_w["g"]
    assert w is not None
    assert (w.raters, w.items) == (2, 3)
    assert w.w == pytest.approx(1.0)
