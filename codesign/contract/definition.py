"""The measurement definition of one shortlisted outcome (DESIGN.md section 5): its fields, how a
form becomes a definition, what is inconsistent (refused) and what is still missing (listed).

Pure: no web or database code. A definition is a plain dict of strings (decimal values as typed),
a list for `breakdowns` and `targets`, and a bool for `no_routine_data`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from codesign.validation import normalise_paragraphs, normalise_text

INDICATOR_TYPES = {"outcome": "Outcome", "process": "Process", "PROM": "Patient-reported outcome (PROM)",
                   "PREM": "Patient-reported experience (PREM)"}
UNITS = {"percent": "%", "rate_per_1000": "rate per 1,000", "rate_per_100000": "rate per 100,000",
         "count": "count", "mean_score": "mean score", "days": "days"}
RATE_UNITS = ("percent", "rate_per_1000", "rate_per_100000")
# Units that cannot go below zero. A mean score can (EQ-5D index values run below 0), so it is not here.
NON_NEGATIVE_UNITS = ("percent", "rate_per_1000", "rate_per_100000", "count", "days")
DIRECTIONS = {"higher": "Higher is better", "lower": "Lower is better"}
DATA_SOURCES = ("GP record", "QOF", "HES/SUS", "National Diabetes Audit", "local survey", "provider system",
                "ONS mortality", "other")
# Data sources about one population: offered only to groups from that population template (and kept
# where a definition already names one), so a frailty framework is never offered a diabetes audit.
TEMPLATE_DATA_SOURCES = {"National Diabetes Audit": "adults-with-diabetes"}
FREQUENCIES = ("continuous", "daily", "weekly", "monthly", "quarterly", "six-monthly", "annual")
BREAKDOWNS = ("age", "sex", "ethnicity", "deprivation", "locality")
ACHIEVEMENT = {"linear": "Linear between baseline and target (partial achievement)",
               "all_or_nothing": "All or nothing (paid only when the target is met)"}
# Which thresholds the money follows: one of them, stated, so a schedule never pays on both silently.
PAYMENT_THRESHOLDS = {"targets": "The yearly targets (from the baseline); the RAG bands are for reporting only",
                      "rag_bands": "The RAG bands (green pays in full, amber in part, red nothing); the yearly "
                                   "targets are for reporting only"}
# Indicator codes by population template (else from the group's name): DIAB-01, FRAIL-01.
CODE_PREFIXES = {"adults-with-diabetes": "DIAB", "older-people-frailty": "FRAIL"}
INDICATOR_CODE = re.compile(r"[A-Z][A-Z0-9]{0,9}-[0-9]{1,3}[A-Z]?")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    section: str
    kind: str = "text"  # text, long, choice, number, date, flag, multi
    choices: tuple[str, ...] = ()
    required: bool = True  # needed before the framework can be frozen (unless a measurability gap)


SECTIONS = ("Identity", "Computation", "Data", "Performance", "Money", "Governance")
FIELDS: tuple[Field, ...] = (
    Field("population", "Population or cohort", "Identity", "long"),
    Field("indicator_name", "Indicator name", "Computation"),
    Field("indicator_type", "Indicator type", "Computation", "choice", tuple(INDICATOR_TYPES)),
    Field("numerator", "Numerator", "Computation", "long", required=False),
    Field("denominator", "Denominator", "Computation", "long", required=False),
    Field("unit", "Unit", "Computation", "choice", tuple(UNITS)),
    Field("direction", "Direction", "Computation", "choice", tuple(DIRECTIONS)),
    Field("case_mix_adjustment", "Case-mix adjustment", "Computation", "long", required=False),
    Field("instrument", "Instrument (PROMs and PREMs)", "Computation", required=False),
    Field("instrument_licence_note", "Instrument licence", "Computation", required=False),
    Field("time_points", "Time points", "Computation", required=False),
    Field("exclusions", "Exclusions", "Computation", "long"),
    Field("code_lists", "Code lists (SNOMED CT, ICD-10, OPCS-4)", "Computation", "long", required=False),
    Field("time_base", "Time base (for example rolling 12 months)", "Computation"),
    Field("data_source", "Data source", "Data", "choice", DATA_SOURCES),
    Field("data_owner", "Data owner", "Data"),
    Field("collection_frequency", "Collected", "Data", "choice", FREQUENCIES),
    Field("reporting_frequency", "Reported", "Data", "choice", FREQUENCIES),
    Field("reporting_lag_months", "Reporting lag (months)", "Data", "number"),
    Field("small_number_rule", "Small-number rule", "Data", "long"),
    Field("breakdowns", "Breakdowns for inequalities", "Data", "multi", BREAKDOWNS, required=False),
    Field("no_routine_data", "No routine data source yet (measurability gap)", "Data", "flag", required=False),
    Field("gap_plan", "How the data will be collected", "Data", "long", required=False),
    Field("measurement_period", "Measurement period that counts for each contract year", "Data", "long"),
    Field("data_submission", "Data submission (what, when, how, to whom)", "Data", "long"),
    Field("evidence_indicator", "Indicator in the imported data (Fingertips ID or library key)", "Performance",
          required=False),
    Field("evidence_area", "Area code in the imported data (for example E38000240)", "Performance", required=False),
    Field("baseline_value", "Baseline value", "Performance", "number"),
    Field("baseline_period", "Baseline period", "Performance"),
    Field("baseline_source", "Baseline source", "Performance"),
    Field("comparator", "Comparator", "Performance", required=False),
    Field("rag_green", "Green at or better than", "Performance", "number"),
    Field("rag_amber", "Amber at or better than", "Performance", "number"),
    Field("achievement", "Achievement", "Money", "choice", tuple(ACHIEVEMENT)),
    Field("consequence_of_breach", "Consequence of breach", "Money", "long"),
    Field("payment_thresholds", "Thresholds that drive payment", "Money", "choice", tuple(PAYMENT_THRESHOLDS)),
    Field("payment_timing", "Payment timing (on account, year-end reconciliation)", "Money", "long"),
    Field("floor_cap", "Floor and cap", "Money", "long"),
    Field("breach_applies", "When the consequence of breach applies", "Money", "long"),
    Field("accountable_providers", "Accountable provider(s)", "Governance", "long"),
    Field("evidence", "Evidence to be supplied", "Governance", "long"),
    Field("review_date", "Review date", "Governance", "date"),
    Field("dispute_route", "Data quality and dispute route", "Governance", "long"),
    Field("indicator_key", "Library indicator", "Identity", required=False),
    Field("indicator_code", "Indicator code (for example DIAB-01)", "Identity"),
    Field("rationale", "Rationale", "Identity", "long"),
)
BY_NAME = {f.name: f for f in FIELDS}
# Needed even for a measurability gap: what it is and how the gap will be closed.
GAP_REQUIRED = ("population", "indicator_name", "indicator_type", "gap_plan",
                "accountable_providers", "review_date")
MAX_TEXT = 2000
# ASCII digits (\d would take "٣"), bounded so no value is thousands of digits long.
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
# Number rules (README, "Numbers a contract can rely on"): the decimal mark is a point. A comma is
# read only as a thousands separator in whole groups of three ("1,000", "12,500.5"); any other comma
# ("3,5", "1,00") is refused, so a decimal comma is never silently read as 35.
_GROUPED = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,6})?")
# The values a target or threshold is compared on: every one of them is checked the same way.
VALUE_FIELDS = ("baseline_value", "rag_green", "rag_amber")


def choices_for(f: Field, template_slug: str | None, current: object = "") -> tuple[str, ...]:
    """The options a form shows for a choice field, for a group from `template_slug` (None: blank)."""
    return tuple(c for c in f.choices
                 if TEMPLATE_DATA_SOURCES.get(c, template_slug) == template_slug or c == current)


def code_prefix(group_name: str, template_slug: str | None) -> str:
    """The letters before the number in an indicator code: the template's, else the group's name."""
    if template_slug in CODE_PREFIXES:
        return CODE_PREFIXES[template_slug]
    words = [w for w in re.findall(r"[A-Za-z]+", group_name) if w.lower() not in {"adults", "people", "with", "and",
                                                                                  "the", "of", "older", "children"}]
    return (words[-1][:5] if words else "OUT").upper()


def default_codes(prefix: str, codes: Sequence[str]) -> list[str]:
    """Each definition's code: its own when given, else PREFIX-NN from its position (1-based), or the
    next number up when another definition already uses that one."""
    taken = {c for c in codes if c}
    out: list[str] = []
    for position, code in enumerate(codes, start=1):
        if code:
            out.append(code)
            continue
        n = position
        while f"{prefix}-{n:02d}" in taken:
            n += 1
        out.append(f"{prefix}-{n:02d}")
        taken.add(out[-1])
    return out


def duplicate_codes(codes: Sequence[str]) -> set[str]:
    seen: set[str] = set()
    return {c for c in codes if c and (c in seen or seen.add(c))}  # type: ignore[func-returns-value]


def empty_definition(years: Sequence[str]) -> dict[str, Any]:
    definition: dict[str, Any] = {f.name: "" for f in FIELDS}
    definition.update(breakdowns=[], no_routine_data=False, targets=[{"year": y, "value": ""} for y in years])
    return definition


def normalise(definition: Mapping[str, Any], years: Sequence[str]) -> dict[str, Any]:
    """Every field present, targets aligned with the contract years (values kept by year label)."""
    out = empty_definition(years)
    for key in out:
        if key in definition and key != "targets":
            out[key] = definition[key]
    by_year = {t.get("year"): t.get("value", "") for t in definition.get("targets", []) if isinstance(t, dict)}
    out["targets"] = [{"year": y, "value": str(by_year.get(y, ""))} for y in years]
    return out


def _decimal(value: str) -> Decimal | None:
    if not _NUMBER.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return None


def plain_number(text: str) -> str | None:
    """A typed number with its thousands separators taken out ("1,000" -> "1000"), or None when a
    comma is not one ("3,5": a decimal comma is refused, never read as 35)."""
    if "," not in text:
        return text
    return text.replace(",", "") if _GROUPED.fullmatch(text) else None


def _number_error(label: str, text: str) -> str:
    if "," in text and plain_number(text) is None:
        return f"{label} must use a point for decimals, like 3.5 (a comma only separates thousands, like 1,000)"
    return f"{label} must be a number, like 58 or 12.5"


def parse_form(form: Mapping[str, Any], years: Sequence[str], *, today: date,
               paid_years: Sequence[str] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """A definition from a submitted form, and the errors that refuse it (a part-done form is fine;
    an inconsistent one is not). Field errors are keyed by field name (targets: target-<i>).
    `paid_years` (default: every year) are the years whose targets drive payment."""
    errors: dict[str, str] = {}
    out = empty_definition(years)
    for f in FIELDS:
        raw = form.get(f.name, "")
        if f.kind == "flag":
            out[f.name] = raw in ("yes", "true", "on", True)
            continue
        if f.kind == "multi":
            values = raw if isinstance(raw, list | tuple) else [v for v in str(raw).split(",") if v]
            out[f.name] = [v for v in f.choices if v in values]
            continue
        # Cleaned like every other text: no control or bidi characters reach a contract.
        text = normalise_text(raw) if f.kind != "long" else normalise_paragraphs(raw)
        if len(text) > MAX_TEXT:
            errors[f.name] = f"{f.label} must be {MAX_TEXT:,} characters or fewer"
        if f.kind == "choice" and text and text not in f.choices:
            errors[f.name] = f"Choose one of the options for {f.label.lower()}"
        if f.name == "indicator_code" and text:
            text = text.upper()
            if not INDICATOR_CODE.fullmatch(text):
                errors[f.name] = "The indicator code must be letters, a hyphen and a number, like DIAB-01"
        if f.kind == "number" and text:
            plain = plain_number(text)
            if plain is None or _decimal(plain) is None:
                errors[f.name] = _number_error(f.label, text)
            else:
                text = plain
        if f.kind == "date" and text:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                errors[f.name] = f"{f.label} must be a date like 2027-09-30"
            else:
                if day <= today:
                    errors[f.name] = f"{f.label} must be in the future"
                elif day.year > today.year + 10:
                    errors[f.name] = f"{f.label} must be within the next 10 years"
        out[f.name] = text
    for i, year in enumerate(years):
        value = normalise_text(form.get(f"target-{i}", ""))
        plain = plain_number(value)
        if value and (plain is None or _decimal(plain) is None):
            errors[f"target-{i}"] = _number_error(f"The {year} target", value)
        else:
            value = plain or ""
        out["targets"][i]["value"] = value
    errors.update({k: v for k, v in _evidence_link_errors(out).items() if k not in errors})
    if "reporting_lag_months" not in errors and out["reporting_lag_months"]:
        lag = _decimal(out["reporting_lag_months"])
        if lag is not None and not 0 <= lag <= 36:
            errors["reporting_lag_months"] = "The reporting lag must be between 0 and 36 months"
    errors.update({k: v for k, v in consistency_errors(out, paid_years=paid_years).items() if k not in errors})
    return out, errors


MAX_EVIDENCE_CODE = 100  # as an imported file's codes (codesign.evidence.files.MAX_CODE)


def _evidence_link_errors(definition: Mapping[str, Any]) -> dict[str, str]:
    """The link to indicator data names both the indicator and the area, or neither."""
    indicator, area = str(definition.get("evidence_indicator", "")), str(definition.get("evidence_area", ""))
    errors: dict[str, str] = {}
    for key, value in (("evidence_indicator", indicator), ("evidence_area", area)):
        if len(value) > MAX_EVIDENCE_CODE:
            errors[key] = f"{BY_NAME[key].label} must be {MAX_EVIDENCE_CODE} characters or fewer"
    if indicator and not area:
        errors["evidence_area"] = "Enter the area code as well, so the indicator data can be compared"
    elif area and not indicator:
        errors["evidence_indicator"] = "Enter the indicator as well, so the area's data can be found"
    return errors


def consistency_errors(definition: Mapping[str, Any], *, paid_years: Sequence[str] | None = None) -> dict[str, str]:
    """Values that contradict each other or the unit: targets against the direction, RAG band order,
    a green band looser than the final target, a percentage over 100, a negative count or rate, and a
    linear payment with nothing to pay on (a paid year's target equal to the baseline)."""
    errors: dict[str, str] = {}
    unit = definition.get("unit", "")
    targets = [t for t in definition.get("targets", []) if isinstance(t, dict)]
    direction = definition.get("direction", "")
    baseline = _decimal(str(definition.get("baseline_value", "")))

    def better(a: Decimal, b: Decimal) -> bool:
        return a > b if direction == "higher" else a < b

    if direction in DIRECTIONS and baseline is not None:
        word = "above" if direction == "higher" else "below"
        for i, target in enumerate(definition.get("targets", [])):
            value = _decimal(str(target.get("value", "")))
            if value is not None and not better(value, baseline) and value != baseline:
                errors[f"target-{i}"] = (f"{DIRECTIONS[direction]}, so the {target['year']} target must be {word} "
                                         f"the baseline ({baseline}) or equal to it")
    green = _decimal(str(definition.get("rag_green", "")))
    amber = _decimal(str(definition.get("rag_amber", "")))
    if direction in DIRECTIONS and green is not None and amber is not None and not better(green, amber):
        word = "higher" if direction == "higher" else "lower"
        errors["rag_green"] = f"{DIRECTIONS[direction]}, so the green threshold must be {word} than the amber one"
    if direction in DIRECTIONS and definition.get("achievement") == "linear" and baseline is not None:
        # Linear pays the share of the way from baseline to target: with no way to go it is 0/0.
        paid = set(paid_years) if paid_years is not None else None
        for i, target in enumerate(targets):
            value = _decimal(str(target.get("value", "")))
            if value == baseline and (paid is None or target.get("year") in paid):
                errors[f"target-{i}"] = (f"Payment is linear between baseline and target, so the {target['year']} "
                                         f"target must differ from the baseline ({baseline}): there would be "
                                         "nothing to pay on")
    finals = [(i, v) for i, t in enumerate(targets) if (v := _decimal(str(t.get("value", "")))) is not None]
    if direction in DIRECTIONS and green is not None and finals and "rag_green" not in errors:
        final_i, final = finals[-1]
        if better(final, green):
            word = "at or above" if direction == "higher" else "at or below"
            errors["rag_green"] = (f"{DIRECTIONS[direction]}, so the green threshold must be {word} the final "
                                   f"target ({targets[final_i]['year']}: {final}); green cannot be easier to reach "
                                   "than the target")
    checked = [(name, BY_NAME[name].label, definition.get(name, "")) for name in VALUE_FIELDS]
    checked += [(f"target-{i}", f"The {t.get('year', '')} target", t.get("value", "")) for i, t in enumerate(targets)]
    for key, label, raw in checked:
        value = _decimal(str(raw))
        if value is None:
            continue
        if unit == "percent" and not 0 <= value <= 100:
            errors[key] = f"{label} is a percentage, so it must be between 0 and 100"
        elif unit in NON_NEGATIVE_UNITS and value < 0:
            errors[key] = f"{label} cannot be negative: the unit is {UNITS[unit]}"
    return errors


def is_gap(definition: Mapping[str, Any]) -> bool:
    """No routine data source: flagged as a measurability gap, never silently dropped."""
    return bool(definition.get("no_routine_data"))


def missing(definition: Mapping[str, Any], *, paid_years: Sequence[str]) -> list[str]:
    """Plain-English list of what must be filled in before freezing."""
    if is_gap(definition):
        return [BY_NAME[n].label for n in GAP_REQUIRED if not str(definition.get(n, "")).strip()]
    gaps = [f.label for f in FIELDS if f.required and f.kind not in ("flag", "multi")
            and not str(definition.get(f.name, "")).strip()]
    if definition.get("unit") in RATE_UNITS:
        gaps += [BY_NAME[n].label + " (needed for a rate or percentage)" for n in ("numerator", "denominator")
                 if not str(definition.get(n, "")).strip()]
    if definition.get("indicator_type") in ("PROM", "PREM") and not str(definition.get("instrument", "")).strip():
        gaps.append(BY_NAME["instrument"].label)
    for target in definition.get("targets", []):
        if target.get("year") in paid_years and not str(target.get("value", "")).strip():
            gaps.append(f"Target for {target['year']}")
    return gaps


def from_indicator(indicator: Mapping[str, Any], current: Mapping[str, Any], years: Sequence[str]) -> dict[str, Any]:
    """Prefill from a library indicator; fields the library does not cover keep their values."""
    out = normalise(current, years)
    mapping = {"indicator_name": "name", "indicator_type": "type"}
    for name in ("numerator", "denominator", "unit", "direction", "case_mix_adjustment", "instrument",
                 "instrument_licence_note", "time_points", "data_source", "data_owner", "collection_frequency",
                 "reporting_frequency", "small_number_rule", "comparator", "indicator_name", "indicator_type"):
        value = indicator.get(mapping.get(name, name))
        if value not in (None, ""):
            out[name] = str(value)
    if indicator.get("reporting_lag_months") is not None:
        out["reporting_lag_months"] = str(indicator["reporting_lag_months"])
    out["breakdowns"] = [b for b in BREAKDOWNS if b in indicator.get("breakdowns", [])]
    out["no_routine_data"] = not indicator.get("routine_data", True)
    if out["no_routine_data"] and not out.get("data_source"):
        out["data_source"] = ""
    out["indicator_key"] = str(indicator.get("key", ""))
    return out
