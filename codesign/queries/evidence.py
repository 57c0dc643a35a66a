"""Reads of indicator data and peer groups, and the comparison for an indicator, area and period.

`get_comparison` is what the CLI prints and what a measurement definition's page (and the frozen
appendix) can call: it gathers the figures from the database and hands them to the pure
codesign.evidence.compare.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from codesign.errors import NotFound, ValidationFailed
from codesign.evidence import Comparison, Observation, PeriodData, compare, data_multiplier
from codesign.evidence.compare import UNIT_MULTIPLIERS, Direction
from codesign.library import indicator_library
from codesign.models import IndicatorValue, PeerLink

__all__ = ["NATIONAL_CODE", "IndicatorSummary", "PeerGroup", "comparison_inputs", "get_comparison",
           "get_data_multiplier", "indicator_defaults", "list_indicators", "list_peer_groups"]

NATIONAL_CODE = "E92000001"  # England, as Fingertips codes it


@dataclass(frozen=True)
class IndicatorSummary:
    indicator_id: str
    name: str
    areas: int
    periods: int
    latest_period: str
    source: str
    imported_at: datetime


@dataclass(frozen=True)
class PeerGroup:
    area_code: str
    area_name: str
    peers: tuple[tuple[str, str], ...]  # (code, name); the name is "" when no figures name the area


def _area_names(db: Session) -> dict[str, str]:
    return {code: name for code, name in db.exec(
        select(IndicatorValue.area_code, func.max(IndicatorValue.area_name)).group_by(
            col(IndicatorValue.area_code)))}


def list_indicators(db: Session) -> list[IndicatorSummary]:
    rows = db.execute(sa_select(
        col(IndicatorValue.indicator_id), func.max(IndicatorValue.indicator_name),
        func.count(func.distinct(IndicatorValue.area_code)), func.count(func.distinct(IndicatorValue.period)),
        func.max(IndicatorValue.period), func.max(IndicatorValue.source), func.max(IndicatorValue.imported_at),
    ).group_by(col(IndicatorValue.indicator_id)).order_by(col(IndicatorValue.indicator_id))).all()
    return [IndicatorSummary(*row) for row in rows]


def list_peer_groups(db: Session) -> list[PeerGroup]:
    names = _area_names(db)
    groups: dict[str, list[str]] = {}
    for link in db.exec(select(PeerLink).order_by(col(PeerLink.area_code), col(PeerLink.id))):
        groups.setdefault(link.area_code, []).append(link.peer_code)
    return [PeerGroup(area, names.get(area, ""), tuple((p, names.get(p, "")) for p in peers))
            for area, peers in groups.items()]


def peers_of(db: Session, area: str) -> list[str]:
    return list(db.exec(select(PeerLink.peer_code).where(PeerLink.area_code == area).order_by(col(PeerLink.id))))


def _observation(row: IndicatorValue) -> Observation:
    return Observation(row.area_code, row.value, row.lower_ci95, row.upper_ci95, row.count, row.denominator,
                       row.area_name)


def comparison_inputs(db: Session, indicator: str, area: str) -> dict[str, PeriodData]:
    """Each period's figures for the area, its peers and England: the whole-population rows
    (no category), for the area's sex and age breakdown ("Persons" first, else its commonest)."""
    peers = peers_of(db, area)
    wanted = [area, NATIONAL_CODE, *peers]
    rows = list(db.exec(select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator, IndicatorValue.category_type == "",
        col(IndicatorValue.area_code).in_(wanted))))
    own = Counter((r.sex, r.age) for r in rows if r.area_code == area)
    if not own:
        raise NotFound(f"There are no figures for indicator {indicator} in area {area}")
    breakdown = max(own, key=lambda k: (k[0].casefold() == "persons", own[k], k))
    chosen = [r for r in rows if (r.sex, r.age) == breakdown]
    # A peer with no figure for a period is still named (from its other periods' rows), so the page
    # can say which similar areas are missing rather than show a bare code.
    names = {r.area_code: r.area_name for r in rows if r.area_name}
    data: dict[str, PeriodData] = {}
    for period in sorted({r.period for r in chosen if r.area_code == area}):
        by_area = {r.area_code: r for r in chosen if r.period == period}
        local = by_area.get(area)
        national = by_area.get(NATIONAL_CODE)
        data[period] = PeriodData(
            _observation(local) if local else None, _observation(national) if national else None,
            tuple(_observation(by_area[p]) if p in by_area else Observation(p, None, area_name=names.get(p, ""))
                  for p in peers))
    return data


def indicator_defaults(indicator: str) -> tuple[Direction | None, float | None]:
    """The direction and multiplier the indicator library gives for a library key, if any."""
    found = indicator_library().get(indicator) or {}
    direction = found.get("direction")
    return (direction if direction in ("higher", "lower") else None,
            UNIT_MULTIPLIERS.get(str(found.get("unit", ""))))


def get_data_multiplier(db: Session, indicator: str, area: str) -> float | None:
    """The unit the linked figures are in (100, 1,000 or 100,000), inferred from their Value, Count
    and Denominator; None when there are no figures or none has a count."""
    try:
        data = comparison_inputs(db, indicator, area)
    except NotFound:
        return None
    return data_multiplier([o for d in data.values() for o in (d.local, d.national, *d.peers)])


def get_comparison(db: Session, indicator: str, area: str, period: str | None = None,
                   direction: str | None = None, multiplier: float | None = None) -> Comparison:
    """The comparison from the stored figures. Direction: as given (from a measurement definition, or
    the command line), else the indicator library's; NotFound without figures, ValidationFailed
    without a direction or for a period with no figures."""
    data = comparison_inputs(db, indicator, area)
    library_direction, library_multiplier = indicator_defaults(indicator)
    chosen = direction or library_direction
    if chosen not in ("higher", "lower"):
        raise ValidationFailed({"direction": f"Say whether higher or lower is better for indicator {indicator}"})
    if period is not None and period not in data:
        raise ValidationFailed({"period": f"Area {area} has no figures for {indicator} in period {period}; "
                                          f"it has {', '.join(data)}"})
    return compare(indicator, area, data, chosen, period=period,  # type: ignore[arg-type]
                   multiplier=multiplier or library_multiplier)
