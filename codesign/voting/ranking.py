"""Ranking top-k with Borda points, as in James Lind Alliance priority setting and Slido.

Each participant orders the k outcomes most important to them. Position p of k earns
k - p + 1 points and an unranked outcome 0: this is the Borda count (Jean-Charles de Borda,
1781; for top-k ballots the "truncated" Borda count with 0 for unranked). The group score on
0-1 is the group's points per participant divided by k:

    score = sum of points / (participants in the group x k)

Dividing by everyone in the group, not by those who ranked the outcome, means turnout is not
rewarded (DESIGN section 3): an outcome one person ranked first does not beat one everybody
ranked second. Per group we also report the mean points, how many ranked it at all and how
many ranked it first (the first-place share is the tie-break after the score).

Positions need not be contiguous: a paper ballot that ranks positions 1 and 3 scores k and
k - 2 (the skipped position is simply unused). A position used twice by one participant, or
outside 1..k, is refused.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from codesign.voting.agreement import kendall_w
from codesign.voting.ballots import GroupTally
from codesign.voting.schulze import preference_counts


def borda_points(positions: np.ndarray, k: int) -> np.ndarray:
    """k - p + 1 for a ranked position p, 0 where position is 0 (not ranked)."""
    return np.where(positions > 0, k - positions + 1, 0).astype(np.int64)


def tally_ranking_group(positions: np.ndarray, k: int) -> GroupTally:
    """Scores and agreement for one group's positions (participants x outcomes, 0 = unranked)."""
    n_people, n_outcomes = positions.shape
    points = borda_points(positions, k)
    totals = points.sum(axis=0)
    times_ranked = (positions > 0).sum(axis=0)
    first_places = (positions == 1).sum(axis=0)
    scores: list[Fraction | None] = []
    secondary: list[Fraction | None] = []
    details: list[dict[str, Any]] = []
    for i in range(n_outcomes):
        total = int(totals[i])
        scores.append(Fraction(total, n_people * k) if n_people else None)
        secondary.append(Fraction(int(first_places[i]), n_people) if n_people else None)
        details.append(
            {
                "n": n_people,
                "mean_points": total / n_people if n_people else None,
                "times_ranked": int(times_ranked[i]),
                "first_places": int(first_places[i]),
            }
        )
    return GroupTally(
        scores=scores,
        secondary=secondary,
        details=details,
        # Borda points are the weak order: unranked outcomes share 0 and tie at the bottom.
        preferences=preference_counts(points, lowest=0),
        kendall=kendall_w(points),
    )
