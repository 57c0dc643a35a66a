"""A round is named one way everywhere: "Round 2: with feedback", never "Round 2: Round 2: ..."."""

from __future__ import annotations

import copy
import csv
import io
from types import SimpleNamespace

import docx
import openpyxl
import pytest

from codesign.export import export
from codesign.naming import round_label, round_title
from tests.export.snapshots import example, with_hash


@pytest.mark.parametrize(("number", "title", "label"), [
    (1, "Priorities", "Round 1: Priorities"),
    (1, "Round 1: Priorities", "Round 1: Priorities"),
    (1, "round 1 - Priorities", "Round 1: Priorities"),
    (2, "ROUND 2 — with feedback", "Round 2: with feedback"),
    (2, "Round 02: with feedback", "Round 2: with feedback"),
    (2, "Round 2", "Round 2"),
    (2, "Round2:again", "Round 2: again"),
    (1, "Round 10 ideas", "Round 1: Round 10 ideas"),  # another number: the title says something else
    (2, "Round 1 again", "Round 2: Round 1 again"),
    (3, "", "Round 3"),
    (3, None, "Round 3"),
    (1, "  Round 1:  ", "Round 1"),
    (4, "Roundabout access", "Round 4: Roundabout access"),
])
def test_round_label(number: int, title: str | None, label: str) -> None:
    assert round_label({"number": number, "title": title}) == label
    assert round_label(SimpleNamespace(number=number, title=title)) == label
    assert round_title(number, title) == label.partition(": ")[2]


def test_a_mapping_without_a_round_names_nothing() -> None:
    assert round_label({}) == ""


def _framework_named(title: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    snapshot = copy.deepcopy(example())
    for outcome in snapshot["outcomes"]:
        if outcome.get("source_round"):
            outcome["source_round"]["title"] = title
    for rnd in snapshot["methods"]["rounds"]:
        rnd["title"] = title
    return with_hash(snapshot)


def _export(snap: tuple[dict, str], fmt: str) -> bytes:  # type: ignore[type-arg]
    out = io.BytesIO()
    export(*snap, fmt, out)
    return out.getvalue()


@pytest.mark.parametrize("title", ["with feedback", "Round 2: with feedback", "round 2 - with feedback"])
def test_exports_name_the_source_round_once(title: str) -> None:
    snap = _framework_named(title)
    rows = list(csv.DictReader(io.StringIO(_export(snap, "csv").decode("utf-8"))))
    assert {row["source_round"] for row in rows} == {"Round 2: with feedback"}
    sheet = openpyxl.load_workbook(io.BytesIO(_export(snap, "xlsx"))).worksheets[0]
    header = [c.value for c in sheet[1]]
    column = header.index(next(h for h in header if h and "round" in str(h).lower()))
    assert {row[column].value for row in sheet.iter_rows(min_row=2)} <= {"Round 2: with feedback", None, ""}
    document = docx.Document(io.BytesIO(_export(snap, "docx")))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert "Round 2: with feedback" in text and "Round 2: Round 2" not in text and "round 2 - " not in text
