"""Reading a CSV upload record by record, keeping the line each record starts on (a quoted cell
may span lines), so a refusal can name the line and column at fault. Pure: the ballot import
(`voting/csvio.py`) and the indicator import (`evidence/files.py`) both read with it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator


class UnreadableCsv(ValueError):
    """The csv module gave up at `line` (an unterminated quote, say)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, trimmed cells) of each record that is not blank; a leading byte
    order mark is dropped. Raises UnreadableCsv with the line the bad record starts on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    end = 0
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableCsv(start, f"cannot read CSV: {exc}") from None
        end = reader.line_num  # the next record starts after the lines this one took
        stripped = [cell.strip() for cell in cells]
        if any(stripped):
            yield start, stripped
