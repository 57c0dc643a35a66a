"""Every export read back and checked against the snapshot it came from (docs/framework-snapshot.md)."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from codesign.export import FORMATS, _fields, _schedule, export, filename
from codesign.export.canonical import snapshot_sha256
from codesign.export.csv_ import write_csv
from codesign.export.docx import write_docx
from codesign.export.json_ import write_json
from codesign.export.pdf import write_pdf
from codesign.export.xlsx import write_xlsx
from tests.export.snapshots import example, large, with_hash

GAP_FLAG = "Measurability gap: no routine data source; reported only, weight 0%"
# What a participant identifier would look like if one leaked: "participant 12", "participant_id", "P000123".
IDENTITY = re.compile(r"participant[\s_#:-]*(id\b|no\b|number|\d)|\bP\d{3,}\b", re.IGNORECASE)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def snap() -> tuple[dict[str, Any], str]:
    return with_hash(example())


@pytest.fixture(scope="module")
def files(snap: tuple[dict[str, Any], str]) -> dict[str, bytes]:
    out = {}
    for fmt in FORMATS:
        buf = io.BytesIO()
        export(*snap, fmt, buf)
        out[fmt] = buf.getvalue()
    return out


@pytest.fixture(scope="module")
def document(files: dict[str, bytes]) -> Any:
    return docx.Document(io.BytesIO(files["docx"]))


def docx_text(doc: Any) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def table_with_header(doc: Any, *first: str) -> Any:
    for table in doc.tables:
        if tuple(c.text for c in table.rows[0].cells[: len(first)]) == first:
            return table
    raise AssertionError(f"no table headed {first}")


@pytest.fixture(scope="module")
def pdf_text(files: dict[str, bytes]) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"])).pages)


@pytest.fixture(scope="module")
def workbook(files: dict[str, bytes]) -> Any:
    return openpyxl.load_workbook(io.BytesIO(files["xlsx"]))


@pytest.fixture(scope="module")
def csv_rows(files: dict[str, bytes]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8"))))


def sheet_rows(ws: Any) -> Iterator[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        yield {h: c.value for h, c in zip(header, row, strict=True)}


# DOCX ----------------------------------------------------------------------------------------

def test_docx_title_headings_and_page(document: Any, snap: tuple[dict[str, Any], str]) -> None:
    snapshot, _ = snap
    styled = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Title", "Appendix A: Outcomes framework") in styled
    assert ("Subtitle", "Adults with diabetes, Haringey & Islington · Version 1") in styled
    h1 = [t for s, t in styled if s == "Heading 1"]
    assert h1 == ["Part 1. Schedule: outcome indicators", "Part 2. Co-design annex", "Part 3. Sign-off"]
    h2 = [t for s, t in styled if s == "Heading 2"]
    assert [f"{o['definition']['indicator_code']}: {o['statement']}" for o in snapshot["outcomes"]] == h2[3:6]
    assert {"Money at stake by contract year", "Money at stake by outcome"} <= {
        t for s, t in styled if s == "Heading 3"}
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4
    assert round(section.left_margin.mm) == round(section.right_margin.mm) == 20
    assert document.styles["Normal"].font.name == "Arial"
    about = "\n".join(t for _, t in styled)
    assert "co-designed by patients, carers, clinicians and commissioners" in about
    # The contract it belongs to, in a table straight under the subtitle.
    parties = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert parties == [["Contract", "Details"], ["Commissioner", "Example Integrated Care Board"],
                       ["Provider", "Example Community Diabetes Partnership"],
                       ["Contract reference", "EX-2027-DIAB-01"]]
    assert "frozen on 22 November 2026 at 10:15 UTC by Demo commissioner" in about


def test_docx_summary_table_lists_outcomes_in_order(document: Any, snap: tuple[dict[str, Any], str]) -> None:
    snapshot, _ = snap
    table = table_with_header(document, "Code", "Outcome", "Weight")
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Code", "Outcome", "Weight", "Unit", "Baseline", "Target 2026/27", "Target 2027/28",
                      "Target 2028/29"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert [(r[0], r[1]) for r in rows] == [
        (o["definition"]["indicator_code"], o["statement"]) for o in snapshot["outcomes"]]
    assert [r[2] for r in rows] == ["60%", "40%", "0% (gap)"]
    assert rows[0][3:] == ["per 1,000", "4.2 per 1,000", "4.2 per 1,000", "3.8 per 1,000", "3.4 per 1,000"]


def test_docx_every_table_repeats_its_header_row(document: Any) -> None:
    assert len(document.tables) > 10
    for table in document.tables:
        tr_pr = table.rows[0]._tr.trPr
        assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None
        assert all(r._tr.trPr.find(qn("w:tblHeader")) is None for r in table.rows[1:])


# Definition fields the specification leaves out, and why: the library key is an internal reference,
# the gap flag and plan are the shaded line above the table, the targets are the by-year table.
# The link to indicator data is in the Baseline row only when there is one (test_evidence_appendix).
NOT_IN_SPEC = {"indicator_key", "no_routine_data", "gap_plan", "targets", "evidence_indicator", "evidence_area"}

GAP_UNPAID_KEYS = {"rag_green", "rag_amber", "achievement", "payment_thresholds", "payment_timing", "floor_cap",
                   "consequence_of_breach", "breach_applies"}


def test_docx_indicator_specifications_have_every_field(document: Any, snap: tuple[dict[str, Any], str]) -> None:
    snapshot, _ = snap
    specs = [t for t in document.tables if t.rows[0].cells[0].text == "Specification"]
    assert [t.rows[0].cells[1].text for t in specs] == [o["definition"]["indicator_code"] for o in snapshot["outcomes"]]
    for outcome, table in zip(snapshot["outcomes"], specs, strict=True):
        fields = {r.cells[0].text: r.cells[1].text for r in table.rows[1:]}
        assert len(fields) <= _schedule.MAX_ROWS
        assert fields["Indicator code"] == outcome["definition"]["indicator_code"]
        assert fields["Outcome (as voted)"].startswith(outcome["statement"])
        text = "\n".join(fields.values())
        instrument = {"instrument", "instrument_licence_note", "time_points"}  # only for PROMs and PREMs
        # A measurability gap is reported only: one "Payment and breach" row instead of the payment ones.
        unpaid = GAP_UNPAID_KEYS if outcome.get("measurability_gap") else set()
        for key in _fields.KEYS:
            if key not in NOT_IN_SPEC and key not in unpaid and (
                    key not in instrument or outcome["definition"]["indicator_type"] in ("PROM", "PREM")):
                assert _fields.value(key, outcome["definition"]) in text, key
        paid_labels = ("Thresholds that drive payment", "Payment timing", "Floor and cap", "Consequence of breach")
        for label in ("Rationale", "Numerator", "Denominator", "Exclusions", "Code lists", "Unit and time base",
                      "Measurement period for each contract year", "Data submission", "Small-number rule",
                      "Data quality and dispute route", "Accountable provider(s)",
                      *(("Payment and breach",) if unpaid else paid_labels)):
            assert fields[label].strip(), label
    text = docx_text(document)
    for weight in ("Payment weight\n60%", "Payment weight\n40%", "Payment weight\n0%"):  # label cell, value cell
        assert weight in text
    assert "£720,000.00" in text and "£1,080,000.00" in text  # outcome 1's money in 2027/28 and 2028/29
    assert "Rounding: Each year's outcome-linked sum" in text
    # Linear payment or RAG bands: the specification says which, in words.
    assert "The yearly targets, from the baseline (RAG bands for reporting only)" in text


def test_docx_flags_gap_departure_and_exclusion(document: Any, snap: tuple[dict[str, Any], str]) -> None:
    snapshot, _ = snap
    text = docx_text(document)
    assert GAP_FLAG in text
    assert snapshot["outcomes"][2]["definition"]["gap_plan"] in text
    assert snapshot["outcomes"][1]["decision"]["reason"] in text
    assert "Added against the computed result" in text
    excluded = snapshot["excluded"][0]
    assert excluded["statement"] in text and excluded["reason"] in text
    assert snapshot["methods"]["consensus_text"] in text and snapshot["methods"]["tie_break"] in text
    assert "0.71" in text  # Kendall's W between groups


def test_docx_keeps_text_literally(document: Any) -> None:
    text = docx_text(document)
    assert "I can see the same diabetes nurse each time <and> not repeat my story" in text
    assert "Wording is codesign’s own." in text
    assert '=HYPERLINK("http://evil.example"' in text  # Word does not run formulas: shown as written


def test_docx_footer_has_version_and_full_hash(document: Any, snap: tuple[dict[str, Any], str]) -> None:
    _, sha = snap
    footer = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert f"Appendix A · version 1 · SHA-256 {sha}" in footer
    assert "PAGE" in document.sections[0].footer._element.xml and "NUMPAGES" in document.sections[0].footer._element.xml


# PDF -----------------------------------------------------------------------------------------

def test_pdf_has_title_statements_hash_and_page_numbers(pdf_text: str, files: dict[str, bytes],
                                                        snap: tuple[dict[str, Any], str]) -> None:
    snapshot, sha = snap
    text = squash(pdf_text)
    assert "Appendix A: Outcomes framework" in text
    for outcome in snapshot["outcomes"]:
        assert squash(outcome["statement"]) in text
    assert "<and>" in text and "codesign’s own" in text
    assert sha in re.sub(r"\s+", "", pdf_text)
    assert "Page 1 of" in text
    assert "Provider: Example Community Diabetes Partnership" in text and "Contract reference: EX-2027-DIAB-01" in text
    assert GAP_FLAG in text
    assert snapshot["outcomes"][1]["decision"]["reason"] in text
    assert snapshot["excluded"][0]["reason"] in text
    reader = PdfReader(io.BytesIO(files["pdf"]))
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in squash(reader.pages[-1].extract_text())
    assert reader.metadata.title.startswith("Appendix A: Outcomes framework")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


# XLSX ----------------------------------------------------------------------------------------

def test_xlsx_sheets_rows_and_money(workbook: Any, snap: tuple[dict[str, Any], str]) -> None:
    snapshot, sha = snap
    assert workbook.sheetnames == ["Outcomes", "Vote summary", "Methods", "Payment", "About"]
    ws = workbook["Outcomes"]
    assert ws.freeze_panes == "D2" and ws["A1"].font.b
    assert ws.column_dimensions["C"].width == 40
    rows = list(sheet_rows(ws))
    assert [(r["Rank"], r["Outcome ID"], r["Outcome"]) for r in rows] == [
        (o["rank"], o["outcome_id"], o["statement"]) for o in snapshot["outcomes"]]
    for row, outcome in zip(rows, snapshot["outcomes"], strict=True):
        assert row["Payment weight"] == outcome["payment_weight_bp"] / 10000
        for money in outcome["money"]:
            assert round(row[f"Money at stake {money['year']} (£)"] * 100) == money["at_stake_pence"]
    assert rows[0]["Target 2028/29"] == 3.4 and rows[0]["Baseline value"] == 4.2
    assert rows[2]["Measurability gap"] == "Yes" and rows[2]["Target 2028/29"] is None
    money_cell = ws.cell(row=2, column=[c.value for c in ws[1]].index("Money at stake 2027/28 (£)") + 1)
    assert "£" in money_cell.number_format
    about = {r["Item"]: r["Detail"] for r in sheet_rows(workbook["About"])}
    assert about["SHA-256"] == sha and about["Version"] == 1 and about["Frozen by"] == "Demo commissioner (commissioner)"
    assert (about["Commissioner"], about["Provider"], about["Contract reference"]) == (
        "Example Integrated Care Board", "Example Community Diabetes Partnership", "EX-2027-DIAB-01")
    payment = {r["Item"]: r for r in sheet_rows(workbook["Payment"])}
    assert payment["Money at stake, all outcomes"]["2028/29"] == 1_800_000
    assert payment["Annual contract value (£)"]["Weight"] == 12_000_000
    methods = list(sheet_rows(workbook["Methods"]))
    assert any(r["Detail"] == snapshot["methods"]["consensus_text"] for r in methods)


def test_xlsx_never_stores_a_formula(workbook: Any, snap: tuple[dict[str, Any], str]) -> None:
    snapshot, _ = snap
    rows = list(sheet_rows(workbook["Outcomes"]))
    # Text that starts like a formula is a string-typed cell, as typed: no apostrophe to see.
    indicator = snapshot["outcomes"][1]["definition"]["indicator_name"]
    assert indicator.startswith(("=", "+", "-", "@")) and rows[1]["Indicator"] == indicator
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)


# CSV and JSON ----------------------------------------------------------------------------------

def test_csv_rows_weights_and_neutralising(files: dict[str, bytes], csv_rows: list[dict[str, str]],
                                           snap: tuple[dict[str, Any], str]) -> None:
    snapshot, _ = snap
    raw = files["csv"]
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw.replace(b'\r\n"', b"")
    assert [r["outcome_id"] for r in csv_rows] == [str(o["outcome_id"]) for o in snapshot["outcomes"]]
    assert sum(Decimal(r["weight_pct"]) for r in csv_rows) == 100
    assert csv_rows[1]["indicator_name"] == "'" + snapshot["outcomes"][1]["definition"]["indicator_name"]
    assert csv_rows[0]["target_2027/28"] == "3.8" and csv_rows[0]["at_stake_gbp_2027/28"] == "720000.00"
    assert csv_rows[1]["decision_reason"] == snapshot["outcomes"][1]["decision"]["reason"]
    assert csv_rows[0]["group.patient.n"] == "11" and csv_rows[0]["group.clinician.pct_1_3"] == "8.3"
    assert csv_rows[2]["measurability_gap"] == "true"


def test_json_rehashes_and_round_trips(files: dict[str, bytes], snap: tuple[dict[str, Any], str]) -> None:
    snapshot, sha = snap
    doc = json.loads(files["json"].decode("utf-8"))
    assert list(doc) == ["sha256", "snapshot"] and doc["sha256"] == sha
    assert snapshot_sha256(doc["snapshot"]) == sha
    assert doc["snapshot"] == snapshot
    assert "codesign’s own" in files["json"].decode("utf-8")  # UTF-8, not \u escapes


# Privacy -------------------------------------------------------------------------------------

def test_suppressed_group_shows_no_figures(document: Any, pdf_text: str, workbook: Any,
                                           csv_rows: list[dict[str, str]], files: dict[str, bytes]) -> None:
    # DOCX: every row or column for Commissioners says "not reported" (or "fewer than 5") and has no number.
    cells = [c.text for t in document.tables for r in t.rows if r.cells[0].text == "Commissioners"
             and t.rows[0].cells[1].text != "Declared conflicts of interest" for c in r.cells[1:]]
    for t in document.tables:
        header = [c.text for c in t.rows[0].cells]
        if "Commissioners" in header:
            cells += [r.cells[header.index("Commissioners")].text for r in t.rows[1:]]
    assert len(cells) >= 6  # the agreement row, the stages column, the vote summary column
    for cell in cells:
        assert re.search(r"not reported|fewer than 5", cell, re.IGNORECASE), cell
        assert not re.search(r"\b(3|0\.\d+)\b", cell), cell
    # PDF: the same rows, read back from the page.
    assert not re.search(r"Commissioners\s+(3|\d\.\d)", pdf_text)
    assert squash(pdf_text).count("Not reported") >= len(csv_rows)  # the annex's vote summary: one per outcome
    # XLSX: blank figures, flagged suppressed.
    for row in sheet_rows(workbook["Vote summary"]):
        if row["Group key"] == "commissioner":
            assert [row[k] for k in ("People (n)", "Score (0-1)", "Group rank", "Rated 7-9", "Rated 1-3")] == [None] * 5
            assert row["Suppressed"] == "Yes" and row["Note"] == "fewer than 5 people: not reported"
    methods = {r["Item"]: r["Detail"] for r in sheet_rows(workbook["Methods"])}
    assert methods["Commissioners: People taking part, round 2"] == "Fewer than 5: not reported"
    # CSV: empty figures.
    for row in csv_rows:
        assert [row[f"group.commissioner.{f}"] for f in ("n", "score", "rank", "pct_7_9", "pct_1_3")] == [""] * 5
        assert row["group.commissioner.suppressed"] == "true"
    # JSON is the frozen record itself, so it must carry the snapshot unchanged; the snapshot
    # already withholds the suppressed group's score, rank and percentages.
    doc = json.loads(files["json"])
    for outcome in doc["snapshot"]["outcomes"]:
        group = outcome["votes"]["groups"]["commissioner"]
        assert group["suppressed"] and group["score"] is None and group["pct_7_9"] is None


def test_no_participant_identity_in_any_format(document: Any, pdf_text: str, workbook: Any,
                                               files: dict[str, bytes]) -> None:
    texts = {"docx": docx_text(document), "pdf": pdf_text, "csv": files["csv"].decode("utf-8"),
             "json": files["json"].decode("utf-8"),
             "xlsx": "\n".join(str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row
                               if c.value is not None)}
    for fmt, text in texts.items():
        assert not IDENTITY.search(text), (fmt, IDENTITY.search(text))
        # "participant" only as the kind of a source ("Proposed by a participant", kind "participant").
        for match in re.finditer(r"participant\w*", text, re.IGNORECASE):
            assert match.group(0).lower() in {"participant", "participants"}, (fmt, match.group(0))


# Safety and the registry ---------------------------------------------------------------------

WRITERS: list[Callable[..., None]] = [write_docx, write_pdf, write_xlsx, write_json]


@pytest.mark.parametrize("writer", [*WRITERS, write_csv])
def test_writers_refuse_a_hash_that_is_not_the_snapshots(writer: Callable[..., None],
                                                         snap: tuple[dict[str, Any], str]) -> None:
    snapshot, sha = snap
    stream: io.IOBase = io.StringIO() if writer is write_csv else io.BytesIO()
    with pytest.raises(ValueError, match="sha256"):
        writer(snapshot, "0" * 64, stream)
    with pytest.raises(ValueError, match="sha256"):
        writer(snapshot, sha.upper(), stream)


def test_hostile_text_is_kept_as_text_everywhere() -> None:
    snapshot = example()
    outcome = snapshot["outcomes"][0]
    outcome["statement"] = "<script>alert(1)</script> & \x07bell"
    outcome["definition"]["numerator"] = "@SUM(A1:A9)"
    outcome["definition"]["baseline_value"] = "-0.5"
    snapshot["framework"]["contract"]["provider"] = '=HYPERLINK("http://x.invalid","<b>Provider</b>")'
    snapshot, sha = with_hash(snapshot)
    out = {}
    for fmt in FORMATS:
        buf = io.BytesIO()
        export(snapshot, sha, fmt, buf)
        out[fmt] = buf.getvalue()
    text = docx_text(docx.Document(io.BytesIO(out["docx"])))
    assert "<script>alert(1)</script> & bell" in text  # the control character cannot exist in XML
    row = next(csv.DictReader(io.StringIO(out["csv"].decode("utf-8"))))
    assert row["numerator"] == "'@SUM(A1:A9)" and row["baseline_value"] == "-0.5"
    ws = openpyxl.load_workbook(io.BytesIO(out["xlsx"]))["Outcomes"]
    first = next(sheet_rows(ws))
    assert first["Numerator"] == "@SUM(A1:A9)" and first["Baseline value"] == -0.5
    about = {r["Item"]: r["Detail"] for r in sheet_rows(openpyxl.load_workbook(io.BytesIO(out["xlsx"]))["About"])}
    assert about["Provider"] == "=HYPERLINK(\"http://x.invalid\",\"<b>Provider</b>\")"
    assert b"<f>" not in b"".join(zipfile.ZipFile(io.BytesIO(out["xlsx"])).read(n) for n in
                                  zipfile.ZipFile(io.BytesIO(out["xlsx"])).namelist() if n.startswith("xl/worksheets/"))
    pdf = squash("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out["pdf"])).pages))
    assert ": <script>alert(1)</script> & bell" in pdf  # the specification's heading, after its code
    assert 'Provider: =HYPERLINK("http://x.invalid","<b>Provider</b>")' in pdf


def test_a_snapshot_without_contract_parties_exports_without_them() -> None:
    """Versions frozen before the parties were recorded, or frozen before the tender named them."""
    older = example()
    del older["framework"]["contract"]
    blank = example()
    blank["framework"]["contract"] = {"commissioner": "", "provider": "", "reference": ""}
    for snapshot in (older, blank):
        snapshot, sha = with_hash(snapshot)
        buf = io.BytesIO()
        export(snapshot, sha, "docx", buf)
        document = docx.Document(io.BytesIO(buf.getvalue()))
        assert document.tables[0].rows[0].cells[0].text == "Code"  # the summary comes first
        buf = io.BytesIO()
        export(snapshot, sha, "pdf", buf)
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(buf.getvalue())).pages)
        assert "Provider:" not in text and "Contract reference:" not in text
        buf = io.BytesIO()
        export(snapshot, sha, "xlsx", buf)
        about = {r["Item"] for r in sheet_rows(openpyxl.load_workbook(io.BytesIO(buf.getvalue()))["About"])}
        assert "Provider" not in about and "Title" in about


def test_registry_filename_and_text_stream(snap: tuple[dict[str, Any], str]) -> None:
    snapshot, sha = snap
    assert set(FORMATS) == {"docx", "pdf", "xlsx", "csv", "json", "fhir"}
    assert FORMATS["pdf"].media_type == "application/pdf" and FORMATS["csv"].binary is False
    assert filename(snapshot, "docx") == "appendix-a-adults-with-diabetes-haringey-islington-v1.docx"
    renamed = copy.deepcopy(snapshot)
    renamed["framework"]["population_group"]["name"] = "Older people living with frailty (Ōtautahi)"
    renamed["framework"]["version"] = 12
    assert filename(renamed, "xlsx") == "appendix-a-older-people-living-with-frailty-otautahi-v12.xlsx"
    text = io.StringIO()
    export(snapshot, sha, "csv", text)
    binary = io.BytesIO()
    export(snapshot, sha, "csv", binary)
    assert binary.getvalue().decode("utf-8") == text.getvalue()
    with pytest.raises(ValueError, match="unknown export format"):
        export(snapshot, sha, "odt", binary)
    with pytest.raises(TypeError):
        export(snapshot, sha, "docx", io.StringIO())


# A 40-outcome framework in every format (also what bench/bench_export.py times) -------------------

def test_forty_outcomes_in_every_format() -> None:
    snapshot, sha = with_hash(large(40))
    assert snapshot["summary"]["weights_total_bp"] == 10000
    out = {}
    for fmt in FORMATS:
        buf = io.BytesIO()
        export(snapshot, sha, fmt, buf)
        out[fmt] = buf.getvalue()
    document = docx.Document(io.BytesIO(out["docx"]))
    summary = table_with_header(document, "Code", "Outcome", "Weight")
    assert len({r.cells[0].text for r in summary.rows[1:]}) == 40
    rows = list(csv.DictReader(io.StringIO(out["csv"].decode("utf-8"))))
    assert len(rows) == 40 and sum(Decimal(r["weight_pct"]) for r in rows) == 100
    assert len(list(sheet_rows(openpyxl.load_workbook(io.BytesIO(out["xlsx"]))["Outcomes"]))) == 40
    assert snapshot_sha256(json.loads(out["json"])["snapshot"]) == sha
    reader = PdfReader(io.BytesIO(out["pdf"]))
    pages = len(reader.pages)
    assert pages > 40
    last = squash(reader.pages[-1].extract_text())
    assert f"Page {pages} of {pages}" in last and sha in re.sub(r"\s+", "", reader.pages[-1].extract_text())
