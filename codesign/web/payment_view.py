"""Adapter from a framework version view to the pure payment preview."""

from __future__ import annotations

from codesign.contract.payment import Line, Preview, Year, preview
from codesign.queries.framework import VersionView


def payment_preview(view: VersionView, level_bp: int) -> Preview:
    years = [Year(str(y["label"]), int(y.get("share_bp", 0)), bool(y.get("shadow"))) for y in view.years]
    lines = [Line(i.outcome.statement, i.item.payment_weight_bp, str(i.definition.get("achievement") or "linear"),
                  i.gap) for i in view.items]
    return preview(view.version.contract_value_pence or 0, years, lines, level_bp)
