"""Points allocation: dot voting (a fixed budget of dots, e.g. 10, or "100 points").

Each participant spreads a budget over the outcomes, optionally at most ``max_per_outcome``
on any one (cumulative voting; dot voting as used in workshops and by NHS engagement teams).
Participants who gave an outcome nothing count as 0, so the group score on 0-1 is

    score = mean allocation over everyone in the group / budget

A participant who spent less than the budget is not scaled up: unspent dots are simply unspent
(turnout and enthusiasm are not rewarded, as in the ranking method). ``times_given`` counts the
participants who gave the outcome at least one point.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from codesign.voting.agreement import kendall_w
from codesign.voting.ballots import GroupTally
from codesign.voting.schulze import preference_counts


def tally_points_group(allocations: np.ndarray, budget: int) -> GroupTally:
    """Scores and agreement for one group's allocations (participants x outcomes)."""
    n_people, n_outcomes = allocations.shape
    totals = allocations.sum(axis=0)
    times_given = (allocations > 0).sum(axis=0)
    scores: list[Fraction | None] = []
    details: list[dict[str, Any]] = []
    for i in range(n_outcomes):
        total = int(totals[i])
        scores.append(Fraction(total, n_people * budget) if n_people else None)
        details.append(
            {
                "n": n_people,
                "mean_allocation": total / n_people if n_people else None,
                "times_given": int(times_given[i]),
            }
        )
    return GroupTally(
        scores=scores,
        secondary=None,
        details=details,
        preferences=preference_counts(allocations, lowest=0),
        kendall=kendall_w(allocations),
    )
