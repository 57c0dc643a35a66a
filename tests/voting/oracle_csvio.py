"""The ballot CSV parser as it was before the column-wise rewrite (commit 9dfc58e), kept verbatim as
the oracle for tests/voting/test_csv_oracle.py: the new parser must accept and refuse exactly what this
one did, with the same errors. Not used by the app. One change since: a group cell naming no group
of the study is not a participant's first group (it made every later line "in two groups")."""

# ruff: noqa
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence

import pandas as pd

from codesign.voting.csv_errors import MAX_ERRORS, UNWANTED, BallotError, BallotFileError, character_errors, shown
from codesign.voting.csvrecords import UnreadableCsv, records
from codesign.voting.groups import find_group, group_lookup, unknown_group
from codesign.voting.types import Method, MethodOptions

__all__ = ["MAX_ERRORS", "BallotError", "BallotFileError", "ballots_to_csv", "parse_ballots_csv"]

SCORED_COLUMNS = ("participant", "group", "outcome", "value")
PAIRWISE_COLUMNS = ("participant", "group", "left", "right", "choice")
_WHOLE = re.compile(r"[+-]?[0-9]{1,9}")
_LONG_WHOLE = re.compile(r"[+-]?[0-9]+")
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


def _whole(text: str) -> int | None:
    return int(text) if _WHOLE.fullmatch(text) else None


def _physical_lines(text: str) -> int:
    return len(_LINE_BREAK.split(text))


def parse_ballots_csv(
    text: str,
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
    """
    expected = _columns(method)
    text = text.removeprefix("\ufeff")  # Excel writes a UTF-8 byte order mark
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
    names, errors = _header(rows[0][1], expected)
    if errors:
        raise _refuse(source, errors)
    if len(rows) == 1:
        line = min(2, _physical_lines(text))
        raise BallotFileError(source, line, 1, "the file has a header but no ballot rows")
    checker = _Checker(method, names, outcomes, options, rows[1:], groups)
    data, errors = checker.run()
    if errors:
        raise _refuse(source, errors)
    frame = pd.DataFrame(data, columns=list(expected))
    if method == "rating":
        frame["value"] = pd.array(frame["value"].tolist(), dtype="Int64")
    elif method != "pairwise":
        frame["value"] = frame["value"].astype("int64")
    return frame


def _refuse(source: str, errors: list[BallotError]) -> BallotFileError:
    first = errors[0]
    return BallotFileError(
        source,
        first.line,
        first.column,
        first.message,
        column_name=first.column_name,
        errors=errors[:MAX_ERRORS],
    )


class _Checker:
    """Checks data rows in file order, collecting errors (one per cell at most)."""

    def __init__(
        self,
        method: Method,
        names: list[str],
        outcomes: Sequence[str] | None,
        options: MethodOptions,
        rows: list[tuple[int, list[str]]],
        groups: Mapping[str, str] | None = None,
    ) -> None:
        self.method, self.names, self.options, self.rows = method, names, options, rows
        # Groups by key or name (the app's one function), or as written when none are given.
        self.groups, self.lookup = groups, group_lookup(groups) if groups is not None else None
        self.position = {name: i for i, name in enumerate(names)}
        self.allowed = set(outcomes) if outcomes is not None else None
        if method == "ranking":
            n = len(self.allowed) if self.allowed is not None else len(self._file_outcomes())
            self.k = options.ranking_depth(n)
        self.group_of: dict[str, tuple[str, str, int]] = {}  # participant: (group, as written, line)
        self.seen: dict[tuple[str, str], int] = {}
        self.positions: dict[tuple[str, int], int] = {}
        self.totals: dict[str, int] = {}
        self.last_line: dict[str, int] = {}
        if method == "points":
            self._points_totals()

    def _cell(self, cells: list[str], name: str) -> str:
        i = self.position[name]
        return cells[i] if i < len(cells) else ""

    def _file_outcomes(self) -> set[str]:
        return {self._cell(cells, "outcome") for _, cells in self.rows} - {""}

    def _points_totals(self) -> None:
        for line, cells in self.rows:
            who, value = self._cell(cells, "participant"), _whole(self._cell(cells, "value"))
            if value is not None and value > 0:
                self.totals[who] = self.totals.get(who, 0) + value
            self.last_line[who] = line

    def _error(self, line: int, name: str | None, message: str) -> BallotError:
        column = self.position[name] + 1 if name is not None else None
        return BallotError(line, column, name, message)

    def run(self) -> tuple[list[list[object]], list[BallotError]]:
        data: list[list[object]] = []
        errors: list[BallotError] = []
        for line, cells in self.rows:
            row_errors, values = self._check_row(line, cells)
            errors.extend(sorted(row_errors, key=lambda e: e.column or 0))
            if len(errors) >= MAX_ERRORS:
                break
            data.append(values)
        return data, errors

    def _check_row(self, line: int, cells: list[str]) -> tuple[list[BallotError], list[object]]:
        width = len(self.names)
        extra = cells[width:]
        if len(cells) < width or any(extra):
            column = len(cells) + 1 if len(cells) < width else width + 1
            message = f"expected {width} values, found {len(cells)}"
            return [BallotError(line, column, None, message)], []
        errors = [self._error(line, name, f"{name} is empty") for name in self.names if not self._cell(cells, name)]
        if errors:
            return errors, []
        who, written = self._cell(cells, "participant"), self._cell(cells, "group")
        group = self._group(written)
        if group is None:
            assert self.groups is not None
            errors.append(self._error(line, "group", unknown_group(written, self.groups)))
        elif (first_group := self.group_of.setdefault(who, (group, written, line)))[0] != group:
            errors.append(
                self._error(
                    line,
                    "group",
                    f"participant {shown(who)} is in group {shown(first_group[1])} on line "
                    f"{first_group[2]}; a participant belongs to one group",
                )
            )
        if self.method == "pairwise":
            return self._check_pair(line, cells, errors)
        return self._check_scored(line, cells, errors)

    def _group(self, written: str) -> str | None:
        """The group's key (as written when no groups are given); None for no group of the study."""
        return written if self.lookup is None else find_group(written, self.lookup)

    def _check_outcome(self, line: int, name: str, outcome: str, errors: list[BallotError]) -> None:
        if self.allowed is not None and outcome not in self.allowed:
            errors.append(self._error(line, name, f"{shown(outcome)} is not on the ballot"))

    def _check_pair(
        self, line: int, cells: list[str], errors: list[BallotError]
    ) -> tuple[list[BallotError], list[object]]:
        left, right = self._cell(cells, "left"), self._cell(cells, "right")
        choice = self._cell(cells, "choice").lower()
        self._check_outcome(line, "left", left, errors)
        self._check_outcome(line, "right", right, errors)
        if left == right:
            errors.append(self._error(line, "right", f"left and right are the same ({shown(left)})"))
        if choice not in ("left", "right", "none"):
            errors.append(self._error(line, "choice", f"{shown(choice)} is not one of left, right, none"))
        who, group = self._cell(cells, "participant"), self._cell(cells, "group")
        return errors, [who, self._group(group) or group, left, right, choice]

    def _check_scored(
        self, line: int, cells: list[str], errors: list[BallotError]
    ) -> tuple[list[BallotError], list[object]]:
        who, group = self._cell(cells, "participant"), self._cell(cells, "group")
        outcome, text = self._cell(cells, "outcome"), self._cell(cells, "value")
        self._check_outcome(line, "outcome", outcome, errors)
        earlier = self.seen.setdefault((who, outcome), line)
        if earlier != line:
            errors.append(
                self._error(
                    line,
                    "outcome",
                    f"participant {shown(who)} already gave a value for {shown(outcome)} on line {earlier}",
                )
            )
        value: int | None = None
        if self.method == "rating" and text.lower() == "u":
            pass  # unable to score
        elif (value := _whole(text)) is None:
            unable = " or U (unable to score)" if self.method == "rating" else ""
            what = "is too large" if _LONG_WHOLE.fullmatch(text) else f"is not a whole number{unable}"
            errors.append(self._error(line, "value", f"{shown(text)} {what}"))
        else:
            problem = self._value_problem(who, line, value)
            if problem:
                errors.append(self._error(line, "value", problem))
        return errors, [who, self._group(group) or group, outcome, value]

    def _value_problem(self, who: str, line: int, value: int) -> str | None:
        if self.method == "rating":
            return None if 1 <= value <= 9 else f"{value} is out of range 1-9"
        if self.method == "ranking":
            if not 1 <= value <= self.k:
                return f"position {value} is out of range 1-{self.k}"
            earlier = self.positions.setdefault((who, value), line)
            if earlier != line:
                return f"position {value} is used twice by participant {shown(who)} (line {earlier})"
            return None
        cap = self.options.max_per_outcome
        if value < 0:
            return f"{value} is negative; points must be 0 or more"
        if cap is not None and value > cap:
            return f"{value} is over the limit of {cap} points per outcome"
        if self.last_line.get(who) == line and self.totals.get(who, 0) > self.options.budget:
            return (
                f"participant {shown(who)} allocated {self.totals[who]} points in total; "
                f"the budget is {self.options.budget}"
            )
        return None


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
