"""Plain text tables shared by the DOCX and PDF renderers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Pairs = list[tuple[str, str]]  # (label, value) rows of a two-column table


@dataclass(frozen=True)
class Grid:
    """A table with a header row. A row shorter than the header has its last cell span the rest
    (used for "fewer than 5 people: not reported")."""

    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    widths: tuple[float, ...]  # relative widths (percentages of the text width when they add to 100)
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned columns

    def percents(self) -> list[float]:
        """Column widths as percentages of the table width."""
        total = sum(self.widths)
        return [round(100 * w / total, 2) for w in self.widths]

    def span(self, row: tuple[str, ...]) -> int:
        """How many columns the last cell of `row` covers."""
        return len(self.header) - len(row) + 1
