from __future__ import annotations

from datetime import date

from codesign.contract import definition as defs

YEARS = ["2026/27", "2027/28"]
TODAY = date(2026, 11, 22)


def parse(**form: object) -> tuple[dict[str, object], dict[str, str]]:
    return defs.parse_form(form, YEARS, today=TODAY)


def test_part_done_definition_saves_and_lists_what_is_missing() -> None:
    definition, errors = parse(indicator_name="HbA1c at target", unit="percent")
    assert errors == {}
    missing = defs.missing(definition, paid_years=["2027/28"])
    assert "Numerator (needed for a rate or percentage)" in missing
    assert "Denominator (needed for a rate or percentage)" in missing
    assert "Target for 2027/28" in missing and "Target for 2026/27" not in missing


def test_lower_is_better_targets_must_be_below_baseline() -> None:
    _, errors = parse(direction="lower", baseline_value="4.2", **{"target-0": "4.2", "target-1": "5"})
    assert set(errors) == {"target-1"} and "below the baseline" in errors["target-1"]
    _, ok = parse(direction="lower", baseline_value="4.2", **{"target-0": "4.0", "target-1": "3.8"})
    assert ok == {}


def test_rag_bands_must_be_ordered_with_the_direction() -> None:
    _, errors = parse(direction="higher", rag_green="40", rag_amber="45")
    assert "rag_green" in errors
    _, errors = parse(direction="lower", rag_green="3.8", rag_amber="4.2")
    assert errors == {}


def test_numbers_dates_and_choices_are_checked() -> None:
    _, errors = parse(baseline_value="about 40", review_date="2026-01-01", unit="furlongs", reporting_lag_months="99",
                      **{"target-0": "lots"})
    assert set(errors) == {"baseline_value", "review_date", "unit", "reporting_lag_months", "target-0"}
    _, errors = parse(review_date="2040-01-01")
    assert "10 years" in errors["review_date"]
    _, errors = parse(unit="percent", baseline_value="140")
    assert "between 0 and 100" in errors["baseline_value"]


def test_measurability_gap_needs_only_the_gap_fields() -> None:
    definition, errors = parse(no_routine_data="yes", population="Adults", indicator_name="Confidence",
                               indicator_type="PROM", accountable_providers="Lead provider", review_date="2028-01-01")
    assert errors == {} and defs.is_gap(definition)
    assert defs.missing(definition, paid_years=YEARS) == ["How the data will be collected"]


def test_prefill_from_indicator_keeps_local_figures() -> None:
    current, _ = parse(baseline_value="41", **{"target-1": "50"})
    indicator = {"key": "k", "name": "Share at target", "type": "outcome", "unit": "percent", "direction": "higher",
                 "numerator": "N", "denominator": "D", "data_source": "National Diabetes Audit", "routine_data": True,
                 "breakdowns": ["age", "sex", "nonsense"], "reporting_lag_months": 4}
    filled = defs.from_indicator(indicator, current, YEARS)
    assert filled["indicator_name"] == "Share at target" and filled["baseline_value"] == "41"
    assert filled["targets"][1]["value"] == "50" and filled["breakdowns"] == ["age", "sex"]
    assert filled["reporting_lag_months"] == "4" and filled["indicator_key"] == "k"
