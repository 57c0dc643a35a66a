"""What a refused ballot file says, and the cells no ballot file may hold.

Split from csvio.py (the parser) to keep each module small. A cell holding a control character
(NUL above all: PostgreSQL cannot store it), a bidi control (it reorders what the facilitator
reads), a lone surrogate or a noncharacter is refused with its line and column: none of these is
ever part of a name or a number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MAX_ERRORS = 20
# Bidi embeddings, overrides, isolates and marks: they reorder what the facilitator reads.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHOWN = 40  # characters of a cell quoted in a message


def _unwanted_characters() -> re.Pattern[str]:
    controls = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # all but tab, line feed, carriage return
    surrogates = "\ud800-\udfff"
    nonchars = "\ufdd0-\ufdef" + "".join(chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
    return re.compile(f"[{controls}{surrogates}{nonchars}{''.join(sorted(_BIDI))}]")


UNWANTED = _unwanted_characters()


@dataclass(frozen=True)
class BallotError:
    line: int
    column: int | None
    column_name: str | None
    message: str

    def describe(self, source: str) -> str:
        where = f"{source}, line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
            if self.column_name:
                where += f" ({self.column_name})"
        return f"{where}: {self.message}"


class BallotFileError(ValueError):
    """A ballot file was refused. ``errors`` lists the problems found in file order (up to MAX_ERRORS)."""

    def __init__(
        self,
        source: str,
        line: int,
        column: int | None,
        message: str,
        *,
        column_name: str | None = None,
        errors: Sequence[BallotError] = (),
        first_of_each: Sequence[BallotError] = (),
        count: int | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.column_name = column_name
        self.message = message
        first = BallotError(line, column, column_name, message)
        self.errors: list[BallotError] = list(errors) or [first]
        # The first row of each kind of problem (file order), and how many problems the file has
        # in all: `errors` stops after MAX_ERRORS in file order, so a fault on every line would
        # hide the others.
        self.first_of_each: list[BallotError] = list(first_of_each)
        self.count = max(count or 0, len(self.errors))
        super().__init__(first.describe(source))

    def listed(self, limit: int) -> tuple[list[BallotError], int]:
        """Up to ``limit`` problems to show, the first of each kind first (in file order), then the
        rest in file order; and how many more problems the file has."""
        chosen = self.first_of_each[:limit]
        chosen += [e for e in self.errors if e not in chosen][:limit - len(chosen)]
        return chosen, self.count - len(chosen)


def shown(cell: str) -> str:
    """A cell quoted in a message, cut short: a 100,000-character cell makes no readable error."""
    return repr(cell if len(cell) <= _SHOWN else cell[:_SHOWN] + "…")


def character_errors(rows: list[tuple[int, list[str]]], expected: tuple[str, ...]) -> list[BallotError]:
    """Cells holding characters that no name or value has (see the module docstring)."""
    names = [cell.strip().lower() for cell in rows[0][1]] if rows else []
    errors: list[BallotError] = []
    for line, cells in rows:
        for number, cell in enumerate(cells, start=1):
            found = UNWANTED.search(cell)
            if found is None:
                continue
            ch = found.group()
            kind = ("a lone surrogate (broken text)" if "\ud800" <= ch <= "\udfff" else
                    "a bidi control character" if ch in _BIDI else
                    "a control character" if unicodedata.category(ch) == "Cc" else "a noncharacter")
            name = names[number - 1] if line > 1 and number <= len(names) and names[number - 1] in expected else None
            errors.append(BallotError(line, number, name, f"contains {kind} (U+{ord(ch):04X}), which cannot be "
                                                          "imported; remove it"))
            if len(errors) >= MAX_ERRORS:
                return errors
    return errors
