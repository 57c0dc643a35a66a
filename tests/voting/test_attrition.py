"""Participation, retention and attrition bias (codesign.voting.attrition), worked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.voting.attrition import ALL_GROUPS, RoundPeople, attrition_bias, participation


def people(label: str, groups: dict[str, str], invited: str, started: str, finished: str) -> RoundPeople:
    return RoundPeople(label, groups, frozenset(invited.split()), frozenset(started.split()),
                       frozenset(finished.split()))


GROUPS = {"a": "patient", "b": "patient", "c": "patient", "d": "patient", "e": "clinician", "f": "clinician"}


def test_participation_and_retention_by_hand() -> None:
    """Round 1: six invited; a b c d e started; a b c e finished (d started, did not finish).
    Round 2: the same six invited; a b e started; a e finished.
    Retention, round 2: patients finishing round 1 = {a b c} (3); of them a finished round 2:
    1/3. Clinicians: {e} finished round 1, e finished round 2: 1/1. All: {a b c e} (4), a and e: 2/4."""
    first = people("Round 1", GROUPS, "a b c d e f", "a b c d e", "a b c e")
    second = people("Round 2", GROUPS, "a b c d e f", "a b e", "a e")
    r1, r2 = participation([first, second], group_order=["patient", "carer", "clinician"])
    assert [g.group for g in r1.groups] == ["patient", "clinician"]  # carers never took part
    patients1, clinicians1 = r1.groups
    assert (patients1.invited, patients1.started, patients1.finished) == (4, 4, 3)
    assert (clinicians1.invited, clinicians1.started, clinicians1.finished) == (2, 1, 1)
    assert patients1.retention is None and r1.total.retention is None  # nothing to retain from
    assert (r1.total.invited, r1.total.started, r1.total.finished) == (6, 5, 4)
    patients2, clinicians2 = r2.groups
    assert (patients2.previous_finished, patients2.retained) == (3, 1)
    assert patients2.retention == pytest.approx(1 / 3)
    assert (clinicians2.previous_finished, clinicians2.retained, clinicians2.retention) == (1, 1, 1.0)
    assert r2.total.group == ALL_GROUPS
    assert (r2.total.previous_finished, r2.total.retained, r2.total.retention) == (4, 2, 0.5)


def test_finishing_implies_starting_and_being_invited() -> None:
    """An imported ballot may be finished with no invitation on record: counted as both."""
    only = people("Round 1", {"x": "carer"}, "", "", "x")
    (row,) = participation([only])
    assert (row.total.invited, row.total.started, row.total.finished) == (1, 1, 1)


def test_attrition_bias_by_hand() -> None:
    """Outcome A, round-1 scores. Stayed: 1, 2, 3 (mean 2, median 2). Left: 7, 8, 9, 9 (mean 8.25,
    median 8.5). Differences stayed - left: mean -6.25, median -6.5.
    Mann-Whitney: every stayer is below every leaver, so U(stayed) = 0. Normal approximation: mean
    U = 3*4/2 = 6; ranks 1..5, then the two 9s tie at 6.5 (one tie of size 2: t^3 - t = 6);
    variance = 3*4/12 * ((7 + 1) - 6 / (7 * 6)) = 8 - 1/7 = 7.857; sd = 2.8031;
    z = (|0 - 6| - 0.5) / 2.8031 = 1.9621; two-sided p = 2 * (1 - Phi(1.9621)) = 0.0497.
    |-6.25| >= 1 and p < 0.05: flagged.
    Outcome B: stayed 7, 7, 8; left 8, 7 (one "unable" left out). Means 7.333 and 7.5: a
    difference of -0.167, under a point: not flagged whatever p says."""
    scores = {"a": {"A": 1, "B": 7}, "b": {"A": 2, "B": 7}, "c": {"A": 3, "B": 8},
              "d": {"A": 7, "B": 8}, "e": {"A": 8, "B": 7}, "f": {"A": 9, "B": None}, "g": {"A": 9}}
    a, b = attrition_bias(scores, stayed={"a", "b", "c"}, outcomes=["A", "B"])
    assert (a.n_stayed, a.n_left) == (3, 4)
    assert (a.mean_stayed, a.mean_left, a.median_stayed, a.median_left) == (2, 8.25, 2, 8.5)
    assert a.mean_difference == -6.25 and a.median_difference == -6.5
    assert a.u_statistic == 0
    variance = 3 * 4 / 12 * (8 - 6 / 42)
    z = (6 - 0.5) / math.sqrt(variance)
    assert a.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))  # 2 * (1 - Phi(z))
    assert a.p_value == pytest.approx(0.0497, abs=1e-4)
    assert a.flagged
    assert (b.n_stayed, b.n_left) == (3, 2)
    assert b.mean_difference == pytest.approx(22 / 3 - 7.5)
    assert not b.flagged


def test_a_large_difference_without_evidence_is_not_flagged() -> None:
    """Stayed 2, left 8: a 6-point difference, but one person each side: U = 0, mean U = 0.5,
    variance = 1/12 * 3 = 0.25, z = (0.5 - 0.5) / 0.5 = 0, p = 1. Not flagged."""
    (row,) = attrition_bias({"s": {"A": 2}, "l": {"A": 8}}, stayed={"s"})
    assert row.mean_difference == -6 and row.p_value == pytest.approx(1.0) and not row.flagged


def test_no_test_without_people_on_both_sides() -> None:
    (row,) = attrition_bias({"s": {"A": 5}, "t": {"A": 6}}, stayed={"s", "t"})
    assert row.n_left == 0 and row.p_value is None and row.mean_left is None and not row.flagged
    (same,) = attrition_bias({"s": {"A": 5}, "t": {"A": 5}}, stayed={"s"})
    assert same.p_value == 1.0 and same.mean_difference == 0  # every score alike: no difference


def test_a_score_off_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="1 to 9"):
        attrition_bias({"s": {"A": 10}}, stayed=set())


person_ids = st.sampled_from(list("abcdefgh"))
people_sets = st.frozensets(person_ids)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(people_sets, people_sets, people_sets), min_size=1, max_size=4),
       st.dictionaries(person_ids, st.sampled_from(["patient", "carer"]), min_size=8))
def test_counts_nest_and_retention_is_a_share(rounds: list[tuple[frozenset[str], ...]], groups: dict[str, str]) -> None:
    result = participation([RoundPeople(f"R{i}", groups, *sets) for i, sets in enumerate(rounds)])
    for row in result:
        for g in (*row.groups, row.total):
            assert g.invited >= g.started >= g.finished >= 0
            if g.retention is not None:
                assert 0 <= g.retention <= 1
                assert g.retained is not None and g.previous_finished
        assert sum(g.finished for g in row.groups) == row.total.finished


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(person_ids, st.dictionaries(st.sampled_from("XY"), st.integers(1, 9) | st.none())),
       people_sets)
def test_swapping_stayers_and_leavers_negates_the_difference(scores: dict[str, dict[str, int | None]],
                                                             stayed: frozenset[str]) -> None:
    left = set(scores) - stayed
    forward = attrition_bias(scores, stayed, outcomes=["X", "Y"])
    backward = attrition_bias(scores, left, outcomes=["X", "Y"])
    for f, b in zip(forward, backward, strict=True):
        assert (f.n_stayed, f.n_left) == (b.n_left, b.n_stayed)
        if f.mean_difference is not None:
            assert b.mean_difference == pytest.approx(-f.mean_difference)
            assert f.p_value == pytest.approx(b.p_value) and 0 <= (f.p_value or 0) <= 1
            assert f.flagged == b.flagged


def test_people_not_invited_to_a_later_round_neither_stay_nor_leave() -> None:
    """The study team's trial, scaled down: round 1 pooled a workshop (w1 w2 w3, not panellists)
    with the panel's online session (a b c d); all seven finished. Round 2 ran online only, so
    only a b c d were invited, and a b finished. Retention is 2 of the 4 asked back (50%), not
    2 of 7; the three workshop people are counted as not invited. In the bias test, the leavers
    are c and d only (scores 9, 9 against the stayers' 2, 2); w1 w2 w3 are on neither side."""
    groups = {p: "patient" for p in ["a", "b", "c", "d", "w1", "w2", "w3"]}
    first = people("Round 1", groups, "a b c d w1 w2 w3", "a b c d w1 w2 w3", "a b c d w1 w2 w3")
    second = people("Round 2", groups, "a b c d", "a b", "a b")
    _r1, r2 = participation([first, second])
    assert (r2.total.previous_finished, r2.total.retained, r2.total.retention) == (4, 2, 0.5)
    assert r2.total.not_invited == 3
    (patients,) = r2.groups
    assert (patients.previous_finished, patients.retained, patients.not_invited) == (4, 2, 3)
    scores = {"a": {"X": 2}, "b": {"X": 2}, "c": {"X": 9}, "d": {"X": 9},
              "w1": {"X": 2}, "w2": {"X": 2}, "w3": {"X": 2}}
    (x,) = attrition_bias(scores, stayed={"a", "b"}, outcomes=["X"], invited=second.invited)
    assert (x.n_stayed, x.n_left) == (2, 2)
    assert (x.mean_stayed, x.mean_left) == (2, 9)
    (everyone,) = attrition_bias(scores, stayed={"a", "b"}, outcomes=["X"])  # None: all were invited
    assert everyone.n_left == 5
