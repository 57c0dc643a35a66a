"""What changed between two framework snapshots (docs/framework-snapshot.md), for side-by-side review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesign.contract.definition import BY_NAME, UNITS
from codesign.contract.money import format_bp, format_pence


@dataclass(frozen=True)
class Change:
    area: str  # "Contract", "Payment", "Outcomes", or the outcome's wording
    field: str
    before: str
    after: str


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes: list[Change] = []
    oc, nc = old.get("framework", {}).get("contract") or {}, new.get("framework", {}).get("contract") or {}
    for key, label in (("commissioner", "Commissioner"), ("provider", "Provider"), ("reference", "Contract reference")):
        if (oc.get(key) or "") != (nc.get(key) or ""):
            changes.append(Change("Contract", label, _text(oc.get(key)), _text(nc.get(key))))
    op, np_ = old.get("payment", {}), new.get("payment", {})
    if op.get("contract_value_pence") != np_.get("contract_value_pence"):
        changes.append(Change("Payment", "Contract value", format_pence(op.get("contract_value_pence") or 0),
                              format_pence(np_.get("contract_value_pence") or 0)))
    if op.get("mechanism") != np_.get("mechanism"):
        changes.append(Change("Payment", "Mechanism", _text(op.get("mechanism")), _text(np_.get("mechanism"))))
    old_years = {y["label"]: y for y in op.get("years", [])}
    new_years = {y["label"]: y for y in np_.get("years", [])}
    for label in sorted(set(old_years) | set(new_years)):
        a, b = old_years.get(label), new_years.get(label)
        before = "" if a is None else format_bp(a["outcome_share_bp"]) + (" (shadow)" if a["shadow"] else "")
        after = "" if b is None else format_bp(b["outcome_share_bp"]) + (" (shadow)" if b["shadow"] else "")
        if before != after:
            changes.append(Change("Payment", f"Outcome-linked share {label}", before, after))
    olds = {o["outcome_id"]: o for o in old.get("outcomes", [])}
    news = {o["outcome_id"]: o for o in new.get("outcomes", [])}
    for oid in olds.keys() - news.keys():
        changes.append(Change("Outcomes", "Removed", olds[oid]["statement"], ""))
    for oid in news.keys() - olds.keys():
        changes.append(Change("Outcomes", "Added", "", news[oid]["statement"]))
    for oid in sorted(olds.keys() & news.keys(), key=lambda i: news[i]["rank"]):
        a, b = olds[oid], news[oid]
        area = b["statement"]
        for key, label in (("rank", "Rank"), ("statement", "Wording"), ("measurability_gap", "Measurability gap")):
            if a.get(key) != b.get(key):
                changes.append(Change(area, label, _text(a.get(key)), _text(b.get(key))))
        if a.get("payment_weight_bp") != b.get("payment_weight_bp"):
            changes.append(Change(area, "Payment weight", format_bp(a.get("payment_weight_bp") or 0),
                                  format_bp(b.get("payment_weight_bp") or 0)))
        da, db = a.get("definition", {}), b.get("definition", {})
        for key in sorted(set(da) | set(db)):
            if key == "targets":
                continue  # shown as a table by year (target_table), not as a run-on list
            if da.get(key) != db.get(key):
                label = BY_NAME[key].label if key in BY_NAME else key.replace("_", " ").capitalize()
                changes.append(Change(area, label, _text(da.get(key)), _text(db.get(key))))
    return changes


@dataclass(frozen=True)
class TargetCell:
    before: str  # "" when the outcome or year is not in that version
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class TargetRow:
    statement: str
    unit: str
    cells: list[TargetCell]  # one per year of TargetTable.years

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.cells)


@dataclass(frozen=True)
class TargetTable:
    years: list[str]
    rows: list[TargetRow]

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.rows)


def _targets(outcome: Mapping[str, Any] | None) -> dict[str, str]:
    if outcome is None:
        return {}
    return {str(t.get("year")): _text(t.get("value")) for t in (outcome.get("definition") or {}).get("targets", [])
            if isinstance(t, dict)}


def target_table(old: Mapping[str, Any], new: Mapping[str, Any]) -> TargetTable:
    """Every outcome's target in each contract year, in both versions: rows in the newer version's
    order (then outcomes only the older one had), years in contract order (the newer version's
    years, then any only the older one had)."""
    years = [str(y["label"]) for y in new.get("payment", {}).get("years", [])]
    years += [label for y in old.get("payment", {}).get("years", []) if (label := str(y["label"])) not in years]
    olds = {o["outcome_id"]: o for o in old.get("outcomes", [])}
    news = {o["outcome_id"]: o for o in new.get("outcomes", [])}
    order = [o["outcome_id"] for o in new.get("outcomes", [])]
    order += [o["outcome_id"] for o in old.get("outcomes", []) if o["outcome_id"] not in news]
    rows = []
    for oid in order:
        a, b = olds.get(oid), news.get(oid)
        shown = b or a
        assert shown is not None
        before, after = _targets(a), _targets(b)
        unit = str((shown.get("definition") or {}).get("unit") or "")
        unit = UNITS.get(unit, unit)
        rows.append(TargetRow(shown["statement"], unit,
                              [TargetCell(before.get(y, ""), after.get(y, "")) for y in years]))
    return TargetTable(years, rows)
