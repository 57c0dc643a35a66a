"""A panel list upload (`name,email,stakeholder group[,organisation]`), parsed strictly. Pure.

Headers are matched by name with case, spacing and underscores ignored ("Stakeholder Group" =
"stakeholder_group"; "group" is accepted too); other columns are ignored. The group is given by its
key or its name. A file with any problem is refused whole, each problem named by its physical line
(1 = the header) and column, as the ballot and indicator imports do: half a panel invited is worse
than none. An email twice in the file, or already on the panel, is a problem. Blank rows are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from codesign.validation import EMAIL, normalise_text
from codesign.voting.csv_errors import UNWANTED, shown
from codesign.voting.csvrecords import UnreadableCsv, records
from codesign.voting.groups import find_group, group_lookup
from codesign.voting.groups import normalise_name as normalise_header

MAX_ERRORS = 20
MAX_ROWS = 50_000
LIMITS = {"name": 120, "email": 254, "group": 200, "organisation": 200}
# Our field -> the headers accepted for it (normalised), and the name we give it in messages.
HEADERS = {"name": ("name",), "email": ("email", "email address"),
           "group": ("stakeholder group", "group"), "organisation": ("organisation", "organization")}
LABELS = {"name": "name", "email": "email", "group": "stakeholder group", "organisation": "organisation"}
REQUIRED = ("name", "email", "group")


@dataclass(frozen=True)
class ListedPerson:
    line: int
    name: str
    email: str  # lower case
    group_key: str
    organisation: str


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    column_name: str
    message: str

    def describe(self) -> str:
        named = f" ({self.column_name})" if self.column_name else ""
        return f"Line {self.line}, column {self.column}{named}: {self.message}"


class PanelListError(ValueError):
    """The file was refused; `problems` lists what was found (up to MAX_ERRORS), first one first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems[:MAX_ERRORS]
        super().__init__(self.problems[0].describe())


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from records(text)
    except UnreadableCsv as exc:
        raise PanelListError([Problem(exc.line, 1, "", str(exc))]) from None


def _positions(line: int, cells: list[str]) -> dict[str, int]:
    by_header = {h: field for field, heads in HEADERS.items() for h in heads}
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for number, cell in enumerate(cells):
        field = by_header.get(normalise_header(cell))
        if field is None:
            continue
        if field in positions:
            problems.append(Problem(line, number + 1, LABELS[field], f"column {shown(cell)} appears twice"))
        positions.setdefault(field, number)
    missing = [LABELS[f] for f in REQUIRED if f not in positions]
    if missing:
        hint = ("the header has semicolons but no commas; save the file as comma-separated CSV"
                if len(cells) == 1 and ";" in cells[0] else
                "missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(f"“{m}”" for m in missing)
                + " (the first row must name the columns: name, email, stakeholder group, organisation)")
        problems.append(Problem(line, len(cells) + 1 if ";" not in hint else 1, "", hint))
    if problems:
        raise PanelListError(problems)
    return positions


def _cell(field: str, raw: str) -> tuple[str, str | None]:
    """The cleaned cell and what is wrong with it, if anything."""
    found = UNWANTED.search(raw)
    if found is not None:
        return raw, f"contains a character that cannot be imported (U+{ord(found.group()):04X}); remove it"
    value = normalise_text(raw)
    if field == "email":
        value = value.lower()
    if len(value) > LIMITS[field]:
        return value, f"is longer than {LIMITS[field]} characters"
    if not value and field in REQUIRED:
        return value, "is empty"
    if field == "email" and not EMAIL.match(value):
        return value, f"{shown(value)} is not an email address (like name@example.com)"
    return value, None


def parse_panel_list(text: str, groups: Mapping[str, str], taken: set[str]) -> list[ListedPerson]:
    """Every person in the file, or PanelListError. `groups`: stakeholder group key -> name;
    `taken`: the emails (lower case) already on the panel."""
    lookup = group_lookup(groups)
    rows = _records(text)
    first = next(rows, None)
    if first is None:
        raise PanelListError([Problem(1, 1, "", "the file is empty")])
    positions = _positions(*first)
    problems: list[Problem] = []
    people: list[ListedPerson] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        values: dict[str, str] = {}
        for field, position in positions.items():
            value, problem = _cell(field, cells[position] if position < len(cells) else "")
            where = (line, position + 1, LABELS[field])
            if problem is None and field == "group":
                key = find_group(value, lookup)  # as the ballot import and `codesign tally` do
                if key is None:
                    problem = (f"{shown(value)} is not a stakeholder group of this population group (use one of: "
                               + ", ".join(groups.values()) + ")")
                value = key or value
            if problem is None and field == "email":
                if value in taken:
                    problem = f"{shown(value)} is already on this panel"
                elif value in seen:
                    problem = f"{shown(value)} is also on line {seen[value]}"
                seen.setdefault(value, line)
            if problem is not None:
                problems.append(Problem(*where, problem))
            values[field] = value
        if len(problems) >= MAX_ERRORS:
            break
        people.append(ListedPerson(line, values["name"], values["email"], values["group"],
                                   values.get("organisation", "")))
        if len(people) > MAX_ROWS:
            problems.append(Problem(line, 1, "", f"the file has more than {MAX_ROWS:,} people; split it"))
            break
    if problems:
        raise PanelListError(problems)
    if not people:
        raise PanelListError([Problem(first[0] + 1, 1, "", "the file has a header but no people")])
    return people
