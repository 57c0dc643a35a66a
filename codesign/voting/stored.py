"""A round's results as JSON that reads back into the same objects.

A round is counted once, when it closes, and the results are kept with it (see
``codesign.services.rounds.close_round``). ``report.results_to_dict`` is for people (rounded, with
wording); this is for keeping: every field, unrounded (floats are written with ``repr``, which
reads back to the same float), so ``from_json(to_json(r)) == r`` and a recount can be compared
with what was stored, field by field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from codesign.voting.results import (
    Agreement,
    Disagreement,
    GroupInfo,
    GroupOutcome,
    KendallResult,
    OutcomeResult,
    Results,
)
from codesign.voting.tables import TableCombined
from codesign.voting.types import ConsensusRule, MethodOptions

SCHEMA = 1


def _plain(value: Any) -> Any:
    """Dataclasses, mappings and tuples as JSON values; NaN (never produced today) as None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(results: Results | None, tables: Sequence[TableCombined] | None) -> dict[str, Any]:
    return {"schema": SCHEMA, "results": None if results is None else _plain(results),
            "tables": None if tables is None else [_plain(t) for t in tables]}


def _kendall(data: Mapping[str, Any] | None) -> KendallResult | None:
    return None if data is None else KendallResult(**data)


def _group_outcome(data: Mapping[str, Any]) -> GroupOutcome:
    values = dict(data)
    if values.get("distribution") is not None:
        values["distribution"] = tuple(values["distribution"])
    return GroupOutcome(**values)


def _outcome(data: Mapping[str, Any]) -> OutcomeResult:
    return OutcomeResult(
        outcome=data["outcome"], rank=data["rank"], score=data["score"], consensus=data["consensus"],
        important_to=tuple(data["important_to"]), schulze_rank=data["schulze_rank"],
        borda_rank=data["borda_rank"], rank_points=data["rank_points"],
        groups={k: _group_outcome(v) for k, v in data["groups"].items()},
    )


def _results(data: Mapping[str, Any]) -> Results:
    agreement = data["agreement"]
    return Results(
        method=data["method"], combine=data["combine"], rule=ConsensusRule.from_dict(data["rule"]),
        options=MethodOptions.from_dict(data["options"]),
        groups={k: GroupInfo(**v) for k, v in data["groups"].items()},
        outcomes=tuple(_outcome(o) for o in data["outcomes"]),
        agreement=Agreement(
            kendall_w={k: _kendall(v) for k, v in agreement["kendall_w"].items()},
            between_groups=_kendall(agreement["between_groups"]),
            disagreements=tuple(Disagreement(outcome=d["outcome"], spread=d["spread"], ranks=dict(d["ranks"]))
                                for d in agreement["disagreements"]),
        ),
        schema_version=data.get("schema_version", 1),
    )


def _table(data: Mapping[str, Any]) -> TableCombined:
    return TableCombined(outcome=data["outcome"], total_rank=data["total_rank"], rank=data["rank"],
                         tables=dict(data["tables"]), first_places=data["first_places"],
                         unranked_by=tuple(data["unranked_by"]))


def from_json(data: Mapping[str, Any]) -> tuple[Results | None, list[TableCombined] | None]:
    """Read back what ``to_json`` wrote. Raises ValueError for another schema."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"stored results have schema {data.get('schema')!r}, expected {SCHEMA}")
    results = None if data.get("results") is None else _results(data["results"])
    tables = None if data.get("tables") is None else [_table(t) for t in data["tables"]]
    return results, tables
