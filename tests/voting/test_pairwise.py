"""Bradley-Terry by MM, checked against closed forms and direct likelihood maximisation."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import optimize

from codesign.voting import BT_PRIOR, bradley_terry_scores, fit_bradley_terry, next_pair, tally
from tests.voting.helpers import pairwise


def test_two_outcomes_without_prior_match_the_closed_form() -> None:
    # With two outcomes the MLE is p_A / p_B = wins_A / wins_B.
    strength = fit_bradley_terry(np.array([[0, 3], [1, 0]]), prior=0)
    assert strength[0] / strength[1] == pytest.approx(3.0, rel=1e-9)
    assert bradley_terry_scores(strength).tolist() == pytest.approx([0.75, 0.25])


def penalised_nll(theta: np.ndarray, wins: np.ndarray, prior: float) -> float:
    """Independent negative log-likelihood: each win log p_i/(p_i+p_j), plus ``prior`` wins
    and ``prior`` losses of every outcome against a reference of strength 1."""
    p = np.exp(theta)
    total = 0.0
    n = len(p)
    for i in range(n):
        for j in range(n):
            if wins[i, j]:
                total -= wins[i, j] * math.log(p[i] / (p[i] + p[j]))
        total -= prior * math.log(p[i] / (p[i] + 1.0)) + prior * math.log(1.0 / (p[i] + 1.0))
    return total


def test_mm_matches_direct_maximisation_of_the_penalised_likelihood() -> None:
    wins = np.array(
        [
            [0, 4, 2, 7, 0],
            [1, 0, 3, 2, 0],
            [3, 2, 0, 5, 0],
            [0, 1, 1, 0, 0],
            [0, 0, 0, 0, 0],  # never compared
        ]
    )
    wins[4, 0] = 2  # ... except two wins, no losses: finite only thanks to the prior
    fitted = fit_bradley_terry(wins)
    best = optimize.minimize(penalised_nll, np.zeros(5), args=(wins, BT_PRIOR), method="BFGS")
    assert np.log(fitted) == pytest.approx(best.x, abs=1e-4)
    assert penalised_nll(np.log(fitted), wins, BT_PRIOR) <= best.fun + 1e-12
    # ... and the MM answer is a stationary point of the independent likelihood.
    gradient = optimize.approx_fprime(np.log(fitted), penalised_nll, 1e-7, wins, BT_PRIOR)
    assert np.abs(gradient).max() < 1e-5


def test_prior_keeps_strengths_finite_and_unseen_outcomes_at_the_reference() -> None:
    wins = np.array([[0, 5, 0], [0, 0, 0], [0, 0, 0]])
    strength = fit_bradley_terry(wins)
    assert np.isfinite(strength).all() and (strength > 0).all()
    assert strength[2] == pytest.approx(1.0)  # never compared: the reference strength
    assert strength[0] > strength[2] > strength[1]
    with pytest.raises(ValueError, match="must have won and lost"):
        fit_bradley_terry(wins, prior=0)


def test_score_is_the_chance_to_beat_a_random_other_outcome() -> None:
    strength = np.array([3.0, 1.0, 1.0])
    assert bradley_terry_scores(strength).tolist() == pytest.approx([0.75, 0.375, 0.375])


def test_tally_counts_wins_losses_ties_and_ignores_cant_decide_in_the_model() -> None:
    rows = [
        ("a", "patient", "Sight", "Feet", "left"),
        ("a", "patient", "Feet", "Kidneys", "right"),
        ("b", "patient", "Sight", "Kidneys", "left"),
        ("b", "patient", "Kidneys", "Feet", "left"),
    ]
    undecided = [
        ("c", "patient", "Sight", "Feet", "none"),
        ("c", "patient", "Feet", "Kidneys", "none"),
    ]
    with_none = tally(pairwise(rows + undecided), "pairwise")
    without = tally(pairwise(rows), "pairwise")
    assert [o.score for o in with_none.outcomes] == [o.score for o in without.outcomes]
    assert with_none.order == ["Sight", "Kidneys", "Feet"]
    feet = with_none.outcome("Feet").groups["patient"]
    assert (feet.wins, feet.losses, feet.ties, feet.appearances, feet.n) == (0, 3, 2, 5, 3)
    sight = with_none.outcome("Sight")
    assert sight.consensus is None and sight.schulze_rank is None and sight.borda_rank is None
    assert with_none.agreement.kendall_w == {"patient": None}


def test_pairwise_ballots_are_checked() -> None:
    with pytest.raises(ValueError, match="left and right are the same outcome"):
        tally(pairwise([("a", "g", "X", "X", "left")]), "pairwise", outcomes=["X", "Y"])
    with pytest.raises(ValueError, match="choice 'maybe' is not left, right or none"):
        tally(pairwise([("a", "g", "X", "Y", "maybe")]), "pairwise")
    with pytest.raises(ValueError, match="outcome 'Z' is not on the ballot"):
        tally(pairwise([("a", "g", "X", "Z", "left")]), "pairwise", outcomes=["X", "Y"])


# --- next_pair ------------------------------------------------------------------------------


def test_next_pair_never_repeats_and_stops_when_every_pair_is_answered() -> None:
    outcomes = ["A", "B", "C", "D", "E"]
    rng = random.Random(1)
    answered: set[frozenset[str]] = set()
    while (pair := next_pair(outcomes, {}, answered, rng)) is not None:
        assert pair[0] != pair[1]
        assert frozenset(pair) not in answered
        answered.add(frozenset(pair))
    assert len(answered) == 10
    assert next_pair(["A"], {}, set(), rng) is None


def test_next_pair_prefers_less_seen_outcomes() -> None:
    outcomes = ["A", "B", "C", "D", "E", "F"]
    appearances = {"A": 0, "B": 200, "C": 200, "D": 200, "E": 200, "F": 200}
    rng = random.Random(42)
    pairs = [next_pair(outcomes, appearances, set(), rng) for _ in range(400)]
    with_a = sum(1 for pair in pairs if pair is not None and "A" in pair)
    assert with_a / 400 > 0.9
    lefts = sum(1 for pair in pairs if pair is not None and pair[0] == "A")
    assert 0.3 < lefts / with_a < 0.7  # left/right is randomised


def test_next_pair_is_deterministic_for_a_seed_and_refuses_duplicates() -> None:
    outcomes = [f"O{i}" for i in range(8)]
    first = [next_pair(outcomes, {}, set(), random.Random(5)) for _ in range(3)]
    second = [next_pair(outcomes, {}, set(), random.Random(5)) for _ in range(3)]
    assert first == second
    with pytest.raises(ValueError, match="must not repeat"):
        next_pair(["A", "A", "B"], {}, set(), random.Random(0))
