"""Pairwise preferences, the Schulze (Condorcet) order and the Borda order of weak orders.

The Schulze method (Schulze 2011, "A new monotonic, clone-independent, reversal symmetric,
and Condorcet-consistent single-winner election method", Social Choice and Welfare 36:267-303)
reads each ballot as a weak order, counts d[X, Y] = the number of ballots preferring X to Y,
and ranks X above Y when the strongest path from X to Y is stronger than the strongest path
back. Link strength is "winning votes": the link X->Y has strength d[X, Y] when
d[X, Y] > d[Y, X] and does not exist otherwise (Schulze 2011, section 2; the Wikipedia
example of 45 voters over A-E gives E > A > C > B > D and is a test here). Strongest paths are
found with the Floyd-Warshall widest-path algorithm, vectorised over one intermediate at a time.

How ballots become weak orders:
- ranking: lower position preferred; outcomes a ballot did not rank tie at its bottom;
- rating: higher rating preferred; an outcome a participant did not score ("unable" or no
  answer) expresses no preference against anything, so those pairs are not counted;
- points: more points preferred; outcomes given nothing tie at the bottom.

Across groups, each group's counts are divided by its size and multiplied by its weight, so a
group's influence on the Schulze order follows the round's group weights (equal by default),
not its headcount. Weighted counts are rounded to 12 decimal places before comparison so that
mathematically equal sums that differ in the last floating-point bit compare equal.

The Borda order reported beside it is the Borda count of the same weak orders: each ballot
gives an outcome one point per outcome it is preferred to and half a point per tie, which
orders outcomes exactly as the net preference sum_j (d[i, j] - d[j, i]) does.

Both orders are "competition" ranks: 1 + the number of outcomes strictly ahead, so ties share
a rank (1, 2, 2, 4). Schulze's relation is transitive (Schulze 2011, section 4.1), so an
outcome beaten by X is also beaten by everything that beats X and sits strictly lower.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Above this many distinct levels, comparing columns directly is cheaper than one matrix
# product per level.
_MAX_LEVELS_FOR_MATMUL = 16


def preference_counts(levels: np.ndarray, lowest: float) -> np.ndarray:
    """d[i, j] = number of rows (ballots) with levels[:, i] > levels[:, j].

    ``levels`` is ballots x outcomes, higher = preferred. Entries below ``lowest`` take part in
    no pair at all (rating: unable or no answer). Returns an int64 outcomes x outcomes array.
    """
    n_rows, n_items = levels.shape
    counts = np.zeros((n_items, n_items), dtype=np.int64)
    if n_rows == 0 or n_items < 2:
        return counts
    present = _levels_present(levels, lowest)
    if len(present) <= _MAX_LEVELS_FOR_MATMUL:
        # d = sum over levels l of X_l^T @ B_l, where X_l marks cells at level l and B_l
        # marks valid cells below l. float32 sums of 0/1 products are exact below 2**24 rows.
        dtype = np.float32 if n_rows < 2**24 else np.float64
        below = np.zeros(levels.shape, dtype=dtype)
        total = np.zeros((n_items, n_items), dtype=np.float64)
        for level in present:
            at_level = (levels == level).astype(dtype)
            if below.any():
                total += at_level.T @ below
            below += at_level
        return np.rint(total).astype(np.int64)
    # Row i of `winner` against all of `loser`, outcomes by rows (contiguous, and for whole numbers
    # the smallest integer type that holds them): an entry below `lowest` is the least value as a
    # winner and the greatest as a loser, so it wins and loses nothing, with no mask to apply.
    least, greatest, kind = _stand_ins(levels, lowest)
    valid = levels >= lowest
    winner = np.ascontiguousarray(np.where(valid, levels, least).T, dtype=kind)
    loser = np.ascontiguousarray(np.where(valid, levels, greatest).T, dtype=kind)
    for i in range(n_items):
        counts[i] = np.count_nonzero(winner[i] > loser, axis=1)
    return counts


def _stand_ins(levels: np.ndarray, lowest: float) -> tuple[float, float, Any]:
    """Values below and above every level >= lowest, and a type holding them and the levels:
    the smallest signed integer type with room to spare for integers, float64 otherwise."""
    if not np.issubdtype(levels.dtype, np.integer):
        return -np.inf, np.inf, np.float64
    valid = levels[levels >= lowest]
    least, most = (int(valid.min()), int(valid.max())) if valid.size else (0, 0)
    for kind in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(kind)
        if info.min < least and most < info.max:
            return info.min, info.max, kind
    raise ValueError("levels out of the range of 64-bit integers")


def _levels_present(levels: np.ndarray, lowest: float) -> list[Any]:
    """Distinct values >= lowest, ascending: a bincount for small whole numbers (ratings, Borda
    points), a sort otherwise."""
    low, high = levels.min(), levels.max()
    if not np.issubdtype(levels.dtype, np.integer) or int(high) - int(low) > 4 * levels.size + 1024:
        return [v for v in np.unique(levels).tolist() if v >= lowest]
    seen = np.bincount((levels.astype(np.int64) - int(low)).ravel())
    return [int(v) + int(low) for v in np.flatnonzero(seen) if int(v) + int(low) >= lowest]


def strongest_paths(d: np.ndarray) -> np.ndarray:
    """p[i, j] = strength of the strongest path from i to j (winning-votes links)."""
    d = np.asarray(d, dtype=np.float64)
    p = np.where(d > d.T, d, 0.0)
    np.fill_diagonal(p, 0.0)
    for k in range(p.shape[0]):
        # Widest path through k: the weakest link of i->k->j, kept if it beats i->j.
        np.maximum(p, np.minimum(p[:, k : k + 1], p[k : k + 1, :]), out=p)
    np.fill_diagonal(p, 0.0)
    return p


def schulze_ranks(d: np.ndarray) -> list[int]:
    """Competition ranks in the Schulze order: 1 + number of outcomes that beat this one."""
    if d.shape[0] == 0:
        return []
    p = strongest_paths(d)
    beaten_by = (p < p.T).sum(axis=1)
    return [int(b) + 1 for b in beaten_by]


def borda_ranks(d: np.ndarray) -> list[int]:
    """Competition ranks by Borda count of the weak orders (net preference)."""
    net = np.round(np.asarray(d, dtype=np.float64).sum(axis=1) - d.sum(axis=0), 12)
    return [int((net > value).sum()) + 1 for value in net]


def weighted_preferences(per_group: list[np.ndarray], sizes: list[int], weights: list[float]) -> np.ndarray:
    """sum over groups of weight x d_group / group size, rounded to 12 decimals (see above)."""
    n_items = per_group[0].shape[0] if per_group else 0
    total = np.zeros((n_items, n_items), dtype=np.float64)
    for counts, size, weight in zip(per_group, sizes, weights, strict=True):
        if size > 0 and weight > 0:
            total += counts * (weight / size)
    return np.round(total, 12)
