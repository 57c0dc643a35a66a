"""The schedule: what the contract pays on. A summary table (one row per outcome) and, per
indicator, a specification in the shape of an NHS indicator specification, short enough for one
page: the identity and computation, the data, the thresholds and money, and governance.

Vote tables are not here: they are in the co-design annex (`_annex`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesign.contract.evidence_fill import area_label, opportunity_text, opportunity_words, peer_coverage
from codesign.export import _fields as F
from codesign.export import _labels as L
from codesign.export._model import Grid, Pairs

NOT_DRAWN = "The chart could not be drawn from these figures; the same numbers are in the table below."
# At most this many label/value rows in one specification (the one-page rule; tests check it).
MAX_ROWS = 28


@dataclass(frozen=True)
class EvidenceSpec:
    """The baseline against the similar areas (the indicator data the definition links to, as the
    snapshot kept it): a chart (drawn by the format from `data`) with its numbers as a table."""

    heading: str
    note: str
    alt: str
    peers: Grid
    summary: Pairs
    data: Mapping[str, Any]


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    heading: str
    gap: str | None
    rows: Pairs
    by_year: Grid
    evidence: EvidenceSpec | None = None


# Rows of a specification that mean nothing for an outcome with no routine data yet (reported only).
GAP_UNPAID_ROWS = frozenset({"Thresholds that drive payment", "Achievement", "RAG bands", "Payment timing",
                             "Floor and cap", "Consequence of breach"})


def code(outcome: Mapping[str, Any]) -> str:
    """The indicator code; versions frozen before codes existed number by rank."""
    return str(outcome.get("definition", {}).get("indicator_code") or f"OUT-{int(outcome['rank']):02d}")


def summary(snapshot: Mapping[str, Any], years: list[str]) -> Grid:
    rows = []
    for o in snapshot["outcomes"]:
        d = o["definition"]
        weight = L.percent_bp(int(o["payment_weight_bp"])) + (" (gap)" if o.get("measurability_gap") else "")
        rows.append((code(o), o["statement"], weight, L.label(L.UNIT_SHORT, d.get("unit")),
                     (L.measure(str(d.get("baseline_value") or ""), str(d.get("unit", ""))) or "Not set")
                     + (" (illustrative)" if (o.get("indicator_data") or {}).get("illustrative") else ""),
                     *[F.target(d, y) for y in years]))
    year_width = 9
    return Grid(header=("Code", "Outcome", "Weight", "Unit", "Baseline", *[f"Target {y}" for y in years]),
                rows=rows, widths=(10, max(100 - 10 - 9 - 10 - 10 - year_width * len(years), 20), 9, 10, 10,
                                   *[year_width] * len(years)),
                numeric=frozenset({2, 4, *range(5, 5 + len(years))}))


def _join(*parts: str) -> str:
    """Parts of one table cell, "; " between them (a part's closing full stop goes: never ".;")."""
    kept = [p.strip() for p in parts if p and p.strip() and p != L.NOT_STATED]
    return "; ".join([p.rstrip(".") for p in kept[:-1]] + kept[-1:])


def spec(snapshot: Mapping[str, Any], o: Mapping[str, Any], years: list[str]) -> IndicatorSpec:
    d = o["definition"]

    def v(key: str) -> str:
        return F.value(key, d)

    patient_reported = d.get("indicator_type") in ("PROM", "PREM")
    rows: Pairs = [
        ("Indicator code", code(o)),
        ("Indicator", _join(v("indicator_name"), v("indicator_type"))),
        ("Outcome (as voted)", _join(o["statement"], L.text(o.get("description")),
                                     (o.get("domain") or {}).get("name") or "")),
        ("Rationale", v("rationale")),
        ("Population", v("population")),
        ("Numerator", v("numerator")),
        ("Denominator", v("denominator")),
        ("Exclusions", v("exclusions")),
        ("Code lists", v("code_lists")),
        ("Unit and time base", _join(v("unit"), v("time_base"), v("direction"))),
        ("Case-mix adjustment", v("case_mix_adjustment")),
    ]
    if patient_reported:
        rows.append(("Instrument", _join(v("instrument"), v("instrument_licence_note"), v("time_points"))))
    rows += [
        ("Data source", _join(v("data_source"), f"owner {v('data_owner')}",
                              f"collected {v('collection_frequency').lower()}",
                              f"reported {v('reporting_frequency').lower()}", f"lag {v('reporting_lag_months')}")),
        ("Measurement period for each contract year", v("measurement_period")),
        ("Data submission", v("data_submission")),
        ("Baseline", _join(v("baseline_value"), v("baseline_period"), v("baseline_source"))
         + (f". Comparator: {v('comparator')}" if str(d.get("comparator") or "").strip() else "")
         + (f". Indicator data: {v('evidence_indicator')}, area {v('evidence_area')}"
            if str(d.get("evidence_indicator") or "").strip() else "")),
        ("Thresholds that drive payment", v("payment_thresholds")),
        ("Achievement", v("achievement") if d.get("payment_thresholds") != "rag_bands"
         else "Set by the RAG band reached"),
        ("RAG bands", f"Green at or better than {v('rag_green')}; amber at or better than {v('rag_amber')}"),
        ("Payment timing", v("payment_timing")),
        ("Floor and cap", v("floor_cap")),
        ("Small-number rule", v("small_number_rule")),
        ("Consequence of breach", _join(v("consequence_of_breach"), f"applies {v('breach_applies')}"
                                        if str(d.get("breach_applies") or "").strip() else "")),
        ("Data quality and dispute route", v("dispute_route")),
        ("Accountable provider(s)", _join(v("accountable_providers"), f"evidence: {v('evidence')}"
                                          if str(d.get("evidence") or "").strip() else "")),
        ("Inequalities and review", _join(f"breakdowns: {v('breakdowns')}", f"review {v('review_date')}")),
    ]
    shadow = {y["label"]: bool(y.get("shadow")) for y in snapshot["payment"]["years"]}
    money = L.money_by_year(o)
    by_year = Grid(header=("Contract year", "Target", "Money at stake", "Note"),
                   rows=[(y, F.target(d, y), L.money(money.get(y, 0)),
                          "Shadow year: reported only, no money" if shadow.get(y) else "")
                         for y in years],
                   widths=(18, 22, 22, 38), numeric=frozenset({1, 2}))
    gap = None
    if o.get("measurability_gap"):
        gap = (f"Measurability gap: no routine data source; reported only, weight "
               f"{L.percent_bp(int(o['payment_weight_bp']))}. Plan: {v('gap_plan')}")
        # Nothing is paid on it and nothing can be breached: say so once, rather than print
        # thresholds, payment terms and a breach clause with no data behind them.
        rows = [row for row in rows if row[0] not in GAP_UNPAID_ROWS]
        rows.insert(len(rows) - 3, ("Payment and breach", "Reported only: no payment and no breach while there is "
                                    "no routine data. Thresholds, payment and any breach clause are agreed when the "
                                    "data exists (a new version of this framework)."))
    weight = f"{L.percent_bp(int(o['payment_weight_bp']))} of each year's outcome-linked money"
    rows.insert(1, ("Payment weight", weight))
    return IndicatorSpec(code=code(o), heading=f"{code(o)}: {o['statement']}", gap=gap, rows=rows,
                         by_year=by_year, evidence=evidence_spec(o))


def _figure(value: object, places: int = 1) -> str:
    return "" if value is None else f"{float(str(value)):,.{places}f}"


def _comparison(ev: Mapping[str, Any]) -> list[tuple[str, str, float | None, float | None, str]]:
    """(code, label, value, denominator, role) for the area, its peers best first, and England."""
    from codesign.evidence.charts import this_area  # text only (matplotlib is imported to draw)

    best = set(ev.get("best5") or [])
    valued = sorted((p for p in ev.get("peers") or [] if p.get("value") is not None),
                    key=lambda p: float(p["value"]), reverse=ev.get("direction") == "higher")
    peers = valued + [p for p in ev.get("peers") or [] if p.get("value") is None]
    rows = [(ev["area"], this_area(area_label(str(ev.get("area_name") or ""), ev["area"])), ev.get("value"),
             ev.get("denominator"), "This area")]
    rows += [(p["area"], area_label(str(p.get("area_name") or ""), p["area"]), p.get("value"), p.get("denominator"),
              "Similar area, among the best 5" if p["area"] in best else "Similar area") for p in peers]
    if ev.get("national") is not None:
        rows.append(("E92000001", "England", ev["national"], None, "National"))
    return rows


def illustrative_note(ev: Mapping[str, Any]) -> str:
    return ("ILLUSTRATIVE values, not real statistics: made up for the demo. " if ev.get("illustrative") else "")


def evidence_spec(o: Mapping[str, Any]) -> EvidenceSpec | None:
    """The baseline against peers and the opportunity, for an outcome whose definition links to
    indicator data that were there when it was frozen."""
    ev = o.get("indicator_data")
    if not ev or not ev.get("available") or ev.get("value") is None:
        return None
    # Imported here: matplotlib loads only for an appendix with indicator data.
    from codesign.evidence.charts import fmt_value, peers_alt

    peers = Grid(header=("Area", "Value", "Denominator", "Compared as"),
                 rows=[(label, _figure(value), _figure(denominator, 0), role)
                       for _code, label, value, denominator, role in _comparison(ev)],
                 widths=(46, 14, 16, 24), numeric=frozenset({1, 2}))
    summary: Pairs = [
        ("Indicator data", f"{ev.get('indicator_name') or ev['indicator']} (indicator {ev['indicator']}), "
                           f"{ev.get('period', '')}; {ev.get('source') or 'imported file'}, imported "
                           f"{str(ev.get('imported_at') or '')[:10]}"),
        ("Peer mean and best-5 mean", f"{fmt_value(ev.get('peer_mean'), ev)}; {fmt_value(ev.get('best5_mean'), ev)} "
                                      f"({', '.join(ev.get('best5') or [])})"),
        ("Opportunity", opportunity_text(ev)),
    ]
    if not ev.get("peers"):
        summary.insert(1, ("Similar areas", "None set for this area when the version was frozen"))
    elif (coverage := peer_coverage(ev)) is not None:
        summary.insert(1, ("Similar areas with a figure", coverage))
    return EvidenceSpec(heading=f"{code(o)}: baseline against similar areas",
                        note=illustrative_note(ev) + "Figures kept in this version when it was frozen.",
                        alt=peers_alt(ev), peers=peers, summary=summary, data=ev)


def comparison_rows(snapshot: Mapping[str, Any]) -> list[list[Any]]:
    """The comparison data of every linked indicator, one row per area (for a spreadsheet):
    code, indicator, period, area, value, lower and upper 95%, count, denominator, role, note,
    unit, source (the file and its import date)."""
    out: list[list[Any]] = []
    for o in snapshot["outcomes"]:
        ev = o.get("indicator_data")
        if not ev or not ev.get("available"):
            continue
        note = illustrative_note(ev).strip()
        from codesign.evidence.charts import unit  # matplotlib only for an appendix with indicator data

        kept = [unit(ev) or "as in the file", f"{ev.get('source') or 'imported file'}, imported "
                                             f"{str(ev.get('imported_at') or '')[:10]}"]
        name = f"{ev.get('indicator_name') or ev['indicator']} ({ev['indicator']})"
        for area, label, value, denominator, role in _comparison(ev):
            own = area == ev["area"]
            out.append([code(o), name, ev.get("period", ""), label, value, ev.get("lower_ci95") if own else None,
                        ev.get("upper_ci95") if own else None, ev.get("count") if own else None, denominator, role,
                        note, *kept])
        for label, value in (("Peer mean", ev.get("peer_mean")), ("Best-5 mean", ev.get("best5_mean")),
                             (f"Opportunity ({opportunity_words(ev)})", ev.get("opportunity"))):
            out.append([code(o), name, ev.get("period", ""), label, value, None, None, None, None, "Summary", note,
                        *kept])
    return out
