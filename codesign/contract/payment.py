"""The payment preview: per outcome and per contract year, the money at stake and what the
provider would earn at baseline, at target and at a chosen level of achievement. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codesign.contract.money import Earned, allocate, earned, share_of


@dataclass(frozen=True)
class Year:
    label: str
    share_bp: int
    shadow: bool


@dataclass(frozen=True)
class Line:
    outcome: str
    weight_bp: int
    achievement: str
    gap: bool


@dataclass(frozen=True)
class Preview:
    years: list[Year]
    year_totals: list[int]  # outcome-linked money at stake per year (0 in a shadow year)
    rows: list[tuple[Line, list[Earned]]]  # per outcome, per year
    level_bp: int

    def totals(self, year_index: int) -> Earned:
        cells = [cells[year_index] for _, cells in self.rows]
        return Earned(sum(c.at_stake for c in cells), sum(c.at_baseline for c in cells),
                      sum(c.at_target for c in cells), sum(c.at_level for c in cells))


def preview(contract_pence: int, years: Sequence[Year], lines: Sequence[Line], level_bp: int) -> Preview:
    year_totals = [0 if y.shadow else share_of(contract_pence, y.share_bp) for y in years]
    per_year = [allocate(total, [line.weight_bp for line in lines]) for total in year_totals]
    rows = [(line, [earned(per_year[y][i], line.achievement, level_bp) for y in range(len(years))])
            for i, line in enumerate(lines)]
    return Preview(list(years), year_totals, rows, level_bp)
