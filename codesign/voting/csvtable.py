"""A ballot file as columns: each record's first physical line and number of cells, and each
column's trimmed cells as integer codes into its distinct values. Pure; csvio.py checks it.

Two readers give the same table. The fast one lets pandas' C parser split the cells (as
categoricals, so 1.6 million cells make no 1.6 million Python strings) and finds where every
record starts with NumPy over the file's bytes. It is used only when the file is plain enough
for pandas and the csv module to split it alike: no character csv_errors refuses, every quote
opening a field or closing one (or doubled inside it), no cell near the csv module's size
limit, and pandas agreeing on the number of records. Any other file is read record by record by
csvrecords.records, as before; such files are rare, and most of them are refused anyway.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13
_FIELD_START = np.array([_COMMA, _LF, _CR, _QUOTE], dtype=np.uint8)
# Bytes that never begin an unwanted character (see _may_hold_unwanted)
_ORDINARY = bytes([9, _LF, _CR, *range(32, 127), *range(0x80, 0xC2), *range(0xC3, 0xD8), *range(0xD9, 0xE2),
                   *range(0xE3, 0xEF)])


@dataclass(frozen=True)
class Column:
    """One column's cells: ``values[codes]``, trimmed; a record too short for it holds ""."""

    codes: np.ndarray  # int64, one per record
    values: np.ndarray  # object array of distinct str

    def empty(self) -> np.ndarray:
        """Which records have nothing in this column."""
        empty: np.ndarray = np.asarray(self.values == "", dtype=bool)[self.codes]
        return empty

    def take(self, rows: np.ndarray | slice) -> Column:
        return Column(self.codes[rows], self.values)

    def cell(self, row: int) -> str:
        return str(self.values[self.codes[row]])


@dataclass(frozen=True)
class Table:
    """The records of a file that are not blank (all cells empty once trimmed), in file order."""

    lines: np.ndarray  # first physical line of each record (1 = the file's first line)
    widths: np.ndarray  # how many cells each record has
    columns: list[Column]  # as many as the widest record
    physical_lines: int  # lines in the file, as a text editor counts them

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, index: int) -> Column:
        """Column ``index`` (0-based), all "" when no record reaches it."""
        if index < len(self.columns):
            return self.columns[index]
        return Column(np.zeros(len(self), dtype=np.int64), np.array([""], dtype=object))

    def cells(self, row: int) -> list[str]:
        return [self.columns[j].cell(row) for j in range(int(self.widths[row]))]

    def take(self, rows: np.ndarray | slice) -> Table:
        return Table(self.lines[rows], self.widths[rows], [c.take(rows) for c in self.columns], self.physical_lines)


def _trimmed(codes: np.ndarray, values: Sequence[object]) -> Column:
    """Codes into trimmed distinct values (``values`` are distinct); -1 (no cell) becomes ""."""
    stripped = [str(v).strip() for v in values] + [""]
    if stripped[:-1] == list(values) and not (codes < 0).any():
        return Column(codes, np.asarray(values, dtype=object))  # nothing to trim or merge: as they are
    remap, distinct = pd.factorize(pd.Series(stripped, dtype=object))
    codes = np.where(codes < 0, len(values), codes)
    return Column(np.asarray(remap, dtype=np.int64)[codes], np.asarray(distinct, dtype=object))


def _without_blank_records(lines: np.ndarray, widths: np.ndarray, columns: list[Column], physical: int) -> Table:
    filled = np.zeros(len(lines), dtype=bool)
    for column in columns:
        filled |= ~column.empty()
    table = Table(lines, widths, columns, physical)
    return table if filled.all() else table.take(np.flatnonzero(filled))


def table_from_records(rows: Sequence[tuple[int, list[str]]], physical_lines: int) -> Table:
    """The table of records already read (csvrecords.records: trimmed, blank ones left out)."""
    widths = np.array([len(cells) for _, cells in rows], dtype=np.int64)
    lines = np.array([line for line, _ in rows], dtype=np.int64)
    columns = []
    for j in range(int(widths.max(initial=0))):
        codes, values = pd.factorize(pd.Series([cells[j] if j < len(cells) else "" for _, cells in rows],
                                               dtype=object))
        columns.append(_trimmed(np.asarray(codes, dtype=np.int64), list(values)))
    return Table(lines, widths, columns, physical_lines)


def fast_table(text: str | bytes) -> Table | None:
    """The table by pandas and NumPy (of the text, or of its UTF-8 bytes), or None when the file
    needs reading record by record."""
    try:
        raw = text.encode("utf-8") if isinstance(text, str) else text
    except UnicodeEncodeError:
        return None  # a lone surrogate: csv_errors names it
    if not raw or _may_hold_unwanted(raw):
        return None
    # bytes.find and bytes.count are memchr-fast: most files have no quote and no carriage return
    if raw.find(b'"') < 0 and raw.find(b"\r") < 0:
        plain = _plain_table(raw)
        if plain is not None:
            return plain
    return _located_table(raw)


def _plain_table(raw: bytes) -> Table | None:
    """A file without quotes or carriage returns whose records all have the header's number of
    cells: then each line is a record, and counting commas shows the shape. Pandas refuses a
    record with more cells than the header's; with none longer, as many commas as every record
    having the header's width means none is shorter. Otherwise None (the general reader decides)."""
    breaks = raw.count(b"\n")
    n_records = breaks if raw.endswith(b"\n") else breaks + 1
    first_break = raw.find(b"\n")
    width = raw.count(b",", 0, first_break if first_break >= 0 else len(raw)) + 1
    if raw.count(b",") != (width - 1) * n_records:
        return None
    frame = _read(raw, width, "category")
    if frame is None or len(frame) != n_records:
        return None
    return _table(raw, frame, np.arange(1, n_records + 1, dtype=np.int64),
                  np.full(n_records, width, dtype=np.int64), breaks + 1)


def _located_table(raw: bytes) -> Table | None:
    """Any file pandas and the csv module split alike: where every record starts and how many
    cells it has, from the positions of its quotes, commas and line breaks."""
    data = np.frombuffer(raw, dtype=np.uint8)
    quoted = raw.find(b'"') >= 0
    quotes = np.flatnonzero(data == _QUOTE) if quoted else np.zeros(0, dtype=np.intp)
    if not _quotes_are_plain(data, quotes):
        return None
    # Physical line breaks: \n, \r\n (counted once) and a lone \r, wherever they are.
    breaks = np.flatnonzero(data == _LF)
    if raw.find(b"\r") >= 0:
        cr = np.flatnonzero(data == _CR)
        lone_cr = cr[(cr + 1 >= len(data)) | (data[np.minimum(cr + 1, len(data) - 1)] != _LF)]
        breaks = np.sort(np.concatenate((breaks, lone_cr))) if len(lone_cr) else breaks
    # A record ends at a break outside quotes (an even number of quotes before it).
    ends = breaks[np.searchsorted(quotes, breaks) % 2 == 0] if quoted else breaks
    starts = np.concatenate(([0], ends + 1))
    if starts[-1] >= len(data):
        starts = starts[:-1]  # the file ends with a line break: no record after it
    n_records = len(starts)
    if n_records == 0:
        return None
    commas = np.flatnonzero(data == _COMMA)
    if quoted:
        commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
    record_ends = np.append(ends, len(data))[:n_records]
    widths = np.searchsorted(commas, record_ends) - np.searchsorted(commas, starts) + 1
    lines = np.searchsorted(breaks, starts) + 1
    frame = _read(raw, int(widths.max()), "category")
    if frame is None or len(frame) != n_records:
        return None
    return _table(raw, frame, lines.astype(np.int64), widths.astype(np.int64), len(breaks) + 1)


def _table(raw: bytes, frame: pd.DataFrame, lines: np.ndarray, widths: np.ndarray, physical: int) -> Table | None:
    # pandas turns categories that all look like numbers or true/false into those ("007" -> 7):
    # such columns are read again as text.
    inferred = [j for j in frame.columns if frame[j].cat.categories.inferred_type not in ("string", "empty")]
    again = _read(raw, len(frame.columns), object, inferred) if inferred else None
    limit = csv.field_size_limit()
    columns = []
    for j in frame.columns:
        if again is not None and j in inferred:
            codes, uniques = pd.factorize(again[j].to_numpy(dtype=object))
            values = list(uniques)
        else:
            codes, values = frame[j].cat.codes.to_numpy(), frame[j].cat.categories.tolist()
        if any(len(v) >= limit // 2 for v in values):
            return None  # the csv module refuses a cell this long: let it say so
        columns.append(_trimmed(np.asarray(codes, dtype=np.int64), values))
    return _without_blank_records(lines, widths, columns, physical)


def _read(raw: bytes, width: int, dtype: object, only: list[int] | None = None) -> pd.DataFrame | None:
    try:
        return pd.read_csv(io.BytesIO(raw), header=None, names=range(width), usecols=only, dtype=dtype,
                           keep_default_na=False, na_filter=False, skip_blank_lines=False, engine="c")
    except (ValueError, pd.errors.ParserError):
        return None


def _may_hold_unwanted(raw: bytes) -> bool:
    """Whether the UTF-8 bytes may hold a character csv_errors.UNWANTED refuses (then the file
    is read record by record, which finds it). The regular expression takes seconds on a file
    of 50 MB; these comparisons take milliseconds. The C0 controls but tab and line breaks, and
    DEL, are single bytes; the others are these byte sequences."""
    if not raw.translate(None, _ORDINARY):
        return False  # nothing but printable ASCII, tab, line breaks and harmless lead bytes
    data = np.frombuffer(raw, dtype=np.uint8)
    control = (data < 32) & (data != 9) & (data != _LF) & (data != _CR)
    if control.any() or (data == 127).any():
        return True
    leads = np.flatnonzero((data == 0xC2) | (data == 0xD8) | (data == 0xE2) | (data == 0xEF) | (data >= 0xF0))
    if not len(leads):
        return False
    padded = np.concatenate((data, np.zeros(3, dtype=np.uint8)))
    b0, b1, b2, b3 = (padded[leads + k] for k in range(4))
    c1_control = (b0 == 0xC2) & (b1 >= 0x80) & (b1 <= 0x9F)  # U+0080-U+009F
    arabic_mark = (b0 == 0xD8) & (b1 == 0x9C)  # U+061C
    bidi = (b0 == 0xE2) & (((b1 == 0x80) & (np.isin(b2, (0x8E, 0x8F)) | ((b2 >= 0xAA) & (b2 <= 0xAE))))
                           | ((b1 == 0x81) & (b2 >= 0xA6) & (b2 <= 0xA9)))  # U+200E/F, U+202A-E, U+2066-9
    nonchar = (b0 == 0xEF) & (((b1 == 0xB7) & (b2 >= 0x90) & (b2 <= 0xAF))  # U+FDD0-U+FDEF
                              | ((b1 == 0xBF) & (b2 >= 0xBE)))  # U+FFFE, U+FFFF
    # U+nFFFE and U+nFFFF in the other planes: F0-F4, then xF, BF, BE or BF
    plane_nonchar = (b0 >= 0xF0) & ((b1 & 0x0F) == 0x0F) & (b2 == 0xBF) & (b3 >= 0xBE)
    return bool((c1_control | arabic_mark | bidi | nonchar | plane_nonchar).any())


def _quotes_are_plain(data: np.ndarray, quotes: np.ndarray) -> bool:
    """Whether every quote opens a field, closes one, or is doubled inside one.

    Then the quotes before a comma or line break say whether it is inside a quoted cell (an odd
    number) and pandas and the csv module split the file alike. Quotes alternate: the 1st, 3rd...
    open (or are the second of a doubled pair), the 2nd, 4th... close (or are the first of one).
    """
    if len(quotes) == 0:
        return True
    if len(quotes) % 2:
        return False
    opening, closing = quotes[0::2], quotes[1::2]
    before = data[np.maximum(opening - 1, 0)]
    after = data[np.minimum(closing + 1, len(data) - 1)]
    opens_ok = (opening == 0) | np.isin(before, _FIELD_START)
    closes_ok = (closing == len(data) - 1) | np.isin(after, _FIELD_START)
    return bool(opens_ok.all() and closes_ok.all())
