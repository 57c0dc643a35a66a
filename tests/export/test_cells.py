"""Spreadsheet cells that are already text show as typed (issue 12, section 3): no apostrophe in
XLSX, where a string-typed cell is never a formula; CSV still neutralises."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl

from codesign.export import export
from codesign.export.cells import neutralise
from tests.export.snapshots import example, with_hash

HYPERLINK = '=HYPERLINK("http://x.invalid","Click")'


def _exports() -> tuple[bytes, bytes]:
    snapshot = example()
    first = snapshot["outcomes"][0]
    first["statement"] = "- fewer falls"
    first["definition"]["population"] = "Adults' care"
    first["definition"]["numerator"] = HYPERLINK
    snapshot, sha = with_hash(snapshot)
    out = []
    for fmt in ("xlsx", "csv"):
        buf = io.BytesIO()
        export(snapshot, sha, fmt, buf)
        out.append(buf.getvalue())
    return out[0], out[1]


def test_xlsx_text_shows_as_typed_and_a_formula_stays_inert() -> None:
    xlsx, _ = _exports()
    ws = openpyxl.load_workbook(io.BytesIO(xlsx))["Outcomes"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert row["Outcome"].value == "- fewer falls" and row["Outcome"].data_type == "s"
    assert row["Population (cohort)"].value == "Adults' care"
    assert row["Numerator"].value == HYPERLINK and row["Numerator"].data_type == "s"
    assert row["Outcome"].quotePrefix and row["Numerator"].quotePrefix  # Excel keeps them text when edited
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheets = b"".join(book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in sheets and b"<f " not in sheets  # no formula anywhere
    assert b"'- fewer falls" not in sheets and b"'=HYPERLINK" not in sheets


def test_csv_still_neutralises_formulas_and_leaves_other_text_alone() -> None:
    _, text = _exports()
    row = next(csv.DictReader(io.StringIO(text.decode("utf-8"))))
    assert row["numerator"] == "'" + HYPERLINK and row["statement"] == "'- fewer falls"
    assert row["population"] == "Adults' care"
    assert neutralise("Adults' care") == "Adults' care" and neutralise(-3) == -3
