"""Rating 1-9: counts, percentages, scores and consensus at exact thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codesign.voting import STRICT_80_10, ConsensusRule, tally
from codesign.voting.consensus import GroupCounts, classify, meets_in, meets_out
from codesign.voting.types import DEFAULT_RULE
from tests.voting.helpers import ratings, scored

U = None  # unable to score


def test_group_statistics_exclude_unable_from_percentages_and_mean() -> None:
    ballots = scored(ratings("patient", {"HbA1c": [7, 8, 9, 9, 7, 8, 7, 4, 2, U]}))
    group = tally(ballots, "rating").outcome("HbA1c").groups["patient"]
    assert group.n == 9
    assert group.distribution == (0, 1, 0, 1, 0, 0, 3, 2, 2, 1)
    assert group.mean == pytest.approx(61 / 9)
    assert group.score == pytest.approx((61 / 9 - 1) / 8)
    assert group.median == 7.0
    assert group.pct_7_9 == pytest.approx(700 / 9)
    assert group.pct_1_3 == pytest.approx(100 / 9)
    assert group.pct_unable == 10.0  # of all 10 answers given


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    ballots = scored(ratings("carer", {"Sight": [2, 5, 6, 9]}))
    assert tally(ballots, "rating").outcome("Sight").groups["carer"].median == 5.5


def test_score_maps_1_to_0_and_9_to_1() -> None:
    ballots = scored(ratings("patient", {"Low": [1, 1], "High": [9, 9]}))
    results = tally(ballots, "rating")
    assert results.outcome("Low").score == 0.0
    assert results.outcome("High").score == 1.0


def test_missing_values_may_be_none_or_nan_and_floats_must_be_whole() -> None:
    with_nan = scored([("a", "patient", "X", 7.0), ("b", "patient", "X", math.nan)])
    with_none = scored([("a", "patient", "X", 7), ("b", "patient", "X", None)])
    assert tally(with_nan, "rating").to_dict() == tally(with_none, "rating").to_dict()
    with pytest.raises(ValueError, match=r"7\.5 is not a whole number"):
        tally(scored([("a", "patient", "X", 7.5)]), "rating")


@pytest.mark.parametrize("value", [0, 10, -3])
def test_ratings_outside_1_to_9_are_refused(value: int) -> None:
    with pytest.raises(ValueError, match=f"rating {value} is out of range 1-9"):
        tally(scored([("a", "patient", "X", value)]), "rating")


def test_duplicate_answers_and_two_groups_are_refused() -> None:
    twice = scored([("a", "patient", "X", 7), ("a", "patient", "X", 8)])
    with pytest.raises(ValueError, match="answered outcome 'X' more than once"):
        tally(twice, "rating")
    two_groups = scored([("a", "patient", "X", 7), ("a", "carer", "Y", 8)])
    with pytest.raises(ValueError, match="more than one group: carer, patient"):
        tally(two_groups, "rating")


def test_an_outcome_nobody_scored_appears_last_with_no_score() -> None:
    ballots = scored(ratings("patient", {"A": [5, 5], "B": [U, U]}))
    results = tally(ballots, "rating", outcomes=["A", "B", "C"])
    assert results.order == ["A", "B", "C"]
    for name in ("B", "C"):
        outcome = results.outcome(name)
        assert outcome.score is None
        assert outcome.consensus == "none"
        assert outcome.groups["patient"].score is None
        assert outcome.groups["patient"].pct_7_9 is None
    assert results.outcome("B").groups["patient"].pct_unable == 100.0
    assert results.outcome("C").groups["patient"].pct_unable is None
    assert results.outcome("C").groups["patient"].distribution == (0,) * 10


def test_combined_score_skips_a_group_that_scored_nothing() -> None:
    rows = ratings("patient", {"A": [9, 9]}) + ratings("carer", {"A": [U, U]})
    rows += ratings("clinician", {"A": [1, 1]})
    assert tally(scored(rows), "rating").outcome("A").score == 0.5


# --- consensus: exact thresholds -------------------------------------------------------------


def counts(scored_n: int, high: int, low: int) -> GroupCounts:
    return GroupCounts(scored=scored_n, rated_7_9=high, rated_1_3=low)


def test_in_test_at_exactly_70_percent_and_just_under() -> None:
    assert meets_in(counts(10, 7, 1), DEFAULT_RULE)  # 70% exactly
    assert meets_in(counts(1000, 700, 0), DEFAULT_RULE)
    assert not meets_in(counts(1000, 699, 0), DEFAULT_RULE)  # 69.9%


def test_in_test_needs_strictly_under_15_percent_low_scores() -> None:
    assert not meets_in(counts(20, 14, 3), DEFAULT_RULE)  # 15% exactly is not < 15%
    assert meets_in(counts(20, 14, 2), DEFAULT_RULE)


def test_out_test_at_exact_thresholds() -> None:
    assert meets_out(counts(10, 1, 7), DEFAULT_RULE)
    assert not meets_out(counts(20, 3, 14), DEFAULT_RULE)  # 15% 7-9 is not < 15%
    assert not meets_out(counts(1000, 0, 699), DEFAULT_RULE)


def test_strict_rule_compares_decimals_not_binary_floats() -> None:
    # 0.8 and 0.1 as binary floats are slightly above 8/10 and 1/10; exact decimals must
    # still let 8 of 10 meet ">= 80%" and stop 1 of 10 meeting "< 10%".
    assert meets_in(counts(10, 8, 0), STRICT_80_10)
    assert not meets_in(counts(10, 8, 1), STRICT_80_10)
    assert not meets_in(counts(10, 7, 0), STRICT_80_10)


def test_no_scored_answers_meets_neither_test() -> None:
    assert not meets_in(counts(0, 0, 0), DEFAULT_RULE)
    assert not meets_out(counts(0, 0, 0), DEFAULT_RULE)
    assert classify({"patient": counts(0, 0, 0)}, DEFAULT_RULE) == ("none", ())


def test_classify_in_out_none_and_important_to() -> None:
    both_in = {"carer": counts(10, 8, 0), "patient": counts(10, 7, 1)}
    assert classify(both_in, DEFAULT_RULE) == ("in", ("carer", "patient"))
    both_out = {"carer": counts(10, 0, 9), "patient": counts(10, 1, 7)}
    assert classify(both_out, DEFAULT_RULE) == ("out", ())
    split = {"carer": counts(10, 2, 2), "patient": counts(10, 9, 0)}
    assert classify(split, DEFAULT_RULE) == ("none", ("patient",))
    quiet = ConsensusRule(important_to_one_group=False)
    assert classify(split, quiet) == ("none", ())


def test_patient_veto_in() -> None:
    split = {"clinician": counts(10, 0, 9), "patient": counts(10, 9, 0)}
    assert classify(split, ConsensusRule(patient_veto_in=True))[0] == "in"
    assert classify(split, DEFAULT_RULE)[0] == "none"
    carers = ConsensusRule(patient_veto_in=True, veto_group="carer")
    assert classify(split, carers)[0] == "none"


def test_consensus_through_tally_with_exact_70_percent() -> None:
    seven_of_ten = [9, 9, 8, 8, 7, 7, 7, 5, 5, 2]  # 70% 7-9, 10% 1-3
    six_of_ten = [9, 9, 8, 8, 7, 7, 6, 5, 5, 2]  # 60%
    rows = ratings("patient", {"A": seven_of_ten, "B": seven_of_ten, "C": [1] * 10})
    rows += ratings("clinician", {"A": seven_of_ten, "B": six_of_ten, "C": [1] * 9 + [7]})
    results = tally(scored(rows), "rating")
    assert results.outcome("A").consensus == "in"
    assert results.outcome("B").consensus == "none"
    assert results.outcome("B").important_to == ("patient",)
    assert results.outcome("C").consensus == "out"
    assert results.outcome("C").groups["clinician"].pct_7_9 == 10.0


def test_consensus_is_none_for_other_methods() -> None:
    ballots = scored([("a", "patient", "X", 1), ("a", "patient", "Y", 2)])
    results = tally(ballots, "ranking")
    assert {o.consensus for o in results.outcomes} == {None}
    assert {o.important_to for o in results.outcomes} == {()}


def test_small_groups_are_flagged_by_the_rule() -> None:
    rows = ratings("patient", {"A": [7] * 5}) + ratings("carer", {"A": [7] * 4})
    results = tally(scored(rows), "rating")
    assert results.groups["patient"].small is False
    assert results.groups["carer"].small is True
    assert tally(scored(rows), "rating", rule=ConsensusRule(min_group_size=4)).groups["carer"].small is False


def test_kendall_w_uses_complete_raters_only() -> None:
    rows = ratings("patient", {"A": [9, 8, 9, U], "B": [5, 5, 4, 5], "C": [1, 2, 1, 1]})
    w = tally(scored(rows), "rating").agreement.kendall_w["patient"]
    assert w is not None
    assert w.raters == 3  # the participant with an "unable" is left out
    assert w.items == 3
    assert w.w == pytest.approx(1.0)
    assert np.isfinite(w.p_value)
