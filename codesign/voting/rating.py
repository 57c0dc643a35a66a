"""Rating 1-9: the GRADE scale as used in COMET core outcome set Delphi studies.

Each participant scores each outcome 1-9 (1-3 not important, 4-6 important but not critical,
7-9 critical; GRADE Working Group, Guyatt et al. 2011; COMET Handbook, Williamson et al. 2017)
or says they are unable to score it.

Per group and outcome:
- ``n`` = scored answers; "unable" answers are reported (``pct_unable``, of all answers given)
  but excluded from the mean, the median and the 7-9 / 1-3 percentages, as COMET Delphi
  studies do;
- score on 0-1 = (mean of scored answers - 1) / 8, so 1 -> 0 and 9 -> 1; None when nobody in
  the group scored it;
- median: the middle scored answer, or the mean of the two middle ones (so it can be x.5);
- distribution: counts of 1..9, then the count of "unable".
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from codesign.voting.agreement import complete_block, kendall_w
from codesign.voting.ballots import GroupTally
from codesign.voting.consensus import GroupCounts
from codesign.voting.schulze import preference_counts

_CODES = 11  # -1 (no answer), 0 (unable), 1..9


def _median(counts: np.ndarray) -> float:
    """Median of the values 1..9 given their counts (counts.sum() > 0)."""
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    low = int(np.searchsorted(cumulative, (n - 1) // 2, side="right")) + 1
    high = int(np.searchsorted(cumulative, n // 2, side="right")) + 1
    return (low + high) / 2


def tally_rating_group(codes: np.ndarray) -> GroupTally:
    """Counts, scores and agreement for one group's rating codes (participants x outcomes)."""
    n_outcomes = codes.shape[1]
    column = np.broadcast_to(np.arange(n_outcomes, dtype=np.int64), codes.shape)
    counted = np.bincount(
        (column * _CODES + codes.astype(np.int64) + 1).ravel(), minlength=n_outcomes * _CODES
    ).reshape(n_outcomes, _CODES)
    unable = counted[:, 1]
    by_score = counted[:, 2:]  # columns are ratings 1..9
    scored = by_score.sum(axis=1)
    totals = by_score @ np.arange(1, 10, dtype=np.int64)
    rated_7_9 = by_score[:, 6:].sum(axis=1)
    rated_1_3 = by_score[:, :3].sum(axis=1)

    scores: list[Fraction | None] = []
    secondary: list[Fraction | None] = []
    details: list[dict[str, Any]] = []
    consensus: list[GroupCounts] = []
    for i in range(n_outcomes):
        n, total = int(scored[i]), int(totals[i])
        answered = n + int(unable[i])
        counts = GroupCounts(scored=n, rated_7_9=int(rated_7_9[i]), rated_1_3=int(rated_1_3[i]))
        consensus.append(counts)
        scores.append(Fraction(total - n, 8 * n) if n else None)
        secondary.append(counts.share_7_9())
        details.append(
            {
                "n": n,
                "mean": total / n if n else None,
                "median": _median(by_score[i]) if n else None,
                "pct_7_9": 100 * counts.rated_7_9 / n if n else None,
                "pct_1_3": 100 * counts.rated_1_3 / n if n else None,
                "pct_unable": 100 * int(unable[i]) / answered if answered else None,
                "distribution": (*(int(c) for c in by_score[i]), int(unable[i])),
            }
        )
    # Kendall's W over the largest complete block of scored answers (see agreement.py for why).
    raters, items = complete_block(codes >= 1)
    complete = codes[np.ix_(raters, items)]
    return GroupTally(
        scores=scores,
        secondary=secondary,
        details=details,
        preferences=preference_counts(codes, lowest=1),
        kendall=kendall_w(complete),
        consensus=consensus,
    )
