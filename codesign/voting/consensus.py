"""Consensus classification for rating rounds (COS-STAD; COMET/GRADE Delphi 1-9 scale).

Per outcome and group, p79 is the share of scored answers rated 7-9 and p13 the share rated
1-3; "unable to score" answers are left out of the denominator (Williamson et al., COMET
Handbook 2017; Kirkham et al. 2017, COS-STAD standards 9-11: consensus criteria declared
before voting).

- IN: the IN test (p79 >= in_min_pct_7_9 and p13 < in_max_pct_1_3) holds in every group;
- OUT: the OUT test (p13 >= out_min_pct_1_3 and p79 < out_max_pct_7_9) holds in every group;
- otherwise "none" (no consensus).
A group with no scored answer for the outcome passes neither test, so the outcome is "none"
(unless the veto group alone makes it IN, below). Every group with ballots counts, including
small groups and groups with weight 0: consensus is about people agreeing, not about weights.

Options: ``important_to_one_group`` lists the groups in which the IN test holds, so an
outcome critical to one group is not lost behind an overall "none". ``patient_veto_in``
makes an outcome IN when the IN test holds in the veto group, whatever the others say.

Comparisons are exact: shares are fractions of whole counts and thresholds are the decimals
that were declared (0.7 = 7/10), so 7 of 10 meets ">= 70%" and 69 of 99 does not. There is no
floating-point tolerance to argue about.

Consensus is defined only on the 1-9 scale; for ranking, points and pairwise rounds the
engine reports it as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from codesign.voting.types import Consensus, ConsensusRule, exact_share


@dataclass(frozen=True)
class GroupCounts:
    """Scored answers for one outcome in one group, and how many were 7-9 and 1-3."""

    scored: int
    rated_7_9: int
    rated_1_3: int

    def share_7_9(self) -> Fraction | None:
        return Fraction(self.rated_7_9, self.scored) if self.scored else None

    def share_1_3(self) -> Fraction | None:
        return Fraction(self.rated_1_3, self.scored) if self.scored else None


def meets_in(counts: GroupCounts, rule: ConsensusRule) -> bool:
    p79, p13 = counts.share_7_9(), counts.share_1_3()
    if p79 is None or p13 is None:
        return False
    return p79 >= exact_share(rule.in_min_pct_7_9) and p13 < exact_share(rule.in_max_pct_1_3)


def meets_out(counts: GroupCounts, rule: ConsensusRule) -> bool:
    p79, p13 = counts.share_7_9(), counts.share_1_3()
    if p79 is None or p13 is None:
        return False
    return p13 >= exact_share(rule.out_min_pct_1_3) and p79 < exact_share(rule.out_max_pct_7_9)


def classify(counts: Mapping[str, GroupCounts], rule: ConsensusRule) -> tuple[Consensus, tuple[str, ...]]:
    """(consensus, groups it is important to) for one outcome; groups in name order."""
    names = sorted(counts)
    meeting_in = tuple(name for name in names if meets_in(counts[name], rule))
    important_to = meeting_in if rule.important_to_one_group else ()
    if not names:
        return "none", important_to
    if rule.patient_veto_in and rule.veto_group in meeting_in:
        return "in", important_to
    if len(meeting_in) == len(names):
        return "in", important_to
    if all(meets_out(counts[name], rule) for name in names):
        return "out", important_to
    return "none", important_to
