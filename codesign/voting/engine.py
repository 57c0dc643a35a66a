"""``tally()``: from a round's ballots to its results.

Pipeline: validate and code the ballots (ballots.py) -> per group, the method's scores,
counts, pairwise preferences and Kendall's W (rating.py, ranking.py, points.py,
pairwise.py) -> group ranks, combined score and rank, Schulze and Borda orders (combine.py,
schulze.py) -> consensus for rating rounds (consensus.py) -> agreement between groups
(agreement.py). The order rules are documented in combine.py and docs/results-schema.md.

Determinism: participants, groups and outcomes are sorted before counting and scores are
exact fractions until output, so the same ballots in any row order give identical results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import pandas as pd

from codesign.voting.agreement import disagreements, kendall_w_between
from codesign.voting.ballots import GroupTally, prepare_pairwise, prepare_scored
from codesign.voting.combine import (
    normalise_weights,
    order_key,
    rank_points,
    ranks_from_keys,
    weighted_mean,
)
from codesign.voting.consensus import classify
from codesign.voting.pairwise import tally_pairwise_group
from codesign.voting.points import tally_points_group
from codesign.voting.ranking import tally_ranking_group
from codesign.voting.rating import tally_rating_group
from codesign.voting.results import (
    Agreement,
    GroupInfo,
    GroupOutcome,
    OutcomeResult,
    Results,
)
from codesign.voting.schulze import borda_ranks, schulze_ranks, weighted_preferences
from codesign.voting.types import (
    COMBINES,
    DEFAULT_RULE,
    METHODS,
    Combine,
    Consensus,
    ConsensusRule,
    Method,
    MethodOptions,
)


def tally(
    ballots: pd.DataFrame,
    method: Method,
    *,
    outcomes: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    combine: Combine = "weighted",
    rule: ConsensusRule = DEFAULT_RULE,
    options: MethodOptions = MethodOptions(),  # noqa: B008 - frozen, so a shared default is safe
    labels: Mapping[str, str] | None = None,
) -> Results:
    """Count one round.

    ``ballots``: columns participant, group, outcome, value (rating 1-9 or missing =
    unable; ranking position 1..k; points allocation) or, for pairwise, participant, group,
    left, right, choice ("left", "right" or "none"). ``outcomes``: every outcome on the
    ballot, so that one nobody voted for still appears (default: those in the ballots, sorted).
    ``weights``: group -> weight (default equal). ``labels``: outcome -> wording, used by the
    alphabetical tie-break when outcomes are keyed by id (the app); default: the key itself.
    Invalid ballots raise ValueError.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if combine not in COMBINES:
        raise ValueError(f"unknown combine {combine!r}; expected one of {', '.join(COMBINES)}")
    if not isinstance(rule, ConsensusRule) or not isinstance(options, MethodOptions):
        raise TypeError("rule must be a ConsensusRule and options a MethodOptions")

    tallies: list[GroupTally] = []
    sizes: list[int] = []
    if method == "pairwise":
        answers = prepare_pairwise(ballots, outcomes)
        names, groups = answers.outcomes, answers.groups
        row_group = answers.row_group()
        for g in range(len(groups)):
            rows = row_group == g
            sizes.append(int((answers.participant_group == g).sum()))
            tallies.append(
                tally_pairwise_group(
                    answers.participant[rows],
                    answers.left[rows],
                    answers.right[rows],
                    answers.choice[rows],
                    len(names),
                )
            )
    else:
        matrix = prepare_scored(ballots, method, outcomes, options)
        names, groups = matrix.outcomes, matrix.groups
        for g in range(len(groups)):
            values = matrix.group_rows(g)
            sizes.append(values.shape[0])
            if method == "rating":
                tallies.append(tally_rating_group(values))
            elif method == "ranking":
                tallies.append(tally_ranking_group(values, matrix.depth))
            else:
                tallies.append(tally_points_group(values, matrix.depth))
    return _assemble(method, combine, rule, options, names, groups, sizes, tallies, weights, labels)


def _assemble(
    method: Method,
    combine: Combine,
    rule: ConsensusRule,
    options: MethodOptions,
    names: tuple[str, ...],
    groups: tuple[str, ...],
    sizes: list[int],
    tallies: list[GroupTally],
    weights: Mapping[str, float] | None,
    labels: Mapping[str, str] | None = None,
) -> Results:
    w = normalise_weights(weights, groups)
    wording = [(labels or {}).get(name, name) for name in names]
    by_group = dict(zip(groups, tallies, strict=True))
    n = len(names)

    def secondary_of(t: GroupTally, i: int) -> Fraction | None:
        return t.secondary[i] if t.secondary is not None else None

    group_ranks: dict[str, list[int]] = {}
    for group, t in by_group.items():
        schulze_g = schulze_ranks(t.preferences) if t.preferences is not None else None
        keys = [
            order_key(
                wording[i],
                t.scores[i],
                secondary_of(t, i),
                schulze_g[i] if schulze_g is not None else None,
                key=names[i],
            )
            for i in range(n)
        ]
        group_ranks[group] = ranks_from_keys(keys)

    combined = [weighted_mean({g: t.scores[i] for g, t in by_group.items()}, w) for i in range(n)]
    secondary = [weighted_mean({g: secondary_of(t, i) for g, t in by_group.items()}, w) for i in range(n)]
    schulze: list[int] | None = None
    borda: list[int] | None = None
    if tallies and all(t.preferences is not None for t in tallies):
        d = weighted_preferences(
            [t.preferences for t in tallies if t.preferences is not None],
            sizes,
            [float(w[g]) for g in groups],
        )
        schulze, borda = schulze_ranks(d), borda_ranks(d)
    points = rank_points(group_ranks, w, n) if combine == "rank_of_ranks" else None
    final_ranks = ranks_from_keys(
        [
            order_key(
                wording[i],
                combined[i],
                secondary[i],
                schulze[i] if schulze is not None else None,
                points[i] if points is not None else None,
                key=names[i],
            )
            for i in range(n)
        ]
    )

    results: list[OutcomeResult] = []
    for i, name in enumerate(names):
        consensus: Consensus | None = None
        important_to: tuple[str, ...] = ()
        if method == "rating":
            consensus, important_to = classify(
                {g: t.consensus[i] for g, t in by_group.items() if t.consensus is not None}, rule
            )
        score = combined[i]
        results.append(
            OutcomeResult(
                outcome=name,
                rank=final_ranks[i],
                score=float(score) if score is not None else None,
                consensus=consensus,
                important_to=important_to,
                schulze_rank=schulze[i] if schulze is not None else None,
                borda_rank=borda[i] if borda is not None else None,
                rank_points=float(points[i]) if points is not None else None,
                groups={g: _group_outcome(t, i, group_ranks[g][i]) for g, t in by_group.items()},
            )
        )
    results.sort(key=lambda r: r.rank)
    agreement = Agreement(
        kendall_w={g: t.kendall for g, t in by_group.items()},
        between_groups=kendall_w_between({g: t.scores for g, t in by_group.items()}),
        disagreements=disagreements(group_ranks, names, final_ranks),
    )
    return Results(
        method=method,
        combine=combine,
        rule=rule,
        options=options,
        groups={
            g: GroupInfo(n=size, weight=float(w[g]), small=size < rule.min_group_size)
            for g, size in zip(groups, sizes, strict=True)
        },
        outcomes=tuple(results),
        agreement=agreement,
    )


def _group_outcome(t: GroupTally, i: int, rank: int) -> GroupOutcome:
    score = t.scores[i]
    return GroupOutcome(score=float(score) if score is not None else None, rank=rank, **t.details[i])
