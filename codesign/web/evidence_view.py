"""The indicator data section of a measurement definition's page: three charts (SVG, as data
URIs in <img> with a text alternative) each with the same numbers as a table, a summary, and the
suggested targets. Built from the comparison document alone (live, or a frozen snapshot's), so
what a frozen version shows never depends on the data still being there."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codesign.contract.evidence_fill import (
    ILLUSTRATIVE,
    area_label,
    baseline_mismatch,
    opportunity_text,
    peer_coverage,
    suggest_targets,
    value_places,
)
from codesign.evidence import charts

log = logging.getLogger(__name__)
NOT_DRAWN = "This chart could not be drawn from these figures. The same numbers are in the table below."


@dataclass(frozen=True)
class ChartView:
    id: str
    title: str
    alt: str
    src: str  # data:image/svg+xml;base64,..., or "" when drawing failed (the table stands in)
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass(frozen=True)
class EvidencePanel:
    evidence: dict[str, Any]
    summary: list[tuple[str, str]]
    charts: list[ChartView]
    suggested: list[tuple[str, str]] | None  # (year, target), or None: nothing to suggest
    illustrative: str | None
    problems: list[str]  # where the definition disagrees with the data (unit) or the library (direction)
    mismatch: list[str]  # how the saved baseline differs from the data's ([] when it matches or is unset)
    coverage: str | None  # "8 of 10 similar areas have a figure for 2024/25 ...", None when all have
    no_peers: bool


def _uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _num(value: object, places: int = 1) -> str:
    return "" if value is None else f"{float(str(value)):,.{places}f}"


def _whole(value: object) -> str:
    return "" if value is None else f"{float(str(value)):,.0f}"


def _name(ev: Mapping[str, Any], code: str) -> str:
    label = area_label(charts.area_name(ev, code), code)
    return charts.this_area(label) if code == ev["area"] else label


def _peer_rows(ev: Mapping[str, Any]) -> list[tuple[str, ...]]:
    best = set(ev.get("best5") or [])
    areas = [(p["area"], p.get("value"), p.get("denominator")) for p in ev.get("peers") or []]
    areas.append((ev["area"], ev.get("value"), ev.get("denominator")))
    valued = sorted((a for a in areas if a[1] is not None), key=lambda a: float(a[1]),
                    reverse=ev.get("direction") == "higher")
    places = value_places(ev)
    rows: list[tuple[str, ...]] = [(_name(ev, code), _num(value, places), _whole(denominator),
                                    "Yes" if code in best else "")
            for code, value, denominator in valued + [a for a in areas if a[1] is None]]
    rows += [(label, _num(ev.get(key), places), "", "") for key, label in
             (("best5_mean", "Best-5 mean"), ("peer_mean", "Peer mean"), ("national", "England"))
             if ev.get(key) is not None]
    return rows


def _funnel_rows(ev: Mapping[str, Any]) -> list[tuple[str, ...]]:
    funnel = ev.get("funnel") or {}
    out95, out998 = set(funnel.get("outside95") or []), set(funnel.get("outside") or [])
    points = [(p["area"], p.get("value"), p.get("denominator")) for p in ev.get("peers") or []]
    points.append((ev["area"], ev.get("value"), ev.get("denominator")))
    return [(_name(ev, code), _num(value), _whole(denominator),
             "Outside 99.8%" if code in out998 else "Outside 95%" if code in out95 else "Within")
            for code, value, denominator in points if value is not None and denominator]


def _trend_rows(ev: Mapping[str, Any]) -> list[tuple[str, ...]]:
    return [(str(t["period"]), _num(t.get("value")),
             f"{_num(t['lower_ci95'])} to {_num(t['upper_ci95'])}" if t.get("lower_ci95") is not None
             and t.get("upper_ci95") is not None else "", _num(t.get("peer_mean")), _num(t.get("national")))
            for t in ev.get("trend") or []]


def _summary(ev: Mapping[str, Any]) -> list[tuple[str, str]]:
    value = charts.fmt_value(ev.get("value"), ev)
    if ev.get("lower_ci95") is not None and ev.get("upper_ci95") is not None:
        value += f" (95% interval {_num(ev['lower_ci95'])} to {_num(ev['upper_ci95'])})"
    rows = [("Indicator", f"{ev.get('indicator_name') or ev['indicator']} ({ev['indicator']})"),
            ("Area", area_label(str(ev.get("area_name") or ""), ev["area"])), ("Period", str(ev.get("period", ""))),
            ("Value", value)]
    if ev.get("count") is not None and ev.get("denominator") is not None:
        rows.append(("Count and denominator", f"{_whole(ev['count'])} of {_whole(ev['denominator'])}"))
    rows += [("England", charts.fmt_value(ev.get("national"), ev)),
             ("Peer mean", charts.fmt_value(ev.get("peer_mean"), ev)),
             ("Best-5 mean", charts.fmt_value(ev.get("best5_mean"), ev)),
             ("Opportunity", opportunity_text(ev)),
             ("Source", f"{ev.get('source') or 'an imported file'}, imported {str(ev.get('imported_at') or '')[:10]}")]
    return rows


CHARTS: tuple[tuple[str, str, Callable[..., bytes | None], Callable[[Mapping[str, Any]], str],
                     tuple[str, ...], Callable[[Mapping[str, Any]], list[tuple[str, ...]]]], ...] = (
    ("peers", "Compared with similar areas", charts.peers_chart, charts.peers_alt,
     ("Area", "Value", "Denominator", "Among the best 5"), _peer_rows),
    ("funnel", "Funnel plot", charts.funnel_chart, charts.funnel_alt,
     ("Area", "Value", "Denominator", "Control limits"), _funnel_rows),
    ("trend", "Trend", charts.trend_chart, charts.trend_alt,
     ("Period", "Value", "95% interval", "Peer mean", "England"), _trend_rows),
)


def _draw(key: str, draw: Callable[..., bytes | None], evidence: Mapping[str, Any]) -> bytes | Exception | None:
    """The chart, None when there is nothing to draw, or the error when drawing failed: a chart that
    cannot be drawn (figures a frozen version kept that contradict each other) must never take the
    page down; it is logged and its table stands in."""
    try:
        return draw(evidence, "svg")
    except Exception as exc:  # any failure inside matplotlib: the table still says everything
        log.exception("The %s chart could not be drawn for indicator %s, area %s", key, evidence.get("indicator"),
                      evidence.get("area"))
        return exc


def evidence_panel(evidence: dict[str, Any] | None, years: Sequence[str],
                   definition: Mapping[str, Any] | None = None) -> EvidencePanel | None:
    """None when the definition links to no data, or the linked data are missing (the page says so).
    `definition` (the saved one) is checked against the data: a baseline that no longer matches."""
    if not evidence or not evidence.get("available"):
        return None
    views = []
    for key, title, draw, alt, header, rows in CHARTS:
        svg = _draw(key, draw, evidence)
        if isinstance(svg, Exception):
            views.append(ChartView(key, title, NOT_DRAWN, "", header, rows(evidence)))
        elif svg is not None:
            views.append(ChartView(key, title, alt(evidence), _uri(svg), header, rows(evidence)))
    no_peers = not evidence.get("peers")
    targets = None if no_peers else suggest_targets(evidence, years)
    problems = [str(evidence[k]) for k in ("unit_problem", "direction_problem") if evidence.get(k)]
    return EvidencePanel(evidence, _summary(evidence), views,
                         None if targets is None else list(zip(years, targets, strict=True)),
                         ILLUSTRATIVE if evidence.get("illustrative") else None, problems,
                         baseline_mismatch(definition or {}, evidence), peer_coverage(evidence), no_peers)
