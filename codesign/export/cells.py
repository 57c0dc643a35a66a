"""Spreadsheet safety shared by every CSV and XLSX export.

CSV has no cell types: a spreadsheet opening it decides what "=SUM(A1)" is, so text that starts
like a formula gets a leading apostrophe (neutralise). XLSX does have types: a cell typed as a
string is never run, so there the text is kept exactly as it was typed (text_cell), with Excel's
"quote prefix" style so that editing the cell keeps it text too, and no visible apostrophe.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote.

    OWASP's advice for CSV injection; numbers are left alone, so -3 stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def text_cell(cell: Any, text: str) -> None:
    """Put `text` in an openpyxl cell as a string-typed cell, never a formula, as typed.

    Assigning a value beginning "=" makes openpyxl type it "f" (formula); typing it back to "s"
    makes the writer store it as an inline string. quotePrefix is the cell style Excel itself
    uses for text typed after an apostrophe: shown as typed, kept as text when edited."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
