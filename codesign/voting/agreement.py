"""Agreement: Kendall's W within and between groups, and where groups disagree most.

Kendall's coefficient of concordance W (Kendall & Babington Smith 1939, "The problem of m
rankings", Ann. Math. Statist. 10:275-287) measures how far m raters agree on the order of
n items: 0 = no agreement, 1 = identical orders. Tied items get the average of the ranks they
span, and the tie-corrected form is used:

    W = 12 S / (m^2 (n^3 - n) - m sum_raters sum_ties (t^3 - t))

where S = sum_i (R_i - m (n + 1) / 2)^2 and R_i is item i's rank sum. The Friedman test
statistic (Friedman 1937, "The use of ranks to avoid the assumption of normality implicit in
the analysis of variance", J. Amer. Statist. Assoc. 32:675-701) is chi2 = m (n - 1) W with
n - 1 degrees of freedom (with this W it equals Friedman's tie-corrected statistic); the
p-value is the chi-square upper tail. W is undefined,
and reported as None (never NaN), when m < 2, n < 2 or every rater ties every item.

Raters and items per method (within a group):
- rating: W over a complete block of participants x outcomes (``complete_block``): what is
  left once participants and outcomes with "I cannot score this" (or missing) answers are set
  aside, choosing what to set aside so that as many answers as possible are kept. Why a
  complete block rather than a missing-data correction (a mid rank imputed for a missing
  answer, or W over incomplete rankings): the Friedman chi-square and its p-value hold only for
  complete blocks, and an imputed middle rank would count as agreement nobody expressed. Why
  not complete raters only (what this did before): when everyone could not score the same
  outcome, or each a different one, there is no complete rater and W would be missing; setting
  aside the outcome many could not score keeps everyone else. The answers set aside still count
  in every score. ``raters`` and ``items`` say how many were used;
- ranking: every participant, unranked outcomes tied last;
- points: every participant, outcomes ranked by allocation, zeros tied last;
- pairwise: None (there are no complete rankings to compare).
Between groups the raters are the groups and the items the outcomes every group scored,
ranked by group score (ties averaged).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from codesign.voting.results import Disagreement, KendallResult

TOP_DISAGREEMENTS = 5


def chi2_sf(df: int, x: float) -> float:
    """P(X >= x) for X chi-squared with a whole number `df` of degrees of freedom (scipy's
    `chi2.sf`, to ~1e-12 relative; tests/voting compares them). Kendall's W needs nothing else from
    scipy, and importing scipy.special costs about 0.4 s of every `codesign tally`, a fifth of the
    2 s a national round's count may take. The closed forms (Abramowitz and Stegun 26.4.4 and
    26.4.5): even df, e^(-x/2) times the sum of (x/2)^i / i! for i < df/2; odd df, erfc(sqrt(x/2))
    plus e^(-x/2) times the sum of (x/2)^(i-1/2) / Gamma(i+1/2) for 1 <= i <= (df-1)/2. Each term
    is taken through its logarithm, so nothing overflows for large x or df."""
    if df < 1:
        raise ValueError("df must be 1 or more")
    half = x / 2.0
    if half <= 0:  # x at or below zero (or so small that half of it is)
        return 1.0
    log_half = math.log(half)
    if df % 2 == 0:
        total = sum(math.exp(-half + i * log_half - math.lgamma(i + 1)) for i in range(df // 2))
    else:
        total = math.erfc(math.sqrt(half)) + sum(math.exp(-half + (i - 0.5) * log_half - math.lgamma(i + 0.5))
                                                 for i in range(1, (df - 1) // 2 + 1))
    return min(1.0, total)


def kendall_w(levels: np.ndarray) -> KendallResult | None:
    """Kendall's W for a raters x items array of levels (higher = preferred, equal = tie)."""
    levels = np.asarray(levels)
    if levels.ndim != 2:
        raise ValueError("kendall_w needs a raters x items array")
    m, n = levels.shape
    if m < 2 or n < 2:
        return None
    distinct, coded = np.unique(levels, return_inverse=True)
    coded = coded.reshape(m, n)
    n_levels = len(distinct)
    rows = np.arange(m)[:, None]
    # Per rater, how many items sit at each level: gives average ranks and tie sizes at once.
    at_level = np.bincount((rows * n_levels + coded).ravel(), minlength=m * n_levels)
    at_level = at_level.reshape(m, n_levels)
    below = np.cumsum(at_level, axis=1) - at_level
    ranks = below[rows, coded] + (at_level[rows, coded] + 1) / 2.0
    rank_sums = ranks.sum(axis=0)
    s = float(((rank_sums - m * (n + 1) / 2.0) ** 2).sum())
    ties = int((at_level.astype(np.int64) ** 3 - at_level).sum())
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        return None  # every rater tied every item: there is no order to agree on
    w = 12.0 * s / denominator
    chi2 = m * (n - 1) * w
    return KendallResult(
        w=w,
        chi2=chi2,
        df=n - 1,
        p_value=chi2_sf(n - 1, chi2),
        raters=m,
        items=n,
    )


def complete_block(answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The raters (rows) and items (columns) of a raters x items array of "has an answer" flags
    whose sub-array is complete, as large as this finds (the exact largest is a maximum biclique,
    NP-hard in general). Candidates, best kept:
    - for each t, the items at most t raters left unanswered, with the raters who answered all of
      them (t = the most gaps: "complete raters only"; t = 0: only fully answered items);
    - greedy: while a gap remains, set aside the line (row or column) with the most gaps; ties go
      to the line whose removal loses fewer answers, then to a rater, then to the lower index.
    Best = at least two raters and two items if any candidate has them, then most answers, then
    most raters, then the earlier candidate. Deterministic: the same ballots give the same W."""
    answered = np.asarray(answered, dtype=bool)
    candidates = []
    col_gaps = (~answered).sum(axis=0)
    for t in sorted(set(col_gaps.tolist())):
        cols = np.flatnonzero(col_gaps <= t)
        rows = np.flatnonzero(answered[:, cols].all(axis=1))
        candidates.append((rows, cols))
    candidates.append(_greedy_block(answered))

    def key(block: tuple[np.ndarray, np.ndarray]) -> tuple[bool, int, int]:
        rows, cols = block
        return rows.size >= 2 and cols.size >= 2, rows.size * cols.size, rows.size

    if not candidates:
        return np.arange(answered.shape[0]), np.arange(0)
    return max(candidates, key=key)  # max keeps the first of equals


def _greedy_block(answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(answered.shape[0])
    cols = np.arange(answered.shape[1])
    missing = ~answered
    # Gaps per line of the remaining block, kept up to date as lines are set aside (recounting the
    # whole block for each of 20,000 raters took seconds).
    row_gaps = missing.sum(axis=1).astype(np.int64)
    col_gaps = missing.sum(axis=0).astype(np.int64)
    while rows.size and cols.size:
        if not row_gaps.any():
            break
        # (gaps, -answers lost, rater first, -index): the largest key is set aside. Within rows (or
        # columns) the answers lost fall as the gaps grow, so that is the most gaps, lowest index.
        r = int(np.argmax(row_gaps))
        c = int(np.argmax(col_gaps))
        if (row_gaps[r], -(cols.size - row_gaps[r]), 1) >= (col_gaps[c], -(rows.size - col_gaps[c]), 0):
            col_gaps -= missing[rows[r], cols]
            rows, row_gaps = np.delete(rows, r), np.delete(row_gaps, r)
        else:
            row_gaps -= missing[rows, cols[c]]
            cols, col_gaps = np.delete(cols, c), np.delete(col_gaps, c)
    return rows, cols


def kendall_w_between(scores: Mapping[str, Sequence[Fraction | None]]) -> KendallResult | None:
    """W with groups as raters, over the outcomes every group gave a score."""
    if len(scores) < 2:
        return None
    columns = list(scores.values())
    n_items = len(columns[0])
    complete = [i for i in range(n_items) if all(col[i] is not None for col in columns)]
    if not complete:
        return None
    levels = []
    for col in columns:
        values = [v for i in complete if (v := col[i]) is not None]
        # Exact fractions -> integer levels, so that equal scores tie exactly.
        level_of = {v: level for level, v in enumerate(sorted(set(values)))}
        levels.append([level_of[v] for v in values])
    return kendall_w(np.array(levels, dtype=np.int64))


def disagreements(
    group_ranks: Mapping[str, Sequence[int]],
    outcomes: Sequence[str],
    final_rank: Sequence[int],
    limit: int = TOP_DISAGREEMENTS,
) -> tuple[Disagreement, ...]:
    """Outcomes with the largest spread of group ranks (max - min), at most ``limit``.

    Ties in spread go to the better combined rank. Outcomes every group placed the same
    (spread 0) are not disagreements; with fewer than two groups there are none.
    """
    if len(group_ranks) < 2:
        return ()
    found = []
    for i, outcome in enumerate(outcomes):
        ranks = {group: int(values[i]) for group, values in group_ranks.items()}
        spread = max(ranks.values()) - min(ranks.values())
        if spread > 0:
            found.append((-spread, final_rank[i], Disagreement(outcome, spread, ranks)))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(item[2] for item in found[:limit])
