"""Ballot CSV files: a strict parser with precise errors, and the matching writer.

Used by ``codesign tally`` and by the app's round import (paper ballots, a survey exported
from elsewhere). Columns, in any order, names case-insensitive:

- rating, ranking, points: ``participant,group,outcome,value``. Rating value 1-9 or ``U``
  (unable to score); ranking value = position 1..k (1 = most important); points value = a
  whole number of points, at most the per-outcome cap, totalling at most the budget;
- pairwise: ``participant,group,left,right,choice`` with choice ``left``, ``right`` or
  ``none`` (can't decide), in any case.

A file with any problem is refused whole: a half-imported round would be worse than none.
Problems are reported in file order, up to ``MAX_ERRORS``, with the first row of each kind of
problem and how many there are in all (``BallotFileError.listed``: what the import shows); the
exception's message leads with the first, as ``ballots.csv, line 7, column 4 (value): 12 is out of
range 1-9``. Lines are physical lines of the file (1 = header), so they match what a text editor
shows; every error names a line and a column of the file (a missing value: the column just after
the last one).
Cells are trimmed of spaces; rows whose cells are all empty (spreadsheet padding) are skipped.

The file is read column-wise (csvtable.py: pandas' C parser, NumPy over the bytes for where each
record starts) and checked column-wise (csvcheck.py); only the rows that fail are described. A file
pandas might split differently from the csv module is read record by record as before.

Whole numbers are ASCII digits, at most nine of them (``int()`` would take "٣" and fail on
thousands of digits). A cell holding a control character (NUL above all: PostgreSQL cannot store
it), a bidi control, a lone surrogate or a noncharacter is refused: these are never part of a name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence

import pandas as pd

from codesign.voting.csv_errors import MAX_ERRORS, UNWANTED, BallotError, BallotFileError, character_errors, shown
from codesign.voting.csvcheck import check_rows
from codesign.voting.csvrecords import UnreadableCsv, records
from codesign.voting.csvtable import Table, fast_table, table_from_records
from codesign.voting.types import Method, MethodOptions

__all__ = ["MAX_ERRORS", "BallotError", "BallotFileError", "ballots_to_csv", "parse_ballots_csv"]

SCORED_COLUMNS = ("participant", "group", "outcome", "value")
PAIRWISE_COLUMNS = ("participant", "group", "left", "right", "choice")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
def _columns(method: Method) -> tuple[str, ...]:
    return PAIRWISE_COLUMNS if method == "pairwise" else SCORED_COLUMNS


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, trimmed cells) for each record that is not blank."""
    try:
        yield from records(text)
    except UnreadableCsv as exc:
        raise BallotFileError("", exc.line, 1, str(exc)) from None


def _header(cells: list[str], expected: tuple[str, ...]) -> tuple[list[str], list[BallotError]]:
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty header cells, as spreadsheets write them
    wanted = ", ".join(expected)
    if len(names) == 1 and ";" in names[0]:
        message = f"the header has no commas but has semicolons; save the file as comma-separated CSV ({wanted})"
        return names, [BallotError(1, 1, None, message)]
    errors = []
    for number, name in enumerate(names, start=1):
        if name not in expected:
            errors.append(BallotError(1, number, name or None, f"unknown column {shown(name)}; expected {wanted}"))
        elif names.index(name) != number - 1:
            errors.append(BallotError(1, number, name, f"column {shown(name)} appears twice"))
    for number, name in enumerate(expected, start=1):
        if name not in names:
            # Where it belongs, or just after the last column when the header is shorter than that.
            column = min(number, len(names) + 1)
            errors.append(BallotError(1, column, name, f"missing column {shown(name)}; expected {wanted}"))
    return names, sorted(errors, key=lambda e: e.column or 0)


def _physical_lines(text: str) -> int:
    return len(_LINE_BREAK.split(text))


def parse_ballots_csv(
    text: str | bytes,
    method: Method,
    *,
    source: str = "<upload>",
    outcomes: Sequence[str] | None = None,
    options: MethodOptions = MethodOptions(),  # noqa: B008 - frozen, so a shared default is safe
    groups: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Parse and check a ballot file; returns the ballots DataFrame ``tally()`` takes.

    Rating values come back as nullable integers (``<NA>`` = unable), ranking and points as
    int64, pairwise choices in lower case. Raises BallotFileError (see module docstring).
    ``text`` may be given as bytes that are all ASCII (``codesign tally``: such a file, most of
    them, is read without decoding it to text and encoding it back, 0.1 s for 50 MB).
    ``groups`` (key -> name): the stakeholder groups the file may name, by key or name, case and
    spacing ignored (voting/groups.py); the frame holds their keys, and a cell naming none is an
    error at its line and column. The app's import and ``codesign tally`` both give them.
    """
    expected = _columns(method)
    if isinstance(text, bytes) and not text.isascii():
        raise ValueError("ballot file bytes must be ASCII; decode other files first")
    if isinstance(text, str):
        text = text.removeprefix("\ufeff")  # Excel writes a UTF-8 byte order mark
    table = fast_table(text)
    if table is None or not len(table) or table.lines[0] != 1:
        table = _read_records(text.decode("ascii") if isinstance(text, bytes) else text, source, expected)
    names, errors = _header(table.cells(0), expected)
    if errors:
        raise _refuse(source, errors)
    if len(table) == 1:
        line = min(2, table.physical_lines)
        raise BallotFileError(source, line, 1, "the file has a header but no ballot rows")
    rows = table.take(slice(1, None))
    frame, problems = check_rows(method, names, outcomes, options, rows, expected, groups)
    if problems is not None or frame is None:
        assert problems is not None
        raise _refuse(source, problems.errors, problems.first_of_each, problems.count)
    return frame


def _read_records(text: str, source: str, expected: tuple[str, ...]) -> Table:
    """The table, read record by record: for files the fast reader leaves (csvtable.py), and the
    checks that come before the header's (empty, blank first line, characters never imported)."""
    try:
        rows = list(_records(text))
    except BallotFileError as exc:
        raise BallotFileError(source, exc.line, exc.column, exc.message) from None
    if not rows:
        raise BallotFileError(source, 1, 1, f"the file is empty; expected {','.join(expected)}")
    if rows[0][0] != 1:
        raise BallotFileError(source, 1, 1, "line 1 is blank; it must be the header")
    errors = character_errors(rows, expected) if UNWANTED.search(text) else []
    if errors:
        raise _refuse(source, errors)
    return table_from_records(rows, _physical_lines(text))


def _refuse(source: str, errors: list[BallotError], first_of_each: Sequence[BallotError] = (),
            count: int | None = None) -> BallotFileError:
    first = errors[0]
    return BallotFileError(
        source,
        first.line,
        first.column,
        first.message,
        column_name=first.column_name,
        errors=errors[:MAX_ERRORS],
        first_of_each=first_of_each,
        count=count,
    )


def ballots_to_csv(ballots: pd.DataFrame, method: Method) -> str:
    """Write ballots in the format ``parse_ballots_csv`` reads (rating "unable" as ``U``)."""
    columns = _columns(method)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in ballots.loc[:, list(columns)].itertuples(index=False, name=None):
        cells = [str(cell) for cell in row[:-1]]
        last = row[-1]
        if method == "pairwise":
            cells.append(str(last))
        elif pd.isna(last):
            cells.append("U")
        else:
            cells.append(str(int(last)))
        writer.writerow(cells)
    return out.getvalue()
