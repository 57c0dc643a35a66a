from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("value", ["\u0665\u0668", "\u00b2", "1_000", "1e3", "nan", "9" * 16, "9" * 5000, "1.1234567"])
def test_numbers_are_ascii_and_bounded(value: str) -> None:
    _, errors = parse(baseline_value=value, **{"target-0": value})
    assert set(errors) == {"baseline_value", "target-0"}
    assert "must be a number, like 58" in errors["baseline_value"]


def test_text_is_cleaned_like_every_other_field() -> None:
    definition, errors = parse(indicator_name="Falls\x00 in \u202ehospital", population="Adults\x00\r\n\r\n\r\nover 65")
    assert errors == {}
    assert definition["indicator_name"] == "Falls in hospital"
    assert definition["population"] == "Adults\n\nover 65"


FIELD_NAMES = [f.name for f in defs.FIELDS] + ["target-0", "target-1", "target-9"]
AWKWARD_VALUES = st.one_of(st.sampled_from(["", "58", "12.5", "-3", "1,000", "\u0663", "9" * 5000, "yes", "percent",
                                            "higher", "lower", "2027-09-30", "2026-02-30", "\u0662\u0660\u0662\u0667-01-01",
                                            "\x00", "x" * 2001]),
                           st.text(max_size=12), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), AWKWARD_VALUES, max_size=12))
def test_any_form_gives_a_definition_or_field_errors_never_an_exception(form: dict[str, object]) -> None:
    definition, errors = defs.parse_form(form, YEARS, today=TODAY)
    assert set(errors) <= set(FIELD_NAMES)
    assert all(isinstance(message, str) and message for message in errors.values())
    assert set(definition) == {f.name for f in defs.FIELDS} | {"targets"}
    for f in defs.FIELDS:
        if f.kind not in ("flag", "multi"):
            assert "\x00" not in definition[f.name]
            if f.kind == "number" and definition[f.name] and f.name not in errors:
                assert defs._decimal(definition[f.name].replace(",", "")) is not None


def test_indicator_codes_default_by_position_and_refuse_bad_values() -> None:
    assert defs.code_prefix("Adults with diabetes", "adults-with-diabetes") == "DIAB"
    assert defs.code_prefix("Older people living with frailty", None) == "FRAIL"
    assert defs.code_prefix("Children with asthma", None) == "ASTHM"
    # Given codes are kept; the others take their position's number, or the next free one.
    assert defs.default_codes("DIAB", ["", "DIAB-01", "", ""]) == ["DIAB-02", "DIAB-01", "DIAB-03", "DIAB-04"]
    assert defs.default_codes("DIAB", ["DIAB-10", ""]) == ["DIAB-10", "DIAB-02"]
    assert defs.duplicate_codes(["DIAB-01", "DIAB-02", "DIAB-01", ""]) == {"DIAB-01"}
    definition, errors = parse(indicator_code="diab-07")
    assert "indicator_code" not in errors and definition["indicator_code"] == "DIAB-07"
    for bad in ("DIAB 07", "07-DIAB", "DIAB-", "D" * 12 + "-01"):
        _, errors = parse(indicator_code=bad)
        assert errors["indicator_code"].startswith("The indicator code must be"), bad
    _, errors = parse(payment_thresholds="both")
    assert errors["payment_thresholds"] == "Choose one of the options for thresholds that drive payment"


def test_the_schedule_fields_are_needed_before_freezing() -> None:
    definition, _ = parse()
    gaps = defs.missing(definition, paid_years=YEARS)
    for label in ("Indicator code (for example DIAB-01)", "Rationale", "Exclusions",
                  "Time base (for example rolling 12 months)", "Measurement period that counts for each contract year",
                  "Data submission (what, when, how, to whom)", "Thresholds that drive payment",
                  "Payment timing (on account, year-end reconciliation)", "Floor and cap",
                  "When the consequence of breach applies", "Data quality and dispute route"):
        assert label in gaps, label
    assert "Code lists (SNOMED CT, ICD-10, OPCS-4)" not in gaps  # optional: not every measure is coded
