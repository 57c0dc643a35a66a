"""A round's results as CSV: one row per outcome, the same fields as `codesign tally --format csv`."""

from __future__ import annotations

import csv
from typing import TextIO

from codesign.export.cells import neutralise
from codesign.queries.rounds import RoundResults


def write_round_results_csv(results: RoundResults, stream: TextIO) -> None:
    rows = results.results.to_csv_rows(results.labels) if results.results else []
    if not rows:
        stream.write("outcome,rank,score\n")
        return
    # As in the JSON, "outcome" is the wording and the outcome's id is added beside it.
    rows = [{**row, "outcome": row["label"], "outcome_id": int(row["outcome"])} for row in rows]
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
