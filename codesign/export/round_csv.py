"""A round's results as CSV: one row per outcome, the same fields as `codesign tally --format csv`
(or, for a table round, each table's position and the total rank that orders them)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any, TextIO

from codesign.export.cells import neutralise
from codesign.queries.reasons import ChangeReason
from codesign.queries.rounds import RoundResults


def _table_rows(results: RoundResults) -> list[dict[str, Any]]:
    assert results.tables is not None
    labels = results.labels
    numbers = sorted({t for row in results.tables for t in row.tables}, key=lambda t: (len(t), t))
    return [{"rank": row.rank, "outcome": labels[row.outcome], "outcome_id": int(row.outcome),
             "total_rank": row.total_rank, "first_places": row.first_places,
             **{f"table.{t}": row.tables.get(t) for t in numbers},
             "unranked_by": ";".join(row.unranked_by)} for row in results.tables]


def write_round_results_csv(results: RoundResults, stream: TextIO) -> None:
    if results.tables is not None:
        rows = _table_rows(results)
    else:
        rows = results.results.to_csv_rows(results.labels) if results.results else []
        # As in the JSON, "outcome" is the wording and the outcome's id is added beside it.
        rows = [{**row, "outcome": row["label"], "outcome_id": int(row["outcome"])} for row in rows]
    if not rows:
        stream.write("outcome,rank,score\n")
        return
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})


REASON_FIELDS = ("outcome_id", "outcome", "group", "before", "after", "changed", "reason")


def write_reasons_csv(reasons: Sequence[ChangeReason], stream: TextIO) -> None:
    """One row per reason given in a feedback round: the outcome, the group, the answer before and
    after (1-9; blank for "I cannot score this") and the reason, formula-neutralised."""
    writer = csv.DictWriter(stream, fieldnames=list(REASON_FIELDS), lineterminator="\n")
    writer.writeheader()
    for reason in reasons:
        writer.writerow({k: neutralise(v) for k, v in reason.to_dict().items()})
