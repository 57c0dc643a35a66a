"""Numbers a contract can rely on (issue 12, section 2): each refusal names its field."""

from __future__ import annotations

from datetime import date

import pytest

from codesign.contract import definition as defs

YEARS = ["2026/27", "2027/28", "2028/29"]
PAID = ["2027/28", "2028/29"]
TODAY = date(2026, 11, 22)


def parse(**form: object) -> tuple[dict[str, object], dict[str, str]]:
    return defs.parse_form(form, YEARS, today=TODAY, paid_years=PAID)


def test_a_percentage_target_over_100_is_refused() -> None:
    _, errors = parse(unit="percent", direction="higher", baseline_value="60", **{"target-2": "101"})
    assert set(errors) == {"target-2"} and "between 0 and 100" in errors["target-2"]
    assert "2028/29" in errors["target-2"]
    _, errors = parse(unit="percent", baseline_value="100.5")
    assert set(errors) == {"baseline_value"}
    _, ok = parse(unit="percent", direction="higher", baseline_value="60", **{"target-2": "100"})
    assert ok == {}


@pytest.mark.parametrize("unit", ["percent", "count", "days", "rate_per_1000", "rate_per_100000"])
def test_a_negative_value_is_refused_where_the_unit_cannot_be_negative(unit: str) -> None:
    _, errors = parse(unit=unit, direction="lower", baseline_value="-2", rag_amber="-3", rag_green="-4",
                      **{"target-1": "-5"})
    assert set(errors) == {"baseline_value", "rag_amber", "rag_green", "target-1"}
    assert all("cannot be negative" in message or "between 0 and 100" in message for message in errors.values())


def test_a_mean_score_may_be_negative() -> None:
    # EQ-5D index values run below zero.
    _, errors = parse(unit="mean_score", direction="higher", baseline_value="-0.2", **{"target-1": "-0.1"})
    assert errors == {}


@pytest.mark.parametrize("typed", ["3,5", "1,00", "12,5.5", ",5", "1,0000"])
def test_a_decimal_comma_is_refused_never_read_as_a_bigger_number(typed: str) -> None:
    definition, errors = parse(baseline_value=typed, **{"target-1": typed})
    assert set(errors) == {"baseline_value", "target-1"}
    assert "point for decimals" in errors["baseline_value"] and "point for decimals" in errors["target-1"]
    assert definition["baseline_value"] != "35"


@pytest.mark.parametrize(("typed", "read"), [("1,000", "1000"), ("12,345.5", "12345.5"), ("1,234,567", "1234567"),
                                             ("3.5", "3.5")])
def test_thousands_separators_in_whole_groups_are_read(typed: str, read: str) -> None:
    definition, errors = parse(unit="count", baseline_value=typed)
    assert errors == {} and definition["baseline_value"] == read


def test_linear_payment_needs_a_paid_year_target_away_from_the_baseline() -> None:
    form = {"unit": "percent", "direction": "higher", "achievement": "linear", "baseline_value": "40",
            "target-0": "40", "target-1": "40", "target-2": "45"}
    _, errors = parse(**form)
    # 2026/27 is a shadow year: nothing is paid on it, so equal to baseline is fine there.
    assert set(errors) == {"target-1"} and "linear" in errors["target-1"] and "2027/28" in errors["target-1"]
    _, ok = parse(**{**form, "achievement": "all_or_nothing"})
    assert ok == {}


@pytest.mark.parametrize(("direction", "green", "amber", "final"), [("higher", "48", "45", "50"),
                                                                  ("lower", "4.0", "4.5", "3.8")])
def test_a_green_threshold_looser_than_the_final_target_is_refused(direction: str, green: str, amber: str,
                                                                    final: str) -> None:
    form = {"unit": "rate_per_1000", "direction": direction, "rag_green": green, "rag_amber": amber,
            "target-2": final}
    _, errors = parse(**form)
    assert set(errors) == {"rag_green"} and "final target" in errors["rag_green"] and final in errors["rag_green"]
    _, ok = parse(**{**form, "rag_green": final})
    assert ok == {}


def test_the_final_target_is_the_last_year_with_one() -> None:
    _, errors = parse(direction="higher", rag_green="48", rag_amber="45", **{"target-0": "50", "target-1": "47"})
    assert errors == {}
