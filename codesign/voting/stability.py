"""Stability between consecutive rounds of a study: would another round change anything?

Delphi studies stop when answers are stable, not only when they agree (Dajani, Sincoff & Talley
1979, "Stability and agreement criteria for the termination of Delphi studies", Technological
Forecasting and Social Change 13:83-90). The usual working rule comes from Scheibe, Skutsch &
Schofer (1975, "Experiments in Delphi methodology", in Linstone & Turoff, The Delphi Method): a
change of less than 15% between rounds counts as stable; COMET Delphi studies apply it to the
share rating an outcome 7-9 in each stakeholder group (Williamson et al. 2017, COMET Handbook).

Between two rating rounds, over the outcomes in both (outcomes added or dropped are listed):
- each outcome's consensus category (in, out, none) before and after, and whether it changed;
- per group, the share rating it 7-9 before and after, and the change in percentage points.
  Shares are counted exactly from each group's distribution (scored answers only; "unable to
  score" left out), so "under 15 points" is decided on whole counts, never on float rounding; a
  group with no scored answer in either round has no change;
- a group is judged on an outcome only when it had at least the round's minimum group size of
  scored answers in both rounds (each round's own rule): between a round of 25 and one of 6, a
  group of one or two people moves 50 or 100 points when one person changes their mind, which says
  nothing about the panel. Such a group is listed but not judged, and the verdict says it rests on
  fewer people (no verdict at all when no group could be judged);
- Kendall's W per round, within each group and between groups, as the round's results give it
  (computed by ``codesign.voting.agreement``), so W rising and settling can be seen beside it.

Verdict rule: STABLE ("another round would change little") when no outcome changed consensus
category and every group's change in % rating 7-9, on every outcome in both rounds, is under 15
percentage points. Otherwise NOT STABLE, naming how many outcomes changed category and how many
moved 15 points or more. No verdict when either round has no rating results or no outcome is in
both: stability is defined on the 1-9 scale only.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from codesign.voting.results import GroupOutcome, Results
from codesign.voting.types import Consensus

STABLE_CHANGE_POINTS = 15  # percentage points: a change must be under this in every group
Verdict = Literal["stable", "not_stable", "no_verdict"]


@dataclass(frozen=True)
class GroupChange:
    group: str
    before: float | None  # % rating 7-9, 0-100
    after: float | None
    change: float | None  # after - before, percentage points
    large: bool  # |change| >= STABLE_CHANGE_POINTS (only for a judged group)
    judged: bool = True  # False: under the minimum group size in either round, so change is None


@dataclass(frozen=True)
class OutcomeChange:
    outcome: str
    before: Consensus | None
    after: Consensus | None
    category_changed: bool
    groups: tuple[GroupChange, ...]  # in group-name order

    @property
    def largest_change(self) -> float | None:
        changes = [abs(g.change) for g in self.groups if g.change is not None]
        return max(changes) if changes else None

    @property
    def moved(self) -> bool:
        return self.category_changed or any(g.large for g in self.groups)


@dataclass(frozen=True)
class RoundAgreement:
    """Kendall's W in one round: per group (None where it is undefined) and between groups."""

    label: str
    within: dict[str, float | None]
    between: float | None


@dataclass(frozen=True)
class Stability:
    before: RoundAgreement
    after: RoundAgreement
    outcomes: tuple[OutcomeChange, ...]  # in the later round's rank order
    added: tuple[str, ...]  # in the later round only
    dropped: tuple[str, ...]  # in the earlier round only
    category_changes: int
    large_changes: int  # outcomes with a group moving STABLE_CHANGE_POINTS or more
    verdict: Verdict
    summary: str  # the verdict in plain words
    too_few: tuple[str, ...] = ()  # groups not judged on some outcome (under the minimum group size)


def share_7_9(group: GroupOutcome | None) -> Fraction | None:
    """The exact share rating 7-9 of one group's scored answers, from its distribution."""
    if group is None or group.distribution is None:
        return None
    scored = sum(group.distribution[:9])
    return Fraction(sum(group.distribution[6:9]), scored) if scored else None


def agreement_of(label: str, results: Results | None) -> RoundAgreement:
    if results is None:
        return RoundAgreement(label, {}, None)
    a = results.agreement
    return RoundAgreement(label, {g: None if w is None else w.w for g, w in sorted(a.kendall_w.items())},
                          None if a.between_groups is None else a.between_groups.w)


def _scored(group: GroupOutcome | None) -> int:
    return 0 if group is None or group.distribution is None else sum(group.distribution[:9])


def _group_change(name: str, before: GroupOutcome | None, after: GroupOutcome | None,
                  minimum: tuple[int, int] = (1, 1)) -> GroupChange:
    p0, p1 = share_7_9(before), share_7_9(after)
    if p0 is None or p1 is None:
        return GroupChange(name, None if p0 is None else float(100 * p0), None if p1 is None else float(100 * p1),
                           None, False)
    if _scored(before) < minimum[0] or _scored(after) < minimum[1]:
        return GroupChange(name, float(100 * p0), float(100 * p1), None, False, judged=False)
    change = 100 * (p1 - p0)
    return GroupChange(name, float(100 * p0), float(100 * p1), float(change), abs(change) >= STABLE_CHANGE_POINTS)


def compare_rounds(before: Results | None, after: Results | None, *, before_label: str = "earlier round",
                   after_label: str = "later round") -> Stability:
    """Stability from one round to the next (see the module docstring for the rule)."""
    agreement = (agreement_of(before_label, before), agreement_of(after_label, after))
    rating = before is not None and after is not None and before.method == after.method == "rating"
    if not rating or before is None or after is None:
        return Stability(*agreement, (), (), (), 0, 0, "no_verdict",
                         "No verdict: stability is judged on two rating (1 to 9) rounds with results.")
    minimum = (before.rule.min_group_size, after.rule.min_group_size)
    earlier = {o.outcome: o for o in before.outcomes}
    later_names = [o.outcome for o in after.outcomes]
    changes = []
    for o in after.outcomes:
        old = earlier.get(o.outcome)
        if old is None:
            continue
        names = sorted(set(old.groups) | set(o.groups))
        groups = tuple(_group_change(g, old.groups.get(g), o.groups.get(g), minimum) for g in names)
        changes.append(OutcomeChange(o.outcome, old.consensus, o.consensus, old.consensus != o.consensus, groups))
    added = tuple(n for n in later_names if n not in earlier)
    dropped = tuple(n for n in earlier if n not in set(later_names))
    category = sum(c.category_changed for c in changes)
    large = sum(any(g.large for g in c.groups) for c in changes)
    if not changes:
        return Stability(*agreement, (), added, dropped, 0, 0, "no_verdict",
                         "No verdict: no outcome was in both rounds.")
    too_few = tuple(sorted({g.group for c in changes for g in c.groups if not g.judged}))
    if not any(g.judged for c in changes for g in c.groups) and category == 0:
        return Stability(*agreement, tuple(changes), added, dropped, 0, 0, "no_verdict",
                         f"No verdict: no group had {max(minimum)} or more people scoring an outcome in both "
                         "rounds, too few to judge.", too_few)
    if category == 0 and large == 0:
        verdict: Verdict = "stable"
        summary = ("Stable: another round would change little. No outcome changed its consensus result, and "
                   f"no group's share rating an outcome 7 to 9 moved by {STABLE_CHANGE_POINTS} points or more.")
    else:
        verdict = "not_stable"
        parts = []
        if category:
            parts.append(f"{category} {_outcomes(category)} changed {'its' if category == 1 else 'their'} "
                         "consensus result")
        if large:
            parts.append(f"in {large} {_outcomes(large)} a group's share rating it 7 to 9 moved by "
                         f"{STABLE_CHANGE_POINTS} points or more")
        summary = "Not stable yet: " + "; ".join(parts) + ". Another round could still change the results."
    if too_few:
        n = len(too_few)
        summary += (f" This rests on few people: {n} group{'s' if n != 1 else ''} had fewer than {max(minimum)} "
                    "people scoring an outcome in one of the rounds, so that change was not judged.")
    return Stability(*agreement, tuple(changes), added, dropped, category, large, verdict, summary, too_few)


def _outcomes(n: int) -> str:
    return "outcome" if n == 1 else "outcomes"


def compare_study(rounds: list[tuple[str, Results | None]]) -> list[Stability]:
    """Stability between each pair of consecutive rounds, in study order."""
    return [compare_rounds(rounds[i][1], rounds[i + 1][1], before_label=rounds[i][0], after_label=rounds[i + 1][0])
            for i in range(len(rounds) - 1)]
