"""Appendix A as CSV: one row per outcome, flat columns, for analysts and other tools.

Values are the snapshot's own codes (unit `rate_per_1000`, direction `lower`) rather than the
documents' wording, with weights as percentages and money in pounds; see the column list in
`columns()`. Every text cell is neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any, TextIO

from codesign.export import _fields
from codesign.export import _labels as L
from codesign.export._signoff import approval_line
from codesign.export.cells import neutralise
from codesign.naming import round_label

GROUP_FIELDS = ("name", "n", "score", "rank", "pct_7_9", "pct_1_3", "suppressed")
_FIGURES = frozenset({"n", "score", "rank", "pct_7_9", "pct_1_3"})


def columns(snapshot: Mapping[str, Any]) -> list[str]:
    years = L.year_labels(snapshot)
    head = ["rank", "outcome_id", "statement", "description", "domain", "domain_key", "weight_pct",
            "measurability_gap", "decision_action", "decision_reason", "source_round", "computed_rank",
            "computed_score", "computed_consensus"]
    fields: list[str] = []
    for key in _fields.KEYS:
        fields += [f"target_{y}" for y in years] if key == "targets" else [key]
    money = [f"at_stake_gbp_{y}" for y in years]
    groups = [f"group.{g}.{f}" for g in L.group_keys(snapshot) for f in GROUP_FIELDS]
    return [*head, *fields, *money, *groups, "sources", "history", "approved_by"]


def _measured(value: str) -> object:
    """A plain decimal string ("-0.5") as a number, so neutralising never puts a quote before its minus."""
    number = L.decimal_or_none(value)
    return value if number is None else number


def _flag(value: object) -> str:
    return "true" if value else "false"


def _pounds(pence: int) -> str:
    pounds, p = divmod(pence, 100)
    return f"{pounds}.{p:02d}"


def _row(snapshot: Mapping[str, Any], o: Mapping[str, Any]) -> dict[str, object]:
    d, computed, decision = o["definition"], o.get("computed") or {}, o.get("decision") or {}
    domain = o.get("domain") or {}
    row: dict[str, object] = {
        "rank": o["rank"], "outcome_id": o["outcome_id"], "statement": o["statement"],
        "description": o.get("description", ""), "domain": domain.get("name", ""), "domain_key": domain.get("key", ""),
        "weight_pct": f"{L.bp_decimal(int(o['payment_weight_bp'])):f}",
        "measurability_gap": _flag(o.get("measurability_gap")),
        "decision_action": decision.get("action", ""), "decision_reason": decision.get("reason", ""),
        "source_round": round_label(o.get("source_round") or {}),
        "computed_rank": computed.get("rank", ""), "computed_score": computed.get("score", ""),
        "computed_consensus": computed.get("consensus") or "",
    }
    for key in _fields.KEYS:
        value = d.get(key, "")
        if key == "targets":
            row.update({f"target_{y}": _measured(v) for y, v in L.targets_by_year(d).items()})
        elif key == "breakdowns":
            row[key] = ";".join(value or [])
        elif key == "no_routine_data":
            row[key] = _flag(value)
        elif key in _fields.MEASURED:
            row[key] = _measured(str(value))
        else:
            row[key] = value
    row.update({f"at_stake_gbp_{y}": _pounds(p) for y, p in L.money_by_year(o).items()})
    for key, g in o.get("votes", {}).get("groups", {}).items():
        suppressed = bool(g.get("suppressed"))
        for f in GROUP_FIELDS:
            if f == "suppressed":
                row[f"group.{key}.{f}"] = _flag(suppressed)
            elif not (suppressed and f in _FIGURES) and g.get(f) is not None:
                row[f"group.{key}.{f}"] = g[f]  # a suppressed group's figures are left empty
    row["sources"] = "; ".join(f"{s.get('kind')}{' (' + s['group'] + ')' if s.get('group') else ''}: "
                               f"{s.get('statement', '')}" for s in o["provenance"].get("sources", []))
    row["history"] = "; ".join(f"{h.get('action')} {h.get('at', '')}: {h.get('from', '')} -> {h.get('to', '')} "
                               f"({h.get('reason', '')})" for h in o["provenance"].get("history", []))
    row["approved_by"] = approval_line(snapshot)
    return row


def write_csv(snapshot: Mapping[str, Any], sha256: str, stream: TextIO) -> None:
    """Write one row per outcome of `snapshot` (whose hash is `sha256`) to `stream` as CSV."""
    L.check_sha256(snapshot, sha256)
    names = columns(snapshot)
    writer = csv.DictWriter(stream, fieldnames=names, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for outcome in snapshot["outcomes"]:
        row = _row(snapshot, outcome)
        writer.writerow({k: neutralise(row.get(k, "")) for k in names})
