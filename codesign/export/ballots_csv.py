"""A round's raw answers as CSV for analysts: one row per answer, with a pseudonymous voter id.

Pure: rows in (queries.ballot_rows), CSV out. The voter id is "P-" (a participant) or "T-" (a
table's ballot) and the first 12 hex digits of an HMAC-SHA256, keyed with the app's secret key, of
the round's id and the ballot's voter key. So one person has the same id on every row of one round
(an analyst can follow them across questions), a different id in another round (files from two
rounds cannot be joined on it), and nobody without the secret key can work it back to a database
id, a join number or a device token. Rows are sorted by that id, so the file does not keep the
order people joined in either. Names, tokens, emails and imported voters' external references
never reach this module. Every text cell is neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO

from codesign.export.cells import neutralise
from codesign.queries.ballot_rows import BallotRow

FIELDS = ("participant", "group", "table", "source", "method", "outcome_id", "outcome", "versus_outcome_id",
          "versus_outcome", "answer", "answered_at", "reason")
# What `answer` holds: the rating (1-9, or "unable" for "I cannot score this"), the position in the
# ranking (1 = first), the points given, or for a pair which of the two was chosen ("left" is
# outcome_id, "right" is versus_outcome_id, "none" could not decide).
PURPOSE = b"codesign ballot pseudonym v1"


def pseudonym_key(secret_key: str) -> bytes:
    """A key for pseudonyms only, derived from the app's secret key (never the secret itself)."""
    return hmac.new(secret_key.encode(), PURPOSE, hashlib.sha256).digest()


def pseudonym(key: bytes, round_id: int, voter_key: str) -> str:
    digest = hmac.new(key, f"{round_id}|{voter_key}".encode(), hashlib.sha256).hexdigest()
    return ("T-" if voter_key.startswith("t:") else "P-") + digest[:12]


def _when(at: datetime) -> str:
    """ISO 8601 in UTC to the second (SQLite hands back naive datetimes: they are UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def _answer(row: BallotRow, method: str) -> object:
    if method == "pairwise":
        return row.choice
    if method == "rating" and row.value is None:
        return "unable"
    return row.value


def write_ballots_csv(rows: Sequence[BallotRow], *, round_id: int, method: str, labels: Mapping[str, str],
                      key: bytes, stream: TextIO) -> None:
    """Write every row to `stream`: `labels` maps an outcome id (as text) to its wording."""
    writer = csv.DictWriter(stream, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    named = sorted(((pseudonym(key, round_id, r.voter_key), r) for r in rows),
                   key=lambda pair: (pair[0], pair[1].outcome_id, pair[1].versus_outcome_id or 0))
    for voter, row in named:
        versus = row.versus_outcome_id
        writer.writerow({k: neutralise(v) for k, v in {
            "participant": voter, "group": row.group_key, "table": row.table_number, "source": row.source,
            "method": method, "outcome_id": row.outcome_id, "outcome": labels.get(str(row.outcome_id), ""),
            "versus_outcome_id": versus, "versus_outcome": labels.get(str(versus), "") if versus else "",
            "answer": _answer(row, method), "answered_at": _when(row.answered_at), "reason": row.reason,
        }.items()})
