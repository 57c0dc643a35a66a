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

from codesign.errors import NotFound, ValidationFailed
from codesign.evidence.compare import UNIT_MULTIPLIERS
from codesign.models import FrameworkVersion, IndicatorValue, ShortlistItem
from codesign.queries.evidence import NATIONAL_CODE, get_comparison

__all__ = ["definition_evidence", "evidence_link", "linked_evidence"]

ILLUSTRATIVE_MARK = "illustrative"


def evidence_link(definition: dict[str, Any]) -> tuple[str, str] | None:
    indicator = str(definition.get("evidence_indicator") or "").strip()
    area = str(definition.get("evidence_area") or "").strip()
    return (indicator, area) if indicator and area else None


def _iso(row: IndicatorValue | None) -> str | None:
    return None if row is None else row.imported_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def linked_evidence(db: Session, definition: dict[str, Any]) -> dict[str, Any] | None:
    """None when the definition links to no indicator data; {"available": false, "problem": ...}
    when it links to figures that are not there (or say nothing without a direction)."""
    link = evidence_link(definition)
    if link is None:
        return None
    indicator, area = link
    direction = definition.get("direction") or None
    try:
        comparison = get_comparison(db, indicator, area, direction=direction,
                                    multiplier=UNIT_MULTIPLIERS.get(str(definition.get("unit", ""))))
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
