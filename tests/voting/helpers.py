"""Builders for ballot DataFrames used across the voting tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"
SCORED = ["participant", "group", "outcome", "value"]
PAIRWISE = ["participant", "group", "left", "right", "choice"]


def scored(rows: Iterable[tuple[str, str, str, object]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=SCORED)


def pairwise(rows: Iterable[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=PAIRWISE)


def ratings(
    group: str, by_outcome: Mapping[str, Sequence[object]], prefix: str = ""
) -> list[tuple[str, str, str, object]]:
    """Rows where participant k of ``group`` gives by_outcome[o][k] to outcome o."""
    rows = []
    for outcome, values in by_outcome.items():
        for k, value in enumerate(values):
            rows.append((f"{prefix or group}-{k}", group, outcome, value))
    return rows


def rankings(group: str, orders: Sequence[Sequence[str]], prefix: str = "") -> list[tuple[str, str, str, object]]:
    """Rows where participant k of ``group`` ranks orders[k] (best first)."""
    return [
        (f"{prefix or group}-{k}", group, outcome, position)
        for k, order in enumerate(orders)
        for position, outcome in enumerate(order, start=1)
    ]
