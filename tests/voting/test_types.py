from __future__ import annotations

import json
from fractions import Fraction

import pytest

from codesign.voting import DEFAULT_RULE, RULE_PRESETS, STRICT_80_10, ConsensusRule, MethodOptions
from codesign.voting.types import exact_share


def test_default_rule_is_70_15() -> None:
    assert DEFAULT_RULE.in_min_pct_7_9 == 0.70
    assert DEFAULT_RULE.in_max_pct_1_3 == 0.15
    assert DEFAULT_RULE.out_min_pct_1_3 == 0.70
    assert DEFAULT_RULE.out_max_pct_7_9 == 0.15
    assert DEFAULT_RULE.min_group_size == 5
    assert RULE_PRESETS["default_70_15"] is DEFAULT_RULE
    assert (STRICT_80_10.in_min_pct_7_9, STRICT_80_10.in_max_pct_1_3) == (0.80, 0.10)


def test_rule_round_trips_through_json() -> None:
    rule = ConsensusRule(in_min_pct_7_9=0.8, patient_veto_in=True, veto_group="carer")
    again = ConsensusRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert again == rule
    assert ConsensusRule.from_dict({}) == DEFAULT_RULE


def test_rule_from_dict_reads_whole_numbers_as_shares() -> None:
    rule = ConsensusRule.from_dict({"in_min_pct_7_9": 1})
    assert rule.in_min_pct_7_9 == 1.0
    assert isinstance(rule.to_dict()["in_min_pct_7_9"], float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"in_min_pct_7_9": 70}, "in_min_pct_7_9 must be between 0 and 1"),
        ({"in_max_pct_1_3": -0.1}, "in_max_pct_1_3 must be between 0 and 1"),
        ({"in_min_pct_7_9": "0.7"}, "in_min_pct_7_9 must be a number"),
        ({"in_min_pct_7_9": True}, "in_min_pct_7_9 must be a number"),
        ({"in_min_pct_7_9": 0.1}, "in_min_pct_7_9 must be at least out_max_pct_7_9"),
        ({"out_min_pct_1_3": 0.1}, "out_min_pct_1_3 must be at least in_max_pct_1_3"),
        ({"in_min_pct_7_9": 0}, "must be above 0"),
        ({"patient_veto_in": "yes"}, "patient_veto_in must be true or false"),
        ({"veto_group": " "}, "veto_group must be a group name"),
        ({"min_group_size": 0}, "min_group_size must be at least 1"),
        ({"min_group_size": 2.5}, "min_group_size must be a whole number"),
        ({"threshold": 0.7}, "unknown field 'threshold'"),
    ],
)
def test_rule_validation_messages(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConsensusRule.from_dict(data)


def test_rule_from_dict_needs_an_object() -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        ConsensusRule.from_dict([0.7])  # type: ignore[arg-type]


def test_options_round_trip_and_validation() -> None:
    options = MethodOptions(top_k=5, budget=100, max_per_outcome=30)
    assert MethodOptions.from_dict(options.to_dict()) == options
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        MethodOptions(top_k=0)
    with pytest.raises(ValueError, match="budget must be a whole number"):
        MethodOptions.from_dict({"budget": 10.5})
    with pytest.raises(ValueError, match="unknown field 'k'"):
        MethodOptions.from_dict({"k": 3})


def test_ranking_depth_is_capped_at_the_list_length() -> None:
    assert MethodOptions().ranking_depth(12) == 12
    assert MethodOptions(top_k=5).ranking_depth(12) == 5
    assert MethodOptions(top_k=20).ranking_depth(12) == 12


def test_exact_share_is_the_decimal_written() -> None:
    assert exact_share(0.7) == Fraction(7, 10)
    assert exact_share(0.15) == Fraction(3, 20)
    assert Fraction(0.7) != Fraction(7, 10)  # why exact_share exists
