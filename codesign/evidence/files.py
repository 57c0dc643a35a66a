"""Indicator files in the Fingertips "indicator data" CSV layout, and peer lists, parsed strictly.

Headers are matched by name with case and spacing ignored ("Lower CI 95.0 limit" = "lower ci 95.0
limit"); columns we do not use are ignored. A file with any problem is refused whole, each problem
named by its physical line (1 = the header) and column, as the ballot import does: a half-imported
indicator would compare an area with last year's peers. Rows whose cells are all empty are skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codesign.voting.csv_errors import UNWANTED, shown
from codesign.voting.csvrecords import UnreadableCsv, records

MAX_ERRORS = 20
MAX_CODE = 100  # indicator ids, area codes, periods, sex, age
MAX_NAME = 300  # indicator and area names, categories, value notes
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_LARGEST = 1e15  # far beyond any real count or rate; keeps every sum finite

# Our field name -> the header as Fingertips writes it, normalised (lower case, single spaces).
COLUMNS: dict[str, str] = {
    "indicator_id": "indicator id", "indicator_name": "indicator name", "parent_code": "parent code",
    "parent_name": "parent name", "area_code": "area code", "area_name": "area name", "area_type": "area type",
    "sex": "sex", "age": "age", "category_type": "category type", "category": "category",
    "period": "time period", "value": "value", "lower_ci95": "lower ci 95.0 limit",
    "upper_ci95": "upper ci 95.0 limit", "lower_ci998": "lower ci 99.8 limit", "upper_ci998": "upper ci 99.8 limit",
    "count": "count", "denominator": "denominator", "value_note": "value note",
}
REQUIRED = ("indicator_id", "area_code", "period", "value")
CODES = ("indicator_id", "area_code", "parent_code", "period", "sex", "age")
NUMBERS = ("value", "lower_ci95", "upper_ci95", "lower_ci998", "upper_ci998", "count", "denominator")
NOT_NEGATIVE = ("count", "denominator")
KEY = ("indicator_id", "area_code", "sex", "age", "category_type", "category", "period")


@dataclass(frozen=True)
class IndicatorRow:
    """One figure: an indicator for an area, a breakdown (sex, age, category) and a period."""

    indicator_id: str
    indicator_name: str
    parent_code: str
    parent_name: str
    area_code: str
    area_name: str
    area_type: str
    sex: str
    age: str
    category_type: str
    category: str
    period: str
    value: float | None
    lower_ci95: float | None
    upper_ci95: float | None
    lower_ci998: float | None
    upper_ci998: float | None
    count: float | None
    denominator: float | None
    value_note: str
    line: int

    def key(self) -> tuple[str, ...]:
        return tuple(str(getattr(self, name)) for name in KEY)


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    column_name: str
    message: str

    def describe(self, source: str) -> str:
        named = f" ({self.column_name})" if self.column_name else ""
        return f"{source}, line {self.line}, column {self.column}{named}: {self.message}"


class EvidenceFileError(ValueError):
    """A file was refused; `problems` lists what was found (up to MAX_ERRORS), first one first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems[:MAX_ERRORS]
        super().__init__(self.problems[0].describe("the file"))

    def describe(self, source: str, limit: int = 10) -> str:
        return " · ".join(p.describe(source) for p in self.problems[:limit])


def normalise_header(cell: str) -> str:
    return " ".join(cell.replace("_", " ").split()).casefold()


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, trimmed cells) of each record that is not blank."""
    try:
        yield from records(text)
    except UnreadableCsv as exc:
        raise EvidenceFileError([Problem(exc.line, 1, "", str(exc))]) from None


def _header(line: int, cells: list[str], wanted: dict[str, str], required: tuple[str, ...],
            problems: list[Problem]) -> dict[str, int]:
    """Our field name -> its 0-based position in the file."""
    by_header = {header: name for name, header in wanted.items()}
    positions: dict[str, int] = {}
    for number, cell in enumerate(cells):
        name = by_header.get(normalise_header(cell))
        if name is None:
            continue
        if name in positions:
            problems.append(Problem(line, number + 1, wanted[name], f"column {shown(cell)} appears twice"))
        else:
            positions[name] = number
    missing = [wanted[name] for name in required if name not in positions]
    if missing:
        if len(cells) == 1 and ";" in cells[0]:
            problems.append(Problem(line, 1, "", "the header has semicolons but no commas; save the file as "
                                                 "comma-separated CSV"))
        else:
            problems.append(Problem(line, len(cells) + 1, "", "missing column" + ("s " if len(missing) > 1 else " ")
                                    + ", ".join(f"“{m}”" for m in missing)))
    return positions


def _cell_problem(text: str, limit: int) -> str | None:
    found = UNWANTED.search(text)
    if found is not None:
        return f"contains a character that cannot be imported (U+{ord(found.group()):04X}); remove it"
    if len(text) > limit:
        return f"is longer than {limit} characters"
    return None


def _number(text: str) -> float | str | None:
    """The number in a cell, None when it is empty, or why it is not a number."""
    if not text:
        return None
    if len(text) > 40 or not _NUMBER.fullmatch(text):
        return f"{shown(text)} is not a number (use digits and a decimal point, no commas or units)"
    value = float(text)
    if not math.isfinite(value) or abs(value) > _LARGEST:
        return f"{shown(text)} is too large"
    return value


def parse_indicator_csv(text: str) -> list[IndicatorRow]:
    """Every row of a Fingertips-layout file, or EvidenceFileError naming each problem's line and column."""
    problems: list[Problem] = []
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise EvidenceFileError([Problem(1, 1, "", "the file is empty")])
    positions = _header(first[0], first[1], COLUMNS, REQUIRED, problems)
    if problems:
        raise EvidenceFileError(problems)
    rows: list[IndicatorRow] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, cells in records:
        fields: dict[str, object] = {}
        for name, position in positions.items():
            cell = cells[position] if position < len(cells) else ""
            where = (line, position + 1, COLUMNS[name])
            if name in NUMBERS:
                number = _number(cell)
                if isinstance(number, str):
                    problems.append(Problem(*where, number))
                elif number is not None and name in NOT_NEGATIVE and number < 0:
                    problems.append(Problem(*where, f"{shown(cell)} is negative"))
                fields[name] = number if isinstance(number, float) else None
                continue
            problem = _cell_problem(cell, MAX_CODE if name in CODES else MAX_NAME)
            if problem is None and name in ("indicator_id", "area_code", "period") and not cell:
                problem = "is empty"
            if problem is not None:
                problems.append(Problem(*where, problem))
            fields[name] = cell
        if len(problems) >= MAX_ERRORS:
            break
        values: dict[str, Any] = {name: fields.get(name, None if name in NUMBERS else "") for name in COLUMNS}
        row = IndicatorRow(**values, line=line)
        if not problems:
            if row.key() in seen:
                problems.append(Problem(line, positions["period"] + 1, COLUMNS["period"],
                                        f"repeats line {seen[row.key()]} (the same indicator, area, sex, age, "
                                        "category and period)"))
            seen.setdefault(row.key(), line)
        rows.append(row)
    if problems:
        raise EvidenceFileError(problems)
    if not rows:
        raise EvidenceFileError([Problem(first[0] + 1, 1, "", "the file has a header but no rows")])
    return rows


PEER_COLUMNS = {"area_code": "area code", "peer_code": "peer code"}


def parse_peers_csv(text: str) -> dict[str, list[str]]:
    """Each area's peers from `area_code,peer_code` rows (in file order, repeats dropped), or
    EvidenceFileError. An area is never its own peer."""
    problems: list[Problem] = []
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise EvidenceFileError([Problem(1, 1, "", "the file is empty")])
    positions = _header(first[0], first[1], PEER_COLUMNS, ("area_code", "peer_code"), problems)
    if problems:
        raise EvidenceFileError(problems)
    peers: dict[str, list[str]] = {}
    for line, cells in records:
        codes: dict[str, str] = {}
        for name, position in positions.items():
            cell = cells[position] if position < len(cells) else ""
            problem = _cell_problem(cell, MAX_CODE) or ("is empty" if not cell else None)
            if problem is not None:
                problems.append(Problem(line, position + 1, PEER_COLUMNS[name], problem))
            codes[name] = cell
        if codes["area_code"] and codes["area_code"] == codes["peer_code"]:
            problems.append(Problem(line, positions["peer_code"] + 1, "peer code", "an area cannot be its own peer"))
        if len(problems) >= MAX_ERRORS:
            break
        listed = peers.setdefault(codes["area_code"], [])
        if codes["peer_code"] not in listed:
            listed.append(codes["peer_code"])
    if problems:
        raise EvidenceFileError(problems)
    if not peers:
        raise EvidenceFileError([Problem(first[0] + 1, 1, "", "the file has a header but no rows")])
    return peers
