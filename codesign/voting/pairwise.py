"""Pairwise "wiki survey" voting: Bradley-Terry scores and the choice of the next pair.

Participants answer "which matters more to you?" between two outcomes, or "can't decide"
(Salganik & Levy 2015, "Wiki surveys: open and quantifiable social data collection",
PLoS ONE 10(5): e0123483; the All Our Ideas platform).

Model: Bradley & Terry (1952, "Rank analysis of incomplete block designs: I. The method of
paired comparisons", Biometrika 39:324-345): outcome i beats j with probability
p_i / (p_i + p_j). Strengths are fitted per group with the MM algorithm of Hunter (2004,
"MM algorithms for generalized Bradley-Terry models", Ann. Statist. 32:384-406):

    p_i <- W_i / sum_j n_ij / (p_i + p_j)

Prior: every outcome is given ``BT_PRIOR`` virtual wins and as many virtual losses against a
reference outcome of fixed strength 1 (a Bayesian pseudo-count). Without it, an outcome that
won every comparison would have infinite strength and one never compared would have none; with
it, strengths stay finite, an outcome never shown sits at the reference (score near 0.5), and
small samples are pulled gently towards "no preference". The reference also fixes the scale,
so no renormalisation is needed. ``prior=0`` gives the plain maximum-likelihood fit, which
exists only if every outcome has won and lost at least once (Hunter 2004, Assumption 1).

Score on 0-1, as in All Our Ideas: the chance that the outcome beats a randomly chosen other
outcome, mean over j != i of p_i / (p_i + p_j).

"Can't decide" answers are not a win for either side and do not enter the model (All Our
Ideas practice), but they count in ``appearances`` and ``ties``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from codesign.voting.ballots import GroupTally

BT_PRIOR = 0.5  # virtual wins, and as many virtual losses, against the reference outcome
_TOLERANCE = 1e-12  # stop when no log-strength moves by more than this in a cycle
_MAX_CYCLES = 10_000


def _log_likelihood(theta: np.ndarray, pairs: tuple[np.ndarray, ...], prior: float) -> float:
    """Log-likelihood of log-strengths ``theta``, including the reference pseudo-counts.

    ``pairs`` = (winners, losers, counts) of the non-zero cells of the wins matrix.
    """
    winners, losers, counts = pairs
    # log P(i beats j) = -log(1 + exp(-(theta_i - theta_j))), computed stably.
    total = float(-(counts * np.logaddexp(0.0, theta[losers] - theta[winners])).sum())
    # prior wins (log P = -log(1 + e^-theta)) and losses (log P = -log(1 + e^theta)).
    return total - prior * float((np.logaddexp(0.0, -theta) + np.logaddexp(0.0, theta)).sum())


def _mm_step(theta: np.ndarray, compared: np.ndarray, won: np.ndarray, prior: float) -> np.ndarray:
    """One MM update (Hunter 2004, eq. 3) in log-strength space."""
    strength = np.exp(theta)
    pair_sums = strength[:, None] + strength[None, :]
    # Each outcome also has 2 x prior virtual comparisons with the reference (strength 1).
    denominator = (compared / pair_sums).sum(axis=1) + 2 * prior / (strength + 1.0)
    updated = np.log(won) - np.log(denominator)
    if prior == 0:
        updated -= updated.mean()  # no reference: fix the scale, geometric mean 1
    return np.asarray(updated)


def fit_bradley_terry(wins: np.ndarray, prior: float = BT_PRIOR) -> np.ndarray:
    """Strengths p from a wins matrix (wins[i, j] = times i was chosen over j) by MM.

    The MM map is accelerated with SQUAREM (Varadhan & Roland 2008, "Simple and globally
    convergent methods for accelerating the convergence of any EM algorithm", Scand. J.
    Statist. 35:335-353): plain MM converges linearly and needs thousands of steps on sparse
    comparison data. SQUAREM extrapolates along two MM steps and keeps the result only if the
    likelihood does not fall below the plain MM result, so the fixed point (the maximum of the
    penalised likelihood) is the same as plain MM's.
    """
    wins = np.asarray(wins, dtype=np.float64)
    n = wins.shape[0]
    if n == 0:
        return np.zeros(0)
    if prior < 0:
        raise ValueError("prior must be 0 or more")
    if prior == 0 and ((wins.sum(axis=1) == 0) | (wins.sum(axis=0) == 0)).any():
        raise ValueError(
            "without a prior every outcome must have won and lost at least once "
            "(the maximum-likelihood strengths do not exist otherwise)"
        )
    compared = wins + wins.T
    won = wins.sum(axis=1) + prior
    winners, losers = np.nonzero(wins)
    pairs = (winners, losers, wins[winners, losers])
    theta = np.zeros(n)
    for _ in range(_MAX_CYCLES):
        first = _mm_step(theta, compared, won, prior)
        second = _mm_step(first, compared, won, prior)
        r, v = first - theta, second - 2 * first + theta
        v_norm = float(np.sqrt((v * v).sum()))
        candidate = second
        if v_norm > 0:
            alpha = min(-float(np.sqrt((r * r).sum())) / v_norm, -1.0)
            jumped = _mm_step(theta - 2 * alpha * r + alpha * alpha * v, compared, won, prior)
            if np.isfinite(jumped).all() and _log_likelihood(jumped, pairs, prior) >= _log_likelihood(
                second, pairs, prior
            ):
                candidate = jumped
        change = float(np.abs(candidate - theta).max())
        theta = candidate
        if change < _TOLERANCE:
            break
    return np.asarray(np.exp(theta))


def bradley_terry_scores(strength: np.ndarray) -> np.ndarray:
    """Chance to beat a randomly chosen other outcome: mean_j!=i p_i / (p_i + p_j)."""
    n = len(strength)
    if n < 2:
        return np.full(n, 0.5)
    share = strength[:, None] / (strength[:, None] + strength[None, :])
    np.fill_diagonal(share, 0.0)
    return np.asarray(share.sum(axis=1) / (n - 1))


def tally_pairwise_group(
    participant: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    choice: np.ndarray,
    n_outcomes: int,
) -> GroupTally:
    """Wins, losses, ties, appearances and Bradley-Terry scores for one group's answers."""
    decided = choice < 2
    winner = np.where(choice == 0, left, right)[decided]
    loser = np.where(choice == 0, right, left)[decided]
    wins = np.bincount(winner * n_outcomes + loser, minlength=n_outcomes * n_outcomes)
    wins = wins.reshape(n_outcomes, n_outcomes)
    undecided = ~decided
    ties = np.bincount(left[undecided], minlength=n_outcomes) + np.bincount(right[undecided], minlength=n_outcomes)
    appearances = np.bincount(left, minlength=n_outcomes) + np.bincount(right, minlength=n_outcomes)
    seen = np.unique(np.concatenate([participant * n_outcomes + left, participant * n_outcomes + right]))
    seen_by = np.bincount(seen % n_outcomes, minlength=n_outcomes)
    scores = bradley_terry_scores(fit_bradley_terry(wins))
    details: list[dict[str, Any]] = [
        {
            "n": int(seen_by[i]),
            "wins": int(wins[i].sum()),
            "losses": int(wins[:, i].sum()),
            "ties": int(ties[i]),
            "appearances": int(appearances[i]),
        }
        for i in range(n_outcomes)
    ]
    return GroupTally(
        scores=[Fraction(float(s)) for s in scores],
        secondary=None,
        details=details,
        preferences=None,
        kendall=None,
    )


def next_pair(
    outcomes: Sequence[str],
    appearances: Mapping[str, int],
    answered: set[frozenset[str]],
    rng: random.Random,
) -> tuple[str, str] | None:
    """The next pair to show a participant, or None when they have answered every pair.

    Less-seen outcomes are shown more, as All Our Ideas does to spread information over new
    ideas (Salganik & Levy 2015): the first outcome is drawn with weight 1 / (1 + times shown
    so far, all participants), among outcomes that still have a pair this participant has not
    answered; the second is drawn the same way among its partners not yet paired with it for
    this participant. A pair is never repeated for a participant. Left and right are then
    swapped at random so neither side is favoured. Deterministic for a seeded ``rng``.
    """
    if len(set(outcomes)) != len(outcomes):
        raise ValueError("outcomes must not repeat")

    def weight(outcome: str) -> float:
        return 1.0 / (1.0 + max(int(appearances.get(outcome, 0)), 0))

    partners = {a: [b for b in outcomes if b != a and frozenset((a, b)) not in answered] for a in outcomes}
    firsts = [a for a in outcomes if partners[a]]
    if not firsts:
        return None
    first = rng.choices(firsts, weights=[weight(a) for a in firsts])[0]
    second = rng.choices(partners[first], weights=[weight(b) for b in partners[first]])[0]
    if rng.random() < 0.5:
        return second, first
    return first, second
