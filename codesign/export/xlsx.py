"""Appendix A as an Excel workbook (openpyxl): Outcomes, Vote summary, Methods, Payment, Comparison
data (only when an outcome links to indicator data), About.

Numbers are numbers (weights and shares as percentages, money in pounds with a £ format,
measured values as entered); every text cell is written as a string-typed cell (cells.text_cell),
so no cell is ever a formula, and text such as "- fewer falls" reads as typed, with no apostrophe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO, NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from codesign.export import _fields
from codesign.export import _labels as L
from codesign.export._annex import Annex, build_annex
from codesign.export._content import TITLE, contract_parties, footer_text
from codesign.export._schedule import comparison_rows
from codesign.export._signoff import approval_line
from codesign.export.cells import text_cell
from codesign.naming import round_label

MONEY = '"£"#,##0.00'
PERCENT = "0.0%"
SHARE = "0.00%"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1EA")
WRAP = Alignment(wrap_text=True, vertical="top")


class Cell(NamedTuple):
    """A value with its own number format (where a column mixes kinds, as on Payment)."""

    value: Any
    fmt: str


class Column(NamedTuple):
    header: str
    width: float
    fmt: str | None = None


def write_xlsx(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO) -> None:
    """Write the appendix for `snapshot` (whose hash is `sha256`) to `stream` as an .xlsx workbook."""
    L.check_sha256(snapshot, sha256)
    wb = Workbook()
    wb.remove(wb.active)
    years = L.year_labels(snapshot)
    _sheet(wb, "Outcomes", *_outcomes(snapshot, years), freeze="D2")
    _sheet(wb, "Vote summary", *_votes(snapshot), freeze="D2")
    _sheet(wb, "Methods", [Column("Section", 30), Column("Item", 34), Column("Detail", 90)],
           _methods(build_annex(snapshot)))
    _sheet(wb, "Payment", *_payment(snapshot), freeze="B2")
    comparison = comparison_rows(snapshot)
    if comparison:
        _sheet(wb, "Comparison data", COMPARISON_COLUMNS, comparison, freeze="E2")
    _sheet(wb, "About", [Column("Item", 26), Column("Detail", 100)], _about(snapshot, sha256))
    fw = snapshot["framework"]
    wb.properties.title = L.printable(fw.get("title") or TITLE)
    wb.properties.creator = L.printable((fw.get("frozen_by") or {}).get("name", ""))
    wb.properties.description = footer_text(snapshot, sha256)
    try:
        frozen = datetime.fromisoformat(fw.get("frozen_at") or "").replace(tzinfo=None)
        wb.properties.created = wb.properties.modified = frozen
    except ValueError:
        pass
    wb.save(stream)


# The indicator data each linked outcome was compared on, as frozen (_schedule.comparison_rows).
COMPARISON_COLUMNS = [Column("Code", 10), Column("Indicator", 40), Column("Period", 10), Column("Area", 40),
                      Column("Value", 10, "0.0##"), Column("Lower 95%", 10, "0.0##"), Column("Upper 95%", 10, "0.0##"),
                      Column("Count", 10, "#,##0"), Column("Denominator", 12, "#,##0"), Column("Compared as", 24),
                      Column("Note", 40), Column("Unit", 12), Column("Source", 40)]


def _put(ws: Any, row: int, col: int, value: Any, fmt: str | None) -> None:
    if isinstance(value, Cell):
        value, fmt = value.value, value.fmt
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        text_cell(cell, L.printable(value))
        cell.alignment = WRAP
    elif isinstance(value, Decimal):
        cell.value = int(value) if value == value.to_integral_value() else float(value)
    else:
        cell.value = value
    if fmt and cell.value is not None and not isinstance(cell.value, str):
        cell.number_format = fmt


def _sheet(wb: Any, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
           freeze: str = "A2") -> None:
    ws = wb.create_sheet(title)
    for c, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c)
        text_cell(cell, column.header)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
        ws.column_dimensions[get_column_letter(c)].width = column.width
    for r, values in enumerate(rows, start=2):
        for c, (value, column) in enumerate(zip(values, columns, strict=False), start=1):
            if value is not None and value != "":
                _put(ws, r, c, value, column.fmt)
    ws.freeze_panes = freeze


def pounds(pence: int) -> Decimal:
    return Decimal(pence) / 100


def _measured(raw: str) -> Decimal | str | None:
    """A decimal string as a number; anything else as the text entered; empty as a blank cell."""
    if not raw.strip():
        return None
    number = L.decimal_or_none(raw)
    return number if number is not None else raw


def _weight_format(snapshot: Mapping[str, Any]) -> str:
    weights = [int(o["payment_weight_bp"]) for o in snapshot["outcomes"]]
    return "0%" if all(w % 100 == 0 for w in weights) else PERCENT if all(w % 10 == 0 for w in weights) else SHARE


def _outcomes(snapshot: Mapping[str, Any], years: list[str]) -> tuple[list[Column], list[list[Any]]]:
    columns = [Column("Rank", 7), Column("Outcome ID", 10), Column("Outcome", 40), Column("Description", 36),
               Column("Domain", 30), Column("Payment weight", 10, _weight_format(snapshot)),
               Column("Measurability gap", 12), Column("Decision", 24), Column("Decision reason", 40),
               Column("Source round", 24), Column("Computed rank", 10), Column("Computed score", 10),
               Column("Consensus", 12)]
    for key in _fields.KEYS:
        if key == "targets":
            columns += [Column(f"Target {y}", 11) for y in years]
        elif key == "reporting_lag_months":
            columns.append(Column("Reporting lag (months)", 11))
        else:
            columns.append(Column(_fields.LABELS[key], 11 if key in _fields.MEASURED else 24))
    columns += [Column(f"Money at stake {y} (£)", 16, MONEY) for y in years]
    columns += [Column("Sources", 50), Column("Changes in moderation", 50)]
    rows = []
    for o in snapshot["outcomes"]:
        d, computed, decision = o["definition"], o.get("computed") or {}, o.get("decision") or {}
        row: list[Any] = [o["rank"], o["outcome_id"], o["statement"], o.get("description", ""),
                          (o.get("domain") or {}).get("name", ""), Decimal(int(o["payment_weight_bp"])) / 10000,
                          L.yes_no(o.get("measurability_gap")),
                          L.label(L.DEPARTURE_ACTIONS, decision["action"]) if decision else "",
                          decision.get("reason", ""), round_label(o.get("source_round") or {}),
                          computed.get("rank"), computed.get("score"), L.consensus(computed)]
        targets = L.targets_by_year(d)
        for key in _fields.KEYS:
            if key == "targets":
                row += [_measured(targets.get(y, "")) for y in years]
            elif key in _fields.MEASURED:
                row.append(_measured(str(d.get(key, ""))))
            else:
                row.append(_fields.value(key, d))
        money = L.money_by_year(o)
        row += [pounds(money[y]) if y in money else None for y in years]
        row += [_sources_text(o), _changes_text(o)]
        rows.append(row)
    return columns, rows


def _sources_text(o: Mapping[str, Any]) -> str:
    return "\n".join(f"{L.label(L.SOURCE_KINDS, s.get('kind'))}"
                     f"{' (' + s['group'] + ')' if s.get('group') else ''}: {s.get('statement', '')}"
                     for s in o["provenance"].get("sources", []))


def _changes_text(o: Mapping[str, Any]) -> str:
    return "\n".join(f"{L.when(h.get('at'))}: {L.label(L.HISTORY_ACTIONS, h.get('action'))} "
                     f"from \u201c{h.get('from', '')}\u201d to \u201c{h.get('to', '')}\u201d. "
                     f"Reason: {h.get('reason') or L.NOT_STATED}"
                     for h in o["provenance"].get("history", []))


def _votes(snapshot: Mapping[str, Any]) -> tuple[list[Column], list[list[Any]]]:
    columns = [Column("Rank", 7), Column("Outcome ID", 10), Column("Outcome", 40), Column("Group key", 14),
               Column("Stakeholder group", 18), Column("People (n)", 10), Column("Score (0-1)", 10),
               Column("Group rank", 10), Column("Rated 7-9", 10, PERCENT), Column("Rated 1-3", 10, PERCENT),
               Column("Suppressed", 11), Column("Note", 34)]
    rows = []
    for o in snapshot["outcomes"]:
        size = L.min_group_size(snapshot, (o.get("source_round") or {}).get("id"))
        for key, g in o.get("votes", {}).get("groups", {}).items():
            head = [o["rank"], o["outcome_id"], o["statement"], key, g.get("name") or key]
            if g.get("suppressed"):
                rows.append([*head, None, None, None, None, None, "Yes", L.suppressed_text(size)])
                continue
            pcts = [None if g.get(k) is None else Decimal(str(g[k])) / 100 for k in ("pct_7_9", "pct_1_3")]
            rows.append([*head, g.get("n"), g.get("score"), g.get("rank"), *pcts, "No", ""])
    return columns, rows


def _methods(annex: Annex) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for grid, section in ((annex.participants, "Who took part"), (annex.agreement, "Agreement (Kendall's W)")):
        for values in grid.rows:
            for header, value in zip(grid.header[1:], values[1:], strict=False):
                rows.append([section, f"{values[0]}: {header}", value])
    rows.append(["Agreement (Kendall's W)", "What it means", annex.agreement_note])
    rows.append(["Consensus rule", "Declared before voting", annex.consensus_text])
    for rnd in annex.rounds:
        rows += [[rnd.heading, label, value] for label, value in rnd.fields]
    rows.append(["Tie-break rule", "Rule", annex.tie_break])
    for values in annex.departures.rows if annex.departures else []:
        rows.append(["Departures from the computed result", f"{values[1]}: {values[0]}", values[2]])
    return rows


def _payment(snapshot: Mapping[str, Any]) -> tuple[list[Column], list[list[Any]]]:
    pay = snapshot["payment"]
    years = pay["years"]
    columns = [Column("Item", 50), Column("Weight", 16, _weight_format(snapshot)),
               *[Column(y["label"], 16, MONEY) for y in years], Column("Total", 16, MONEY)]
    rows: list[list[Any]] = [
        ["Share of contract value linked to outcomes", None,
         *[Cell(Decimal(int(y["outcome_share_bp"])) / 10000, SHARE) for y in years]],
        ["Shadow year (reported only, no money)", None, *[L.yes_no(y.get("shadow")) for y in years]],
        ["Money at stake, all outcomes", Cell(Decimal(sum(int(o["payment_weight_bp"]) for o in snapshot["outcomes"]))
                                              / 10000, SHARE),
         *[pounds(int(y["at_stake_pence"])) for y in years], pounds(int(pay.get("total_at_stake_pence", 0)))],
    ]
    for o in snapshot["outcomes"]:
        money = L.money_by_year(o)
        rows.append([f"{o['rank']}. {o['statement']}", Decimal(int(o["payment_weight_bp"])) / 10000,
                     *[pounds(money.get(y["label"], 0)) for y in years], pounds(sum(money.values()))])
    rows += [[], ["Payment terms"],
             ["Annual contract value (£)", Cell(pounds(int(pay["contract_value_pence"])), MONEY)],
             ["Payment mechanism", L.label(L.MECHANISMS, pay.get("mechanism"))],
             ["Rounding", pay.get("rounding", "")]]
    return columns, rows


def _about(snapshot: Mapping[str, Any], sha256: str) -> list[list[Any]]:
    fw, summary = snapshot["framework"], snapshot.get("summary", {})
    who = fw.get("frozen_by") or {}
    return [
        ["Title", fw.get("title") or TITLE],
        *[[label, value] for label, value in contract_parties(snapshot)],
        ["Population group", fw["population_group"]["name"]],
        ["Description", fw["population_group"].get("description", "")],
        ["Attribution", fw["population_group"].get("attribution", "")],
        ["Version", fw["version"]],
        ["Previous version", fw.get("previous_version") if fw.get("previous_version") is not None
         else "This is the first version"],
        ["Frozen at", L.when(fw.get("frozen_at"))],
        ["Frozen by", who.get("name", "") + (f" ({who['role']})" if who.get("role") else "")],
        ["Approved by", approval_line(snapshot)],
        ["SHA-256", sha256],
        ["How to check", "SHA-256 of the canonical JSON of the snapshot in the JSON export (keys sorted, no "
                         "spaces, UTF-8); see docs/framework-snapshot.md."],
        ["Schema", snapshot.get("schema", "")],
        ["Outcomes", summary.get("outcome_count", len(snapshot["outcomes"]))],
        ["Measurability gaps", summary.get("measurability_gaps", 0)],
        ["Weights total", Cell(Decimal(int(summary.get("weights_total_bp", 0))) / 10000, "0%")],
    ]
