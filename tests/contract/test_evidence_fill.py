"""The baseline, comparator and suggested targets taken from indicator data (hand-worked)."""

from __future__ import annotations

from typing import Any

from codesign.contract import evidence_fill as fill

YEARS = ["2026/27", "2027/28", "2028/29"]


def evidence(value: float, best5: float, direction: str = "higher", **extra: Any) -> dict[str, Any]:
    return {"indicator": "90001", "indicator_name": "People meeting it", "area": "A", "area_name": "Area A",
            "period": "2024", "direction": direction, "value": value, "best5_mean": best5, "peer_mean": 65.0,
            "best5": ["P09", "P08"], "national": 66.0, "source": "data.csv", "imported_at": "2026-11-01T09:00:00Z",
            "peers": [{"area": "P08", "area_name": "Peer 8"}, {"area": "P09", "area_name": "Peer 9"}], **extra}


def test_targets_reach_the_best5_mean_by_the_final_year_in_equal_steps() -> None:
    # 60.0 -> 73.3 in thirds: 64.43 (64.4), 68.87 (68.9), 73.3.
    assert fill.suggest_targets(evidence(60.0, 73.334), YEARS) == ["64.4", "68.9", "73.3"]
    # Lower is better (a rate per 1,000): 3.5 -> 2.6 in thirds: 3.2, 2.9, 2.6.
    assert fill.suggest_targets(evidence(3.48, 2.61, "lower"), YEARS) == ["3.2", "2.9", "2.6"]


def test_no_targets_when_already_at_or_beyond_the_best5_mean() -> None:
    assert fill.suggest_targets(evidence(75.0, 73.3), YEARS) is None
    assert fill.suggest_targets(evidence(73.3, 73.3), YEARS) is None
    assert fill.suggest_targets(evidence(2.0, 2.6, "lower"), YEARS) is None
    assert fill.suggest_targets(evidence(60.0, None), YEARS) is None  # type: ignore[arg-type]


def test_a_small_gap_gets_another_decimal_so_no_step_equals_the_baseline() -> None:
    # 10.0 -> 10.1: a first step of 10.03 would round back to 10.0 (nothing to pay on), so two places.
    assert fill.suggest_targets(evidence(10.0, 10.1), YEARS) == ["10.03", "10.07", "10.10"]


def test_baseline_and_comparator_text() -> None:
    fields = fill.baseline_fields(evidence(60.04, 73.334, illustrative=True))
    assert fields["baseline_value"] == "60.0" and fields["baseline_period"] == "2024"
    assert fields["baseline_source"] == ("People meeting it (indicator 90001), Area A (A), 2024; from data.csv imported "
                                         "on 2026-11-01. ILLUSTRATIVE values, not real statistics")
    assert fields["comparator"] == ("2 similar areas: Peer 8 (P08), Peer 9 (P09); peer mean 65.0, best-5 mean 73.3 "
                                    "(P09, P08), England 66.0, 2024. ILLUSTRATIVE values, not real statistics")


def test_very_long_peer_names_fall_back_to_codes_within_the_field_limit() -> None:
    peers = [{"area": f"P{i:02}", "area_name": "N" * 300} for i in range(10)]
    text = fill.comparator_text(evidence(60.0, 73.3, peers=peers))
    assert text.startswith("10 similar areas: P00, P01, P02") and len(text) <= fill.MAX_COMPARATOR


def test_the_opportunity_is_worded_by_unit_direction_and_period() -> None:
    percent = evidence(60.0, 73.3, opportunity=8007.6, multiplier=100)
    assert fill.opportunity_text(percent) == "8,008 more people a year if the area matched the best-5 mean"
    rate = evidence(3.1, 2.5, "lower", opportunity=38.2, multiplier=1000, period="2022 - 24")
    assert fill.opportunity_text(rate) == "38 fewer events if the area matched the best-5 mean"
    assert fill.opportunity_text(evidence(80.0, 73.3, opportunity=0.0, multiplier=100)).startswith("None: the area")
    assert fill.opportunity_text(evidence(60.0, 73.3, opportunity=None, peers=[])) == (
        "Not available: this area has no similar areas set")


def test_no_peers_means_no_comparator_text() -> None:
    fields = fill.baseline_fields({**evidence(60.0, 73.3, peers=[], peer_mean=None), "best5": []})
    assert "comparator" not in fields and fields["baseline_value"] == "60.0"


def test_a_saved_baseline_is_checked_against_the_data() -> None:
    ev = {**evidence(60.04, 73.3), "available": True}
    matching = {"baseline_value": "60", "baseline_period": "2024", "baseline_source": fill.source_text(ev)}
    assert fill.baseline_mismatch(matching, ev) == []
    assert fill.baseline_mismatch({**matching, "baseline_value": "60.04"}, ev) == []
    assert fill.baseline_mismatch({**matching, "baseline_value": "60.1"}, ev) == ["the value is 60.1, the data's is 60.0"]
    assert fill.baseline_mismatch({**matching, "baseline_period": "2023"}, ev) == ["the period is 2023, the data's is 2024"]
    assert fill.baseline_mismatch({**matching, "baseline_source": "Local audit"}, ev)[0].startswith("the source is not")
    assert fill.baseline_mismatch({**matching, "baseline_value": ""}, ev) == []  # nothing saved: nothing to warn of


def test_peers_without_a_figure_are_counted_and_named() -> None:
    ev = evidence(60.0, 73.3, period="2024/25", peers=[{"area": "P01", "area_name": "Peer 1", "value": 50.0},
                                                        {"area": "P02", "area_name": "Peer 2", "value": None},
                                                        {"area": "P03", "area_name": "", "value": None}])
    assert fill.peer_coverage(ev) == ("1 of 3 similar areas has a figure for 2024/25; no figure for Peer 2 (P02), "
                                      "P03. The peer mean and the best five are from the 1 that have one")
    assert fill.peer_coverage(evidence(60.0, 73.3, peers=[{"area": "P01", "value": 50.0}])) is None


def test_two_decimals_only_where_one_would_make_the_best_five_look_arbitrary() -> None:
    peers = [{"area": f"P{i}", "value": v} for i, v in enumerate([80.0, 79.0, 78.0, 77.0, 70.04, 70.01, 60.0])]
    ev = {**evidence(60.0, 76.8, peers=peers), "best5": ["P0", "P1", "P2", "P3", "P4"]}
    assert fill.value_places(ev) == 2  # 70.04 in, 70.01 out: both "70.0" at one place
    peers[5]["value"] = 69.0
    assert fill.value_places(ev) == 1
