"""The measurement definition's fields (DESIGN.md section 5), grouped and labelled in plain English.

One list drives the DOCX/PDF tables, the XLSX columns and the CSV columns, so no format can
quietly drop a field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign.export import _labels as L

GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Identity", (("indicator_code", "Indicator code"), ("population", "Population (cohort)"),
                  ("rationale", "Rationale"), ("indicator_key", "Library indicator"))),
    ("Computation", (
        ("indicator_name", "Indicator"), ("indicator_type", "Type of indicator"),
        ("numerator", "Numerator"), ("denominator", "Denominator"), ("unit", "Unit"),
        ("direction", "Direction"), ("case_mix_adjustment", "Case-mix adjustment"),
        ("instrument", "Instrument (questionnaire)"), ("instrument_licence_note", "Instrument licence"),
        ("time_points", "Time points"), ("exclusions", "Exclusions"),
        ("code_lists", "Code lists (SNOMED CT, ICD-10, OPCS-4)"), ("time_base", "Time base"),
    )),
    ("Data", (
        ("data_source", "Data source"), ("data_owner", "Data owner"),
        ("collection_frequency", "Collection frequency"), ("reporting_frequency", "Reporting frequency"),
        ("reporting_lag_months", "Reporting lag"), ("small_number_rule", "Small-number rule"),
        ("breakdowns", "Breakdowns for inequalities"), ("no_routine_data", "Routine data source"),
        ("gap_plan", "Plan for collecting the data"),
        ("measurement_period", "Measurement period for each contract year"),
        ("data_submission", "Data submission (what, when, how, to whom)"),
    )),
    ("Performance", (
        ("evidence_indicator", "Indicator data (Fingertips ID or library key)"),
        ("evidence_area", "Area (indicator data)"),
        ("baseline_value", "Baseline value"), ("baseline_period", "Baseline period"),
        ("baseline_source", "Baseline source"), ("comparator", "Comparator"), ("targets", "Target"),
        ("rag_green", "Green when at or better than"), ("rag_amber", "Amber when at or better than"),
    )),
    ("Money", (("payment_thresholds", "Thresholds that drive payment"), ("achievement", "Achievement"),
               ("payment_timing", "Payment timing"), ("floor_cap", "Floor and cap"),
               ("consequence_of_breach", "Consequence of breach"),
               ("breach_applies", "When the consequence applies"))),
    ("Governance", (
        ("accountable_providers", "Accountable provider(s)"), ("evidence", "Evidence to be supplied"),
        ("review_date", "Review date"), ("dispute_route", "Data quality and dispute route"),
    )),
)

KEYS: tuple[str, ...] = tuple(key for _, fields in GROUPS for key, _ in fields)
LABELS: dict[str, str] = {key: name for _, fields in GROUPS for key, name in fields}
# Decimal strings that a spreadsheet should hold as numbers.
MEASURED = frozenset({"baseline_value", "rag_green", "rag_amber", "reporting_lag_months"})
_ENUMS = {"unit": L.UNIT_NAMES, "direction": L.DIRECTIONS, "indicator_type": L.INDICATOR_TYPES,
          "achievement": L.ACHIEVEMENT, "payment_thresholds": L.PAYMENT_THRESHOLDS}
_PATIENT_REPORTED = {"PROM", "PREM"}


def value(key: str, definition: Mapping[str, Any]) -> str:
    """One field (not `targets`) as a reader sees it."""
    raw = definition.get(key, "")
    unit = str(definition.get("unit", ""))
    if key in _ENUMS:
        return L.label(_ENUMS[key], raw)
    if key == "breakdowns":
        return L.breakdowns(list(raw or []))
    if key == "no_routine_data":
        return "No: measurability gap" if raw else "Yes"
    if key == "gap_plan" and not str(raw).strip() and not definition.get("no_routine_data"):
        return "Not needed: routine data exist"
    if key == "indicator_key" and not str(raw).strip():
        return "Not from the library: defined locally"
    if key in {"evidence_indicator", "evidence_area"} and not str(raw).strip():
        return "Not linked to indicator data"
    if key == "code_lists" and not str(raw).strip():
        return "No code lists: not coded data"
    if key == "case_mix_adjustment" and not str(raw).strip():
        return "No adjustment"
    if key in {"instrument", "instrument_licence_note", "time_points"} and not str(raw).strip() \
            and definition.get("indicator_type") not in _PATIENT_REPORTED:
        return "Not applicable"
    if key == "reporting_lag_months" and str(raw).strip():
        return f"{raw} month" if str(raw).strip() == "1" else f"{raw} months"
    if key in {"collection_frequency", "reporting_frequency"} and str(raw).strip():
        return L.sentence(str(raw).strip())
    if key == "baseline_value":
        return L.measure(str(raw), unit)
    if key == "rag_green":
        return L.measure(str(raw), unit) if str(raw).strip() else "Not set"
    if key == "rag_amber":
        return f"{L.measure(str(raw), unit)}; red when worse" if str(raw).strip() else "Not set"
    if key == "review_date":
        return L.day(str(raw))
    return L.text(raw)


def target(definition: Mapping[str, Any], year: str) -> str:
    raw = L.targets_by_year(definition).get(year, "")
    return L.measure(raw, str(definition.get("unit", ""))) if raw.strip() else "Not set"


def rows(definition: Mapping[str, Any], years: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The definition as (group, [(label, value)]) with one 'Target <year>' row per contract year."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for group, fields in GROUPS:
        pairs: list[tuple[str, str]] = []
        for key, name in fields:
            if key == "targets":
                pairs.extend((f"Target {year}", target(definition, year)) for year in years)
            else:
                pairs.append((name, value(key, definition)))
        out.append((group, pairs))
    return out
