"""Checking a ballot file's rows column by column; pure. csvio.py reads the file into a table
(csvtable.py) and calls ``check_rows``.

Every rule is a vectorised test over the whole table: text rules (a number, U, on the ballot,
left/right/none) run once per distinct cell, the rest on integer codes. Only the rows that fail
are then described, in file order and up to MAX_ERRORS (with the first row of each kind of
problem, and a count of them all), so the messages are those of the
row-by-row checker this replaces: the first group a participant was given, the line of an
earlier value for the same outcome or position, a points budget on a participant's last row.
"What came first" counts only rows whose cells are all there, as before; the points total and
the ranking depth (no outcome list given) count every row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from codesign.voting.csv_errors import MAX_ERRORS, BallotError, shown
from codesign.voting.csvtable import Column, Table
from codesign.voting.groups import find_group, group_lookup, unknown_group
from codesign.voting.types import Method, MethodOptions

_WHOLE = re.compile(r"[+-]?[0-9]{1,9}")
_LONG_WHOLE = re.compile(r"[+-]?[0-9]+")
CHOICES = ("left", "right", "none")


def whole(text: str) -> int | None:
    """ASCII digits, at most nine of them (``int()`` would take "٣" and thousands of digits)."""
    return int(text) if _WHOLE.fullmatch(text) else None


def _first_rows(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For non-negative integer ``keys`` of ``rows`` (in file order): whether each repeats an
    earlier key, and the row where its key first appeared."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=bool), rows[:0]
    if int(keys.max()) >= 4 * n + 1024:  # sparse keys (participant x outcome codes): number them 0..k
        keys, _ = pd.factorize(keys)
    order = np.arange(n, dtype=np.int64)
    first = np.full(int(keys.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, keys, order)  # each key's first position: no hashing, no sort
    first_index = first[keys]
    return first_index != order, rows[first_index]


@dataclass(frozen=True)
class RowProblems:
    """What is wrong with a file's rows: the first MAX_ERRORS problems in file order, the first
    row of each kind of problem (file order), and how many problems there are in all."""

    errors: list[BallotError]
    first_of_each: list[BallotError]
    count: int


@dataclass(frozen=True)
class _Rule:
    """One check on complete rows: which rows fail, and what to say about row i."""

    column: str
    fails: np.ndarray
    message: Callable[[int], str]


class _Rows:
    def __init__(self, method: Method, names: list[str], outcomes: Sequence[str] | None, options: MethodOptions,
                 table: Table, groups: Mapping[str, str] | None = None) -> None:
        self.method, self.names, self.options, self.table, self.groups = method, names, options, table, groups
        self.position = {name: i for i, name in enumerate(names)}
        self.allowed = set(outcomes) if outcomes is not None else None
        width = len(names)
        short = table.widths < width
        extra = np.zeros(len(table), dtype=bool)
        for column in table.columns[width:]:
            extra |= ~column.empty()
        self.misshapen = short | extra
        self.empty = {name: self.col(name).empty() & ~self.misshapen for name in names}
        self.complete = ~self.misshapen
        for blank in self.empty.values():
            self.complete &= ~blank
        self.rows = np.flatnonzero(self.complete)
        self.who = self.col("participant")
        self.group_column, self.unknown_group = self._groups()

    def _groups(self) -> tuple[Column, np.ndarray]:
        """The group column as group keys (each distinct cell looked up once), and which rows name
        no group; as written, and none unknown, when no groups are given."""
        column = self.col("group")
        if self.groups is None:
            return column, np.zeros(len(self.table), dtype=bool)
        lookup = group_lookup(self.groups)
        found = [find_group(str(v), lookup) for v in column.values]
        used = np.bincount(column.codes, minlength=len(column.values)) > 0  # (the header's cell is a value too)
        if all(f == str(v) for f, v, u in zip(found, column.values, used, strict=True) if u):
            return column, np.zeros(len(self.table), dtype=bool)  # keys already, as most files: codes as they are
        named = [f if f is not None else str(v) for f, v in zip(found, column.values, strict=True)]
        remap, keys = pd.factorize(pd.Series(named, dtype=object))  # "Patients" and "patient": one code
        unknown = np.array([f is None for f in found], dtype=bool)[column.codes]
        return Column(np.asarray(remap, dtype=np.int64)[column.codes], np.asarray(keys, dtype=object)), unknown

    def col(self, name: str) -> Column:
        return self.table.column(self.position[name])

    def cell(self, row: int, name: str) -> str:
        return self.col(name).cell(row)

    def line(self, row: int) -> int:
        return int(self.table.lines[row])

    def rules(self) -> list[_Rule]:
        group = self.group_column  # "Patients" and "patient" are one group
        # A participant's group is the first one of the study named for them: a cell already
        # refused as no group at all does not also put them "in two groups" on every other line.
        named = self.rows[~self.unknown_group[self.rows]]
        repeat, first = _first_rows(self.who.codes[named], named)
        first_of = np.zeros(len(self.table), dtype=np.int64)
        first_of[named] = first
        moved = np.zeros(len(self.table), dtype=bool)
        moved[named] = repeat & (group.codes[named] != group.codes[first])

        def other_group(i: int) -> str:
            earlier = int(first_of[i])
            return (f"participant {shown(self.cell(i, 'participant'))} is in group {shown(self.cell(earlier, 'group'))}"
                    f" on line {self.line(earlier)}; a participant belongs to one group")

        groups = self.groups or {}
        rules = [_Rule("group", moved, other_group),
                 _Rule("group", self.unknown_group & self.complete, lambda i: unknown_group(self.cell(i, "group"),
                                                                                          groups))]
        return rules + (self._pair_rules() if self.method == "pairwise" else self._scored_rules())

    def _not_listed(self, name: str) -> _Rule:
        column = self.col(name)
        if self.allowed is None:
            fails = np.zeros(len(self.table), dtype=bool)
        else:
            fails = np.array([v not in self.allowed for v in column.values], dtype=bool)[column.codes]
        return _Rule(name, fails & self.complete, lambda i: f"{shown(self.cell(i, name))} is not on the ballot")

    def _pair_rules(self) -> list[_Rule]:
        left, right, choice = self.col("left"), self.col("right"), self.col("choice")
        same = np.asarray(pd.Index(left.values).get_indexer(right.values), dtype=np.int64)[right.codes] == left.codes
        valid = np.array([str(v).lower() in CHOICES for v in choice.values], dtype=bool)[choice.codes]
        return [
            self._not_listed("left"),
            self._not_listed("right"),
            _Rule("right", same & self.complete,
                  lambda i: f"left and right are the same ({shown(self.cell(i, 'left'))})"),
            _Rule("choice", ~valid & self.complete,
                  lambda i: f"{shown(self.cell(i, 'choice').lower())} is not one of left, right, none"),
        ]

    def _scored_rules(self) -> list[_Rule]:
        outcome = self.col("outcome")
        keys = self.who.codes[self.rows] * len(outcome.values) + outcome.codes[self.rows]
        repeat, first = _first_rows(keys, self.rows)
        again = np.zeros(len(self.table), dtype=bool)
        again[self.rows] = repeat
        first_of = np.zeros(len(self.table), dtype=np.int64)
        first_of[self.rows] = first

        def already(i: int) -> str:
            return (f"participant {shown(self.cell(i, 'participant'))} already gave a value for "
                    f"{shown(self.cell(i, 'outcome'))} on line {self.line(int(first_of[i]))}")

        return [self._not_listed("outcome"), _Rule("outcome", again, already), *self._value_rules()]

    def values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each row's value as a number, whether it is U (rating), whether it is no number at all."""
        column = self.col("value")
        texts = [str(v) for v in column.values]
        unable = np.array([self.method == "rating" and t.lower() == "u" for t in texts], dtype=bool)
        parsed = [whole(t) for t in texts]
        text_bad = np.array([p is None for p in parsed], dtype=bool) & ~unable
        numbers = np.array([p or 0 for p in parsed], dtype=np.int64)
        return numbers[column.codes], unable[column.codes], text_bad[column.codes]

    def _value_rules(self) -> list[_Rule]:
        """One rule per kind of bad value (a row breaks at most one: each excludes the ones before)."""
        numbers, unable, text_bad = self.values()
        number = self.complete & ~unable & ~text_bad
        problems: list[tuple[np.ndarray, Callable[[int], str]]] = []
        if self.method == "rating":
            problems.append((number & ((numbers < 1) | (numbers > 9)), lambda i: f"{numbers[i]} is out of range 1-9"))
        elif self.method == "ranking":
            problems += self._ranking_problems(numbers, number)
        else:
            problems += self._points_problems(numbers, text_bad, number)
        unable_words = " or U (unable to score)" if self.method == "rating" else ""

        def not_a_number(i: int) -> str:
            text = self.cell(i, "value")
            what = "is too large" if _LONG_WHOLE.fullmatch(text) else f"is not a whole number{unable_words}"
            return f"{shown(text)} {what}"

        return [_Rule("value", self.complete & text_bad, not_a_number),
                *(_Rule("value", fails, describe) for fails, describe in problems)]

    def ranking_depth(self) -> int:
        if self.allowed is not None:
            return self.options.ranking_depth(len(self.allowed))
        outcome = self.col("outcome")
        used = np.bincount(outcome.codes, minlength=len(outcome.values)) > 0
        return self.options.ranking_depth(int((used & (outcome.values != "")).sum()))

    def _ranking_problems(self, numbers: np.ndarray,
                          number: np.ndarray) -> list[tuple[np.ndarray, Callable[[int], str]]]:
        k = self.ranking_depth()
        outside = number & ((numbers < 1) | (numbers > k))
        placed = np.flatnonzero(number & ~outside)
        repeat, first = _first_rows(self.who.codes[placed] * (k + 1) + numbers[placed], placed)
        twice = np.zeros(len(self.table), dtype=bool)
        twice[placed] = repeat
        first_of = np.zeros(len(self.table), dtype=np.int64)
        first_of[placed] = first
        return [
            (outside, lambda i: f"position {numbers[i]} is out of range 1-{k}"),
            (twice, lambda i: f"position {numbers[i]} is used twice by participant "
                              f"{shown(self.cell(i, 'participant'))} (line {self.line(int(first_of[i]))})"),
        ]

    def _points_problems(self, numbers: np.ndarray, text_bad: np.ndarray,
                         number: np.ndarray) -> list[tuple[np.ndarray, Callable[[int], str]]]:
        cap, budget = self.options.max_per_outcome, self.options.budget
        negative = number & (numbers < 0)
        over = number & ~negative & (numbers > cap if cap is not None else False)
        # The total counts every row with a positive whole number, complete or not, as before.
        totals = np.zeros(len(self.who.values), dtype=np.int64)
        np.add.at(totals, self.who.codes, np.where(~text_bad & (numbers > 0), numbers, 0))
        last = ~np.asarray(pd.Series(self.who.codes[::-1]).duplicated(), dtype=bool)[::-1]
        spent = number & ~negative & ~over & last & (totals[self.who.codes] > budget)
        return [
            (negative, lambda i: f"{numbers[i]} is negative; points must be 0 or more"),
            (over, lambda i: f"{numbers[i]} is over the limit of {cap} points per outcome"),
            (spent, lambda i: f"participant {shown(self.cell(i, 'participant'))} allocated "
                              f"{totals[self.who.codes[i]]} points in total; the budget is {budget}"),
        ]

    def problems(self) -> RowProblems | None:
        """The rows' problems, or None when there are none. Each kind of problem (a misshapen row,
        an empty cell of a column, a rule) is a mask over the rows: counted whole, its first row
        described, then the failing rows described in file order up to MAX_ERRORS."""
        rules = self.rules()
        width = len(self.names)

        def misshapen(row: int) -> BallotError:
            found = int(self.table.widths[row])
            column = found + 1 if found < width else width + 1
            return BallotError(self.line(row), column, None, f"expected {width} values, found {found}")

        def empty(name: str) -> Callable[[int], BallotError]:
            return lambda row: BallotError(self.line(row), self.position[name] + 1, name, f"{name} is empty")

        def broken(rule: _Rule) -> Callable[[int], BallotError]:
            return lambda row: BallotError(self.line(row), self.position[rule.column] + 1, rule.column,
                                           rule.message(row))

        kinds = [(self.misshapen, misshapen), *((self.empty[n], empty(n)) for n in self.names),
                 *((r.fails, broken(r)) for r in rules)]
        count = sum(int(np.count_nonzero(fails)) for fails, _ in kinds)
        if not count:
            return None
        first_of_each = sorted((describe(int(np.argmax(fails))) for fails, describe in kinds if fails.any()),
                               key=lambda e: (e.line, e.column or 0))
        failing = np.zeros(len(self.table), dtype=bool)
        for fails, _ in kinds:
            failing |= fails
        errors: list[BallotError] = []
        for i in np.flatnonzero(failing):
            row = int(i)
            if self.misshapen[row]:
                errors.append(misshapen(row))
            elif not self.complete[row]:
                errors += [empty(name)(row) for name in self.names if self.empty[name][row]]
            else:
                errors += sorted((broken(r)(row) for r in rules if r.fails[row]), key=lambda e: e.column or 0)
            if len(errors) >= MAX_ERRORS:
                break
        return RowProblems(errors[:MAX_ERRORS], first_of_each, count)

    def frame(self, columns: Sequence[str]) -> pd.DataFrame:
        data: dict[str, object] = {}
        for name in columns:
            column = self.group_column if name == "group" else self.col(name)
            if name == "value":
                numbers, unable, _ = self.values()
                data[name] = (pd.arrays.IntegerArray(numbers, unable) if self.method == "rating"
                              else pd.Series(numbers, dtype="int64"))
            else:
                # Categoricals: a code per row and each name once (1.6 million answers name 20,000
                # people); the engine codes them from their categories (ballots.py).
                codes, values = column.codes, column.values
                if name == "choice":  # in lower case: "Left" and "left" are one choice
                    remap, values = pd.factorize(pd.Series([str(v).lower() for v in values], dtype=object))
                    codes, values = np.asarray(remap)[codes], np.asarray(values, dtype=object)
                used = np.bincount(codes, minlength=len(values)) > 0
                renumbered = np.cumsum(used) - 1
                data[name] = pd.Categorical.from_codes(renumbered[codes],
                                                       categories=pd.Index(values[used], dtype=object))
        return pd.DataFrame(data, columns=list(columns))


def check_rows(method: Method, names: list[str], outcomes: Sequence[str] | None, options: MethodOptions,
               table: Table, columns: Sequence[str],
               groups: Mapping[str, str] | None = None) -> tuple[pd.DataFrame | None, RowProblems | None]:
    """The ballots (in ``columns`` order) or, when any row is wrong, its problems.
    ``groups`` (key -> name): the stakeholder groups the file may name (groups.py); the frame then
    holds each group's key. None: any group, as written."""
    rows = _Rows(method, names, outcomes, options, table, groups)
    problems = rows.problems()
    return (None, problems) if problems is not None else (rows.frame(columns), None)
