"""Attrition across a study's rounds: who was invited, started and finished, who stayed, and
whether those who left had scored differently (attrition bias).

A Delphi study loses people between rounds. The COMET Handbook (Williamson et al. 2017, "The
COMET Handbook: version 1.0", Trials 18(Suppl 3):280, on response rates and attrition) asks the
study team to report, per stakeholder group and round, how many were invited and responded, and
to check for attrition bias by comparing the round-1 scores of those who completed later rounds
with those of the people who did not. DelphiManager leaves both to the team; this does them.

Definitions (per stakeholder group and study round; a person is keyed the same in every round):
- invited: asked to take part (online: the panel's panellists; in a room: whoever joined). Anyone
  who started is counted as invited, so invited >= started;
- started: has a ballot with at least one answer; anyone who finished is counted as started, so
  started >= finished;
- finished: finished the ballot (every question answered, the list sent, or "I have finished");
- retention (round to round): of those who finished the previous round AND were invited to this
  one, the share who finished this one: retained / previous finished, so always between 0 and 1
  (None for the first round or when nobody finished the previous one). A person is counted in the
  group they were in for the previous round. Someone who finished the previous round but was never
  asked back (a workshop participant who is not a panellist, when the next round runs online only)
  neither stayed nor left: counting them as "left" would make an online round look deserted. They
  are counted apart, as ``not_invited``.

Attrition bias (rating rounds; groups pooled, as the handbook describes): for each outcome, the
round-1 scores (1-9; "unable to score" left out) of those who stayed (finished the study's latest
round) against those who left (took part in round 1, were invited to the latest round and did not
finish it; people never invited to it are left out of both sides):
mean and median of each, the differences (stayed minus left), and a two-sided Mann-Whitney U test
(Mann & Whitney 1947, Ann. Math. Statist. 18:50-60) by scipy, always with the normal
approximation, tie correction and continuity correction (``method="asymptotic"``): 1-9 scores
are heavily tied, and the exact distribution assumes no ties. The p-value is None when either
side has no score; when every score on both sides is the same it is 1.

Flag rule: an outcome is flagged when the mean difference is 1 point or more either way AND
p < 0.05. Why both: a 1-point shift on the 9-point scale is the smallest difference that can move
a typical score across a band (4-6 to 7-9), so a smaller one would not change what the study
concludes even if it is real; and p < 0.05 keeps a difference made by two or three people's
chance answers from being flagged. Neither alone is enough: with many panellists a 0.3-point
difference is "significant" but harmless, and with few a 2-point difference can be noise.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from statistics import mean, median

FLAG_MEAN_DIFFERENCE = 1.0  # points on the 1-9 scale
FLAG_P_VALUE = 0.05
ALL_GROUPS = "all"


@dataclass(frozen=True)
class RoundPeople:
    """Who was invited to, started and finished one study round, and each person's group."""

    label: str
    groups: Mapping[str, str]  # person -> stakeholder group key
    invited: frozenset[str]
    started: frozenset[str]
    finished: frozenset[str]


@dataclass(frozen=True)
class GroupParticipation:
    """One group in one round (``group`` is ``ALL_GROUPS`` for the total)."""

    group: str
    invited: int
    started: int
    finished: int
    previous_finished: int | None  # None in the first round
    retained: int | None  # of previous_finished, how many finished this round
    retention: float | None  # retained / previous_finished, 0-1
    not_invited: int | None = None  # finished the previous round but not invited to this one


@dataclass(frozen=True)
class RoundParticipation:
    label: str
    groups: tuple[GroupParticipation, ...]  # in the order given, then any others by key
    total: GroupParticipation


@dataclass(frozen=True)
class OutcomeAttrition:
    """Round-1 scores of those who stayed against those who left, for one outcome."""

    outcome: str
    n_stayed: int
    n_left: int
    mean_stayed: float | None
    mean_left: float | None
    median_stayed: float | None
    median_left: float | None
    mean_difference: float | None  # stayed minus left
    median_difference: float | None
    u_statistic: float | None  # Mann-Whitney U of the stayers
    p_value: float | None
    flagged: bool


def _normalised(people: RoundPeople) -> RoundPeople:
    """Apply the nesting the docstring promises: finished => started => invited."""
    started = people.started | people.finished
    return RoundPeople(people.label, people.groups, people.invited | started, started, people.finished)


def _group_row(group: str, members: Collection[str], people: RoundPeople,
               previous: RoundPeople | None) -> GroupParticipation:
    members = set(members)
    invited = len(members & people.invited)
    started = len(members & people.started)
    finished = len(members & people.finished)
    if previous is None:
        return GroupParticipation(group, invited, started, finished, None, None, None)
    # Retention follows the people who finished the previous round in this group.
    finishers = {p for p in previous.finished
                 if group == ALL_GROUPS or previous.groups.get(p) == group}
    before = finishers & people.invited  # only those asked back can stay or leave
    retained = len(before & people.finished)
    return GroupParticipation(group, invited, started, finished, len(before), retained,
                              retained / len(before) if before else None, len(finishers - before))


def participation(rounds: Sequence[RoundPeople], group_order: Sequence[str] = ()) -> list[RoundParticipation]:
    """Invited, started, finished and retention per group, for each round in study order.
    Groups are listed in ``group_order``, then any other group seen, by key."""
    rounds = [_normalised(r) for r in rounds]
    seen = {g for r in rounds for g in r.groups.values()}
    order = [g for g in group_order if g in seen] + sorted(seen - set(group_order))
    out: list[RoundParticipation] = []
    for i, people in enumerate(rounds):
        previous = rounds[i - 1] if i else None
        groups = tuple(_group_row(g, {p for p in people.invited if people.groups.get(p) == g}, people, previous)
                       for g in order)
        out.append(RoundParticipation(people.label, groups, _group_row(ALL_GROUPS, people.invited, people, previous)))
    return out


def _compare(outcome: str, stayed: list[int], left: list[int]) -> OutcomeAttrition:
    mean_s, mean_l = (mean(stayed) if stayed else None), (mean(left) if left else None)
    med_s, med_l = (median(stayed) if stayed else None), (median(left) if left else None)
    mean_diff = None if mean_s is None or mean_l is None else mean_s - mean_l
    median_diff = None if med_s is None or med_l is None else med_s - med_l
    u = p = None
    if stayed and left:
        from scipy import stats  # here, not at the top: scipy.stats costs every process 1.4 s to import

        test = stats.mannwhitneyu(stayed, left, alternative="two-sided", method="asymptotic")
        u = float(test.statistic)
        # Every score the same on both sides: the tie-corrected variance is 0 and there is no difference.
        p = 1.0 if math.isnan(test.pvalue) else float(test.pvalue)
    flagged = (mean_diff is not None and p is not None and abs(mean_diff) >= FLAG_MEAN_DIFFERENCE
               and p < FLAG_P_VALUE)
    return OutcomeAttrition(outcome, len(stayed), len(left), mean_s, mean_l, med_s, med_l, mean_diff,
                            median_diff, u, p, flagged)


def attrition_bias(first_round: Mapping[str, Mapping[str, int | None]], stayed: Collection[str],
                   outcomes: Sequence[str] | None = None,
                   invited: Collection[str] | None = None) -> list[OutcomeAttrition]:
    """For each outcome (``outcomes`` order, else sorted), round-1 scores of the people in
    ``stayed`` against everyone else who scored it and was ``invited`` to the latest round (None:
    everyone was). ``first_round`` is person -> outcome -> score (1-9, None for "unable to score",
    which is left out)."""
    stayers = set(stayed)
    asked = None if invited is None else set(invited) | stayers
    names = list(outcomes) if outcomes is not None else sorted({o for s in first_round.values() for o in s})
    out = []
    for outcome in names:
        kept: list[int] = []
        gone: list[int] = []
        for person, scores in first_round.items():
            value = scores.get(outcome)
            if value is None or (asked is not None and person not in asked):
                continue
            if not 1 <= value <= 9:
                raise ValueError(f"a rating must be 1 to 9, got {value!r}")
            (kept if person in stayers else gone).append(int(value))
        out.append(_compare(outcome, kept, gone))
    return out
