"""Group weights, combined scores, JLA rank of ranks, and the tie-breaking order.

Scores are kept as exact fractions until output, so ties are real ties and the order never
depends on the order in which floating-point numbers happened to be added.

Weights (DESIGN section 3): by default every group present counts 1/G whatever its
headcount. Given weights are read as the decimals written (0.1 = 1/10), must be finite and
non-negative, and are normalised to sum to 1 over the groups that have ballots. A group with a
weight but no ballots is ignored (it did not vote, so it neither counts nor dilutes the
others); ballots from a group with no weight, or weights of the groups present summing to 0,
raise ValueError.

Combined score ("weighted"): sum over groups of w_g x group score. In a rating round a group
can have no scored answer for an outcome (everyone "unable"); that outcome's combined score is
then the weighted mean over the groups that did score it (weights renormalised over them), and
None if no group with a weight above 0 did.

Rank of ranks ("rank_of_ranks", James Lind Alliance priority setting): each group's list is
ranked, rank r of N earns N - r + 1 points, and the points are added with multiplier
w_g x G (so equal weights mean plain sums). Higher total is better.

Tie-break (the same everywhere, within a group and combined):
1. higher score (rank of ranks: higher points first, then higher combined score);
2. rating: higher share of 7-9 answers; ranking: higher share of first places - both taken
   across groups with the group weights, so a large group does not decide ties;
3. better (lower) Schulze rank, where defined (not for pairwise);
4. outcome label (its wording), alphabetical ignoring case, then exact label, then its key.
Unscored outcomes (score None) come after all scored ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from codesign.voting.types import exact_share


def normalise_weights(weights: Mapping[str, float] | None, groups: Sequence[str]) -> dict[str, Fraction]:
    """Exact normalised weights for the groups present (see module docstring)."""
    if weights is None:
        return {group: Fraction(1, len(groups)) for group in groups}
    given: dict[str, Fraction] = {}
    for group, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f"weight for group {group!r} must be a number, got {weight!r}")
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weight for group {group!r} must be 0 or more, got {weight!r}")
        given[str(group)] = exact_share(weight)
    unweighted = [group for group in groups if group not in given]
    if unweighted:
        raise ValueError(
            f"ballots from group {unweighted[0]!r} but no weight is given for it "
            f"(weights given for: {', '.join(sorted(given)) or 'none'})"
        )
    total = sum((given[group] for group in groups), Fraction(0))
    if groups and total == 0:
        raise ValueError("the weights of the groups with ballots add up to 0")
    return {group: given[group] / total for group in groups}


def weighted_mean(values: Mapping[str, Fraction | None], weights: Mapping[str, Fraction]) -> Fraction | None:
    """sum w_g v_g over groups with a value, renormalised over them; None if none has one."""
    total = Fraction(0)
    weight_used = Fraction(0)
    for group, value in values.items():
        if value is not None:
            total += weights[group] * value
            weight_used += weights[group]
    if weight_used == 0:
        # Only groups with weight 0 (or none) scored it: nothing counts, so it is unscored.
        return None
    return total / weight_used


def rank_points(
    group_ranks: Mapping[str, Sequence[int]], weights: Mapping[str, Fraction], n_outcomes: int
) -> list[Fraction]:
    """JLA rank of ranks: sum over groups of (w_g x G) x (N - rank + 1), per outcome."""
    n_groups = len(group_ranks)
    totals = [Fraction(0)] * n_outcomes
    for group, ranks in group_ranks.items():
        multiplier = weights[group] * n_groups
        for i, rank in enumerate(ranks):
            totals[i] += multiplier * (n_outcomes - rank + 1)
    return totals


def order_key(
    label: str,
    score: Fraction | None,
    secondary: Fraction | None = None,
    schulze: int | None = None,
    points: Fraction | None = None,
    key: str = "",
) -> tuple[Any, ...]:
    """Sort key implementing the tie-break in the module docstring (ascending = better).
    `label` is the wording; `key` (the outcome's identifier) settles two identical wordings."""
    return (
        points is None,
        -(points or 0),
        score is None,
        -(score or 0),
        secondary is None,
        -(secondary or 0),
        schulze if schulze is not None else 0,
        label.casefold(),
        label,
        key,
    )


def ranks_from_keys(keys: Sequence[tuple[Any, ...]]) -> list[int]:
    """Strict ranks 1..N: position of each key in ascending order."""
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    ranks = [0] * len(keys)
    for position, i in enumerate(order, start=1):
        ranks[i] = position
    return ranks
