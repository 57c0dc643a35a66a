"""The result of a tally: plain frozen dataclasses of Python ints, floats and strings.

No pandas or numpy object escapes into these classes, so templates, exports and JSON encoders
can use them directly. Values are unrounded; rounding happens once, at output, in
:mod:`codesign.voting.report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codesign.voting.types import Combine, Consensus, ConsensusRule, Method, MethodOptions


@dataclass(frozen=True)
class GroupInfo:
    """A stakeholder group in the round: ``n`` participants with at least one ballot row,
    its normalised ``weight`` (weights of the groups present sum to 1) and whether it is
    ``small`` (n below the rule's ``min_group_size``; shown flagged, suppressed in public)."""

    n: int
    weight: float
    small: bool


@dataclass(frozen=True)
class GroupOutcome:
    """One outcome as seen by one group.

    ``score`` is the group score on 0-1 (None when the group gave the outcome no scored
    answer, rating only), ``rank`` its place in the group's list (1 = best, ties broken by the
    same rule as the combined list). ``n`` is the denominator behind the score: scored answers
    (rating), participants in the group (ranking, points) or participants who were shown the
    outcome at least once (pairwise). The remaining fields belong to one method each and are
    None for the others.
    """

    n: int
    score: float | None
    rank: int
    # rating (percentages 0-100 of scored answers; pct_unable of all answers given)
    mean: float | None = None
    median: float | None = None
    pct_7_9: float | None = None
    pct_1_3: float | None = None
    pct_unable: float | None = None
    distribution: tuple[int, ...] | None = None  # counts of 1..9, then "unable"
    # ranking
    mean_points: float | None = None
    times_ranked: int | None = None
    first_places: int | None = None
    # points
    mean_allocation: float | None = None
    times_given: int | None = None
    # pairwise
    wins: int | None = None
    losses: int | None = None
    ties: int | None = None
    appearances: int | None = None


@dataclass(frozen=True)
class OutcomeResult:
    """One outcome in the combined list.

    ``score`` is the weighted combined score on 0-1 (None only if no group scored it),
    ``rank`` the final place under the round's combination rule. ``rank_points`` is the JLA
    rank-of-ranks total (None for the weighted combination). ``consensus`` is None for
    methods other than rating. ``schulze_rank`` and ``borda_rank`` are the Condorcet (Schulze)
    and Borda orders of the same ballots, as a robustness check (None for pairwise).
    """

    outcome: str
    rank: int
    score: float | None
    consensus: Consensus | None
    important_to: tuple[str, ...]
    schulze_rank: int | None
    borda_rank: int | None
    rank_points: float | None
    groups: Mapping[str, GroupOutcome]


@dataclass(frozen=True)
class KendallResult:
    """Kendall's W with tie correction, and the matching Friedman chi-square test."""

    w: float
    chi2: float
    df: int
    p_value: float
    raters: int
    items: int


@dataclass(frozen=True)
class Disagreement:
    """An outcome the groups rank far apart: ``spread`` = max group rank - min group rank."""

    outcome: str
    spread: int
    ranks: Mapping[str, int]


@dataclass(frozen=True)
class Agreement:
    kendall_w: Mapping[str, KendallResult | None]
    between_groups: KendallResult | None
    disagreements: tuple[Disagreement, ...]


@dataclass(frozen=True)
class Results:
    method: Method
    combine: Combine
    rule: ConsensusRule
    options: MethodOptions
    groups: Mapping[str, GroupInfo]
    outcomes: tuple[OutcomeResult, ...]  # in final rank order
    agreement: Agreement
    schema_version: int = field(default=1)

    @property
    def order(self) -> list[str]:
        """Outcome names, best first."""
        return [o.outcome for o in self.outcomes]

    def outcome(self, name: str) -> OutcomeResult:
        for result in self.outcomes:
            if result.outcome == name:
                return result
        raise KeyError(name)

    def to_dict(self, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """JSON-ready dict; see docs/results-schema.md. ``labels`` maps outcome -> display
        text (default: the outcome itself)."""
        from codesign.voting.report import results_to_dict

        return results_to_dict(self, labels)

    def to_csv_rows(self, labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """One flat row per outcome in rank order, e.g. ``group.patient.score``."""
        from codesign.voting.report import results_to_csv_rows

        return results_to_csv_rows(self, labels)
