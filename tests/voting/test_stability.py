"""Stability between rounds (codesign.voting.stability), on rounds counted by the engine."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.voting import Results, tally
from codesign.voting.stability import compare_rounds, compare_study


def rated(scores: dict[str, dict[str, list[int | None]]]) -> Results:
    """group -> outcome -> each person's score, person i of a group scoring every outcome."""
    rows = [(f"{group}-{i}", group, outcome, value)
            for group, by_outcome in scores.items() for outcome, values in by_outcome.items()
            for i, value in enumerate(values)]
    return tally(pd.DataFrame(rows, columns=["participant", "group", "outcome", "value"]), "rating")


# Round 1 (70/15 rule, five people a group):
#   A: patients 8 8 8 8 5 (7-9: 4/5 = 80%), clinicians 8 8 8 8 8 (100%): IN
#   B: patients 8 8 8 5 5 (60%), clinicians 8 8 8 8 5 (80%): no consensus (patients under 70%)
#   C: patients 2 2 2 2 2 (1-3: 100%), clinicians 2 2 2 2 5 (1-3: 80%): OUT
ROUND_1 = {"patient": {"A": [8, 8, 8, 8, 5], "B": [8, 8, 8, 5, 5], "C": [2, 2, 2, 2, 2]},
           "clinician": {"A": [8, 8, 8, 8, 8], "B": [8, 8, 8, 8, 5], "C": [2, 2, 2, 2, 5]}}


def test_a_change_of_category_and_of_20_points_is_not_stable() -> None:
    """Round 2: one more patient rates B 8 (8 8 8 8 5: 80%), so B is IN in both groups.
    B: category none -> in; patients' 7-9 share 60% -> 80%, +20 points (>= 15). A and C unchanged."""
    second = {**ROUND_1, "patient": {**ROUND_1["patient"], "B": [8, 8, 8, 8, 5]}}
    result = compare_rounds(rated(ROUND_1), rated(second), before_label="Round 1", after_label="Round 2")
    changes = {c.outcome: c for c in result.outcomes}
    b = changes["B"]
    assert (b.before, b.after, b.category_changed) == ("none", "in", True)
    patients = {g.group: g for g in b.groups}["patient"]
    assert (patients.before, patients.after, patients.change, patients.large) == (60.0, 80.0, 20.0, True)
    assert {g.group: g.change for g in changes["A"].groups} == {"clinician": 0.0, "patient": 0.0}
    assert (result.category_changes, result.large_changes) == (1, 1)
    assert result.verdict == "not_stable"
    assert result.summary.startswith("Not stable yet: 1 outcome changed its consensus result; in 1 outcome")


def test_small_moves_within_the_same_categories_are_stable() -> None:
    """Round 2 has a sixth patient who rates B 7: patients 4 of 6 = 66.7% rate B 7-9 (was 3 of 5 =
    60%): +6.7 points, still under 70%, so still no consensus. A sixth patient rating A 8 gives
    5/6 = 83.3% (was 80%: +3.3) and C 2: 100% 1-3, 0% 7-9 (no change). Stable."""
    patients = {"A": [8, 8, 8, 8, 5, 8], "B": [8, 8, 8, 5, 5, 7], "C": [2, 2, 2, 2, 2, 2]}
    result = compare_rounds(rated(ROUND_1), rated({**ROUND_1, "patient": patients}))
    b = {g.group: g for g in {c.outcome: c for c in result.outcomes}["B"].groups}["patient"]
    assert b.change == pytest.approx(100 * (4 / 6 - 3 / 5)) and not b.large
    assert result.verdict == "stable" and result.category_changes == 0 and result.large_changes == 0
    assert result.summary.startswith("Stable: another round would change little.")


def test_exactly_15_points_counts_as_a_large_change() -> None:
    """20 patients: 0 of 20 rate X 7-9, then 3 of 20 = 15%. The rule wants changes under 15, and
    15 is decided on the counts (3/20 exactly), so it is large."""
    before = rated({"patient": {"X": [5] * 20, "Y": [5] * 20}})
    after = rated({"patient": {"X": [8, 8, 8] + [5] * 17, "Y": [5] * 20}})
    result = compare_rounds(before, after)
    x = {c.outcome: c for c in result.outcomes}["X"]
    assert x.groups[0].change == 15.0 and x.groups[0].large and not x.category_changed
    assert result.verdict == "not_stable"


def test_kendalls_w_per_round_comes_from_the_round() -> None:
    """Clinicians in round 1, over A, B, C: four rate (8, 8, 2) and one (8, 5, 5). Ranks (1 =
    lowest): four raters A 2.5, B 2.5, C 1; one rater A 3, B 1.5, C 1.5. Rank sums A 13, B 11.5,
    C 5.5; mean rank sum m(n+1)/2 = 10; S = 9 + 2.25 + 20.25 = 31.5. Every rater has one tie of
    two (t^3 - t = 6): 5 x 6 = 30. W = 12 S / (m^2 (n^3 - n) - m * 30) = 378 / (600 - 150) = 0.84."""
    result = compare_rounds(rated(ROUND_1), rated(ROUND_1), before_label="Round 1", after_label="Round 2")
    assert result.before.label == "Round 1" and result.after.label == "Round 2"
    assert result.before.within["clinician"] == pytest.approx(0.84)
    assert result.after.within == result.before.within


def test_outcomes_added_or_dropped_are_listed_and_other_methods_get_no_verdict() -> None:
    later = {g: {"A": v["A"], "B": v["B"], "D": [8] * 5} for g, v in ROUND_1.items()}
    result = compare_rounds(rated(ROUND_1), rated(later))
    assert result.added == ("D",) and result.dropped == ("C",)
    assert [c.outcome for c in result.outcomes] == [o.outcome for o in rated(later).outcomes if o.outcome != "D"]
    ranking = tally(pd.DataFrame([("p1", "patient", "A", 1), ("p1", "patient", "B", 2)],
                                 columns=["participant", "group", "outcome", "value"]), "ranking")
    assert compare_rounds(rated(ROUND_1), ranking).verdict == "no_verdict"
    assert compare_rounds(None, rated(ROUND_1)).verdict == "no_verdict"
    assert len(compare_study([("1", rated(ROUND_1)), ("2", rated(ROUND_1)), ("3", None)])) == 2


score_lists = st.lists(st.integers(1, 9) | st.none(), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(st.sampled_from(["patient", "carer", "clinician"]),
                       st.fixed_dictionaries({"A": score_lists, "B": score_lists}), min_size=1))
def test_identical_rounds_are_always_stable(scores: dict[str, dict[str, list[int | None]]]) -> None:
    # Every person in a group scores both outcomes: pad to the same length.
    even = {g: {o: (v + [5] * 6)[:6] for o, v in by.items()} for g, by in scores.items()}
    result = compare_rounds(rated(even), rated(even))
    # Stable, unless no group had the minimum group size scoring: then too few to judge at all.
    judged = any(g.judged for c in result.outcomes for g in c.groups)
    assert result.verdict == ("stable" if judged else "no_verdict")
    assert all(g.change in (0.0, None) for c in result.outcomes for g in c.groups)


def test_a_group_under_the_minimum_size_is_not_judged_and_the_verdict_says_so() -> None:
    """The study team's trial: round 1 had 6 carers (5 of 6 = 83% rated A 7-9), round 2 (online
    only) had 1 carer, who rated A 8: 83% to 100%, +17 points, which alone made the study "not
    stable". One person is under the minimum group size (5, the default rule), so the carers' change
    is shown but not judged: nobody else moved, so it is stable, with a warning that it rests on
    few people."""
    first = {**ROUND_1, "carer": {"A": [8, 8, 8, 8, 8, 5], "B": [8] * 6, "C": [2] * 6}}
    second = {**ROUND_1, "carer": {"A": [8], "B": [8], "C": [2]}}
    result = compare_rounds(rated(first), rated(second))
    carers = {g.group: g for g in {c.outcome: c for c in result.outcomes}["A"].groups}["carer"]
    assert carers.before == pytest.approx(500 / 6) and carers.after == 100.0
    assert (carers.judged, carers.change, carers.large) == (False, None, False)
    assert (result.category_changes, result.large_changes, result.verdict) == (0, 0, "stable")
    assert result.too_few == ("carer",)
    assert "This rests on few people: 1 group had fewer than 5 people" in result.summary


def test_no_verdict_when_no_group_is_big_enough_in_both_rounds() -> None:
    """Four patients in each round, under 5: A goes from 4 of 4 rating 7-9 (100%) to 3 of 4
    (75%, -25 points, still in); nothing can be judged, so no verdict rather than "not stable"."""
    result = compare_rounds(rated({"patient": {"A": [8, 8, 8, 8], "B": [2] * 4}}),
                            rated({"patient": {"A": [8, 8, 8, 5], "B": [2] * 4}}))
    assert result.verdict == "no_verdict" and result.large_changes == 0
    assert result.summary.startswith("No verdict: no group had 5 or more people")
