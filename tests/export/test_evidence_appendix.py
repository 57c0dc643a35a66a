"""The appendix of a version whose definitions link to indicator data: per linked indicator, the
baseline against peers (a chart image in DOCX and PDF, with its numbers in a table) and the
opportunity; the XLSX's Comparison data sheet; illustrative figures marked as such everywhere."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from codesign.evidence import Observation, PeriodData, compare
from codesign.export import docx, pdf, xlsx
from codesign.export.canonical import snapshot_sha256
from tests.export.snapshots import example


def indicator_data(illustrative: bool) -> dict[str, Any]:
    """Area A at 60% of 2,000; peers P00..P09 at 50..80% of 1,000; England 66%."""
    values = [50.0, 53.33, 56.67, 60.0, 63.33, 66.67, 70.0, 73.33, 76.67, 80.0]
    peers = tuple(Observation(f"P{i:02}", v, count=round(v * 10), denominator=1000, area_name=f"Peer {i}")
                  for i, v in enumerate(values))
    data = {"2024": PeriodData(Observation("A", 60.0, count=1200, denominator=2000, area_name="Area A"),
                               Observation("E92000001", 66.0), peers)}
    document = compare("90001", "A", data, "higher", multiplier=100).to_json()
    document.update(available=True, indicator_name="People meeting the test", source="indicators-2024.csv",
                    imported_at="2026-11-01T09:00:00Z", illustrative=illustrative)
    return document


def linked(illustrative: bool = False) -> tuple[dict[str, Any], str]:
    snapshot = example()
    snapshot["outcomes"][0]["indicator_data"] = indicator_data(illustrative)
    snapshot["outcomes"][0]["definition"].update(evidence_indicator="90001", evidence_area="A")
    return snapshot, snapshot_sha256(snapshot)


def docx_text(document: Any) -> str:
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_docx_has_the_chart_with_alt_text_its_table_and_the_opportunity() -> None:
    snapshot, sha = linked()
    out = io.BytesIO()
    docx.write_docx(snapshot, sha, out)
    document = Document(io.BytesIO(out.getvalue()))
    pictures = document.inline_shapes
    assert len(pictures) == 1
    alt = pictures[0]._inline.docPr.get("descr")
    assert alt.startswith("Bar chart for 2024: Area A 60.0% against 10 similar areas ranging from 50.0% to 80.0%")
    text = docx_text(document)
    assert "baseline against similar areas" in text and "Indicator data: 90001, area A" in text
    assert "Area A (A; this area)" in text and "Peer 9 (P09)" in text and "Similar area, among the best 5" in text
    assert "267 more people a year if the area matched the best-5 mean" in text  # 13.334% x 2,000
    assert "ILLUSTRATIVE" not in text


def test_an_appendix_without_linked_data_has_no_chart() -> None:
    snapshot = example()
    out = io.BytesIO()
    docx.write_docx(snapshot, snapshot_sha256(snapshot), out)
    document = Document(io.BytesIO(out.getvalue()))
    assert len(document.inline_shapes) == 0
    assert "baseline against similar areas" not in docx_text(document)
    book = io.BytesIO()
    xlsx.write_xlsx(snapshot, snapshot_sha256(snapshot), book)
    assert "Comparison data" not in load_workbook(io.BytesIO(book.getvalue())).sheetnames


def test_pdf_has_the_chart_image_its_table_and_the_opportunity() -> None:
    snapshot, sha = linked()
    reader = PdfReader(io.BytesIO(pdf.render_pdf(snapshot, sha)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "baseline against similar areas" in text
    assert "Peer 9 (P09)" in text and "Opportunity" in text and "267 more people a year" in text
    assert sum(len(page.images) for page in reader.pages) == 1


def test_illustrative_figures_are_marked_in_every_format() -> None:
    snapshot, sha = linked(illustrative=True)
    out = io.BytesIO()
    docx.write_docx(snapshot, sha, out)
    text = docx_text(Document(io.BytesIO(out.getvalue())))
    assert "ILLUSTRATIVE values, not real statistics" in text
    summary = next(t for t in Document(io.BytesIO(out.getvalue())).tables if t.rows[0].cells[0].text == "Code")
    assert summary.rows[1].cells[4].text.endswith("(illustrative)")  # the baseline in the summary of outcomes
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render_pdf(snapshot, sha))).pages)
    assert "ILLUSTRATIVE values, not real statistics" in pdf_text
    book = io.BytesIO()
    xlsx.write_xlsx(snapshot, sha, book)
    rows = list(load_workbook(io.BytesIO(book.getvalue()))["Comparison data"].iter_rows(values_only=True))
    assert all("ILLUSTRATIVE" in str(row[10]) for row in rows[1:])


def test_xlsx_comparison_sheet_holds_the_numbers_and_never_a_formula() -> None:
    snapshot, _sha = linked()
    snapshot["outcomes"][0]["indicator_data"]["peers"][0]["area_name"] = "=HYPERLINK(\"http://x\")"
    sha = snapshot_sha256(snapshot)
    book = io.BytesIO()
    xlsx.write_xlsx(snapshot, sha, book)
    sheet = load_workbook(io.BytesIO(book.getvalue()))["Comparison data"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Code", "Indicator", "Period", "Area", "Value")
    assert rows[1][3:5] == ("Area A (A; this area)", 60) and rows[1][7:10] == (1200, 2000, "This area")
    assert rows[1][5] is not None and rows[1][6] is not None  # the area's Wilson interval
    hostile = next(c for c in sheet["D"] if str(c.value).startswith("=HYPERLINK"))
    assert hostile.data_type == "s"
    summary = {r[3]: r[4] for r in rows if r[9] == "Summary"}
    assert summary["Best-5 mean"] == 73.334 and round(summary["Opportunity (more people a year)"], 2) == 266.68


def test_xlsx_comparison_sheet_says_the_unit_and_the_source() -> None:
    snapshot, sha = linked()
    book = io.BytesIO()
    xlsx.write_xlsx(snapshot, sha, book)
    rows = list(load_workbook(io.BytesIO(book.getvalue()))["Comparison data"].iter_rows(values_only=True))
    assert rows[0][11:13] == ("Unit", "Source")
    assert all(row[11:13] == ("%", "indicators-2024.csv, imported 2026-11-01") for row in rows[1:])


def test_a_pdf_chart_keeps_its_heading_and_a_chart_that_fails_leaves_its_table(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from codesign.evidence import charts
    from codesign.export._schedule import NOT_DRAWN, evidence_spec
    snapshot, sha = linked()
    spec = evidence_spec(snapshot["outcomes"][0])
    assert spec is not None
    blocks = pdf._evidence(spec)
    assert [b["kind"] for b in blocks[:3]] == ["heading", "para", "image"]
    assert blocks[0].get("keep") and blocks[1].get("keep")  # sticky: never left at the foot of the page before

    def broken(evidence: Any, fmt: str = "svg") -> bytes:
        raise ValueError("'yerr' must not contain negative values")

    monkeypatch.setattr(charts, "peers_chart", broken)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render_pdf(snapshot, sha))).pages)
    assert "could not be drawn" in text and "Peer 9 (P09)" in text
    out = io.BytesIO()
    docx.write_docx(snapshot, sha, out)
    document = Document(io.BytesIO(out.getvalue()))
    assert NOT_DRAWN in docx_text(document) and len(document.inline_shapes) == 0
