"""The indicator data a measurement definition links to, as one JSON-ready document.

A definition names an indicator (`evidence_indicator`: a Fingertips ID or a library key) and an
area (`evidence_area`). `linked_evidence` gives the comparison for them (docs/evidence.md) plus what
a frozen version must keep to be reproducible without the data: the indicator's name, the file the
area's figure came from and when it was imported, and whether the figures are illustrative (the
demo's made-up data say so in every row's value note). A frozen snapshot stores this document
under each outcome's `indicator_data`; the definition page and the appendix read it from there.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from codesign.contract.definition import UNITS
from codesign.contract.evidence_fill import baseline_mismatch
from codesign.errors import NotFound, ValidationFailed
from codesign.evidence.compare import UNIT_MULTIPLIERS
from codesign.models import FrameworkVersion, IndicatorValue, ShortlistItem
from codesign.queries.evidence import NATIONAL_CODE, get_comparison, get_data_multiplier, indicator_defaults
from codesign.queries.framework import get_version_view

__all__ = ["definition_evidence", "evidence_link", "evidence_warnings", "linked_evidence", "unit_conflict"]

ILLUSTRATIVE_MARK = "illustrative"
UNIT_OF_MULTIPLIER = {m: u for u, m in UNIT_MULTIPLIERS.items()}


def evidence_link(definition: dict[str, Any]) -> tuple[str, str] | None:
    indicator = str(definition.get("evidence_indicator") or "").strip()
    area = str(definition.get("evidence_area") or "").strip()
    return (indicator, area) if indicator and area else None


def _iso(row: IndicatorValue | None) -> str | None:
    return None if row is None else row.imported_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unit_problem(indicator: str, area: str, unit: str, found: float | None) -> str | None:
    """What to say when the definition's unit is not the unit the linked figures are in."""
    wanted = UNIT_MULTIPLIERS.get(unit)
    if wanted is None or found is None or found == wanted:
        return None
    data_unit = UNIT_OF_MULTIPLIER[found]
    return (f"The figures for indicator {indicator} in area {area} are {_unit_words(data_unit)} (value x denominator "
            f"/ count), but this definition's unit is {UNITS[unit]}. Change the unit to {UNITS[data_unit]}, or link "
            f"an indicator measured as {_unit_words(unit)}")


def _unit_words(unit: str) -> str:
    return "a percentage" if unit == "percent" else f"a {UNITS[unit]}"


def unit_conflict(db: Session, definition: dict[str, Any]) -> str | None:
    """Why the definition's unit disagrees with the data it links to, or None (no link, no figures
    with a count, a unit with no multiplier, or they agree)."""
    link = evidence_link(definition)
    if link is None:
        return None
    return _unit_problem(*link, str(definition.get("unit", "")), get_data_multiplier(db, *link))


def _direction_problem(indicator: str, direction: object) -> str | None:
    library_direction, _ = indicator_defaults(indicator)
    if library_direction is None or direction not in ("higher", "lower") or direction == library_direction:
        return None
    return (f"This definition says {direction} is better, but the indicator library says {library_direction} is "
            f"better for indicator {indicator}: the best five, the opportunity and the suggested targets follow "
            "this definition's direction. Check the direction")


def linked_evidence(db: Session, definition: dict[str, Any]) -> dict[str, Any] | None:
    """None when the definition links to no indicator data; {"available": false, "problem": ...}
    when it links to figures that are not there (or say nothing without a direction).

    The figures are compared in the unit they are in (inferred from Value, Count and Denominator),
    not the definition's when the two disagree: a definition saved before the data were imported
    (or the data re-imported) must not freeze numbers 100 times too big. `unit_problem` and
    `direction_problem` say where the definition disagrees with the data or the library."""
    link = evidence_link(definition)
    if link is None:
        return None
    indicator, area = link
    direction = definition.get("direction") or None
    unit = str(definition.get("unit", ""))
    found = get_data_multiplier(db, indicator, area)
    try:
        # The definition's multiplier unless the figures are plainly in another of the three units;
        # with no unit multiplier (a count, a mean score) the library's or the inferred one, as before.
        stated = UNIT_MULTIPLIERS.get(unit)
        comparison = get_comparison(db, indicator, area, direction=direction,
                                    multiplier=found if stated and found else stated)
    except (NotFound, ValidationFailed) as exc:
        problem = str(exc) if isinstance(exc, NotFound) else "; ".join(exc.errors.values())
        return {"indicator": indicator, "area": area, "available": False, "problem": problem}
    document = comparison.to_json()
    codes = [area, NATIONAL_CODE, *[p["area"] for p in document["peers"]]]
    rows = list(db.exec(select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator, col(IndicatorValue.area_code).in_(codes))))
    own = next((r for r in rows if r.area_code == area and r.period == comparison.period and not r.category_type),
               None)
    illustrative = any(ILLUSTRATIVE_MARK in (r.value_note + " " + r.area_name).casefold() for r in rows)
    document.update(available=True, indicator_name=own.indicator_name if own else "",
                    source=own.source if own else "", imported_at=_iso(own), illustrative=illustrative)
    problems = {"unit_problem": _unit_problem(indicator, area, unit, found),
                "direction_problem": _direction_problem(indicator, direction)}
    document.update({k: v for k, v in problems.items() if v})
    return document


def definition_evidence(db: Session, version_id: int, item_id: int) -> dict[str, Any] | None:
    """What a definition's page shows: a frozen version's kept figures (its snapshot), else the
    figures as they are now."""
    version = db.get(FrameworkVersion, version_id)
    item = db.get(ShortlistItem, item_id)
    if version is None or item is None or item.version_id != version_id:
        raise NotFound("No such outcome in this framework")
    if version.snapshot_json:
        kept = next((o for o in json.loads(version.snapshot_json)["outcomes"] if o["outcome_id"] == item.outcome_id),
                    None)
        return None if kept is None else kept.get("indicator_data")
    return linked_evidence(db, json.loads(item.definition_json or "{}"))


def evidence_warnings(db: Session, version_id: int) -> list[str]:
    """For a draft: each linked definition whose saved baseline no longer matches its data, whose
    unit is not the data's, or whose direction is not the library's. Warnings, not blocks: the
    commissioner may mean it (a locally audited baseline, a deliberately reversed indicator)."""
    view = get_version_view(db, version_id)
    if view.version.snapshot_json:
        return []
    out: list[str] = []
    for item in view.items:
        evidence = linked_evidence(db, item.definition)
        if not evidence or not evidence.get("available"):
            continue
        name = f"“{item.outcome.statement}”"
        mismatch = baseline_mismatch(item.definition, evidence)
        if mismatch:
            out.append(f"{name}: the baseline does not match the linked indicator data ({'; '.join(mismatch)}). "
                       "Use the data's on its measurement definition page, or keep it if that is intended.")
        out += [f"{name}: {evidence[k]}." for k in ("unit_problem", "direction_problem") if evidence.get(k)]
    return out
