"""Combining table rankings, as in a James Lind Alliance priority setting workshop.

In the final workshop of a JLA priority setting partnership (The James Lind Alliance
Guidebook, NIHR; a nominal group technique), small mixed tables each rank the shortlist, then
the tables' rankings are combined: each outcome's positions are added across tables and the
lowest total rank comes first.

Rules here:
- an outcome a table did not rank counts as that table's number of ranked outcomes + 1 (it
  sits just below everything the table did rank; a table that ranked everything never needs
  this). Which tables left it out is reported in ``unranked_by``;
- ties in total rank go to the outcome with more first places, then alphabetical by label
  (ignoring case, then exact), so the combined list is a strict order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TableCombined:
    outcome: str
    total_rank: int
    rank: int
    tables: Mapping[str, int]  # table -> position counted (including the fill-in)
    first_places: int
    unranked_by: tuple[str, ...]


def combine_tables(table_rankings: pd.DataFrame, outcomes: Sequence[str] | None = None,
                   labels: Mapping[str, str] | None = None) -> list[TableCombined]:
    """Combine rankings with columns ``table``, ``outcome``, ``position`` (1 = top).

    ``outcomes``: the full shortlist, so that an outcome no table ranked still appears (it
    gets every table's fill-in). ``labels``: outcome -> wording for the alphabetical tie-break
    (default: the outcome itself). Raises ValueError for missing columns, positions that are
    not whole numbers >= 1, a position used twice or an outcome ranked twice by one table.
    """
    missing = [c for c in ("table", "outcome", "position") if c not in table_rankings.columns]
    if missing:
        raise ValueError(f"table rankings are missing column {missing[0]!r}")
    positions: dict[str, dict[str, int]] = {}
    for table, outcome, position in zip(
        table_rankings["table"].astype(str),
        table_rankings["outcome"].astype(str),
        table_rankings["position"],
        strict=True,
    ):
        if isinstance(position, bool) or pd.isna(position) or int(position) != position:
            raise ValueError(f"table {table}: position {position!r} is not a whole number")
        if position < 1:
            raise ValueError(f"table {table}: position {position} is below 1")
        ranked = positions.setdefault(table, {})
        if outcome in ranked:
            raise ValueError(f"table {table} ranked {outcome!r} twice")
        if int(position) in ranked.values():
            raise ValueError(f"table {table} used position {int(position)} twice")
        ranked[outcome] = int(position)

    names = set(outcomes or ())
    for ranked in positions.values():
        names.update(ranked)
    if outcomes is not None and not names <= set(outcomes):
        extra = sorted(names - set(outcomes))[0]
        raise ValueError(f"outcome {extra!r} is not on the shortlist")

    rows = []
    for name in names:
        counted = {table: ranked.get(name, len(ranked) + 1) for table, ranked in sorted(positions.items())}
        rows.append(
            (
                sum(counted.values()),
                -sum(1 for table, ranked in positions.items() if ranked.get(name) == 1),
                (labels or {}).get(name, name).casefold(),
                (labels or {}).get(name, name),
                name,
                counted,
                tuple(t for t, ranked in sorted(positions.items()) if name not in ranked),
            )
        )
    rows.sort(key=lambda row: row[:5])
    return [
        TableCombined(
            outcome=row[4],
            total_rank=row[0],
            rank=place,
            tables=row[5],
            first_places=-row[1],
            unranked_by=row[6],
        )
        for place, row in enumerate(rows, start=1)
    ]
