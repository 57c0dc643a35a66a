"""Appendix A as PDF (Typst): tagging and metadata, layout rules, user text kept literal, no network.

The content itself (statements, footer, hash, page numbers, suppressed groups) is checked with
the other formats in test_exports.py.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from codesign.export._content import build
from codesign.export.pdf import TEMPLATE, render_pdf, typeset, write_pdf
from tests.export.snapshots import example, with_hash


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def snap() -> tuple[dict[str, Any], str]:
    return with_hash(example())


@pytest.fixture(scope="module")
def files(snap: tuple[dict[str, Any], str]) -> dict[str, bytes]:
    return {"pdf": render_pdf(*snap)}


def pdf_text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_is_tagged_pdf_ua_with_title_and_language(files: dict[str, bytes],
                                                      snap: tuple[dict[str, Any], str]) -> None:
    snapshot, sha = snap
    reader = PdfReader(io.BytesIO(files["pdf"]))
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en-GB"
    assert catalog["/MarkInfo"]["/Marked"].value is True and "/StructTreeRoot" in catalog  # tagged
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True  # a reader shows the title, not the file name
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
    assert reader.metadata.title == snapshot["framework"]["title"]
    assert reader.metadata.author == "Demo commissioner"
    assert reader.metadata.subject == f"Appendix A · version 1 · SHA-256 {sha}"
    assert reader.metadata["/CreationDate"] == "D:20261122101500Z"  # the freeze, not the time of rendering
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Part 2. Co-design annex" in outline  # headings are bookmarks
    fonts = {font["/BaseFont"].split("+")[-1] for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert fonts == {"LiberationSans", "LiberationSans-Bold", "LiberationSans-Italic"}  # no fallback face


def test_pdf_without_a_freeze_time_or_author_invents_none() -> None:
    snapshot = example()
    del snapshot["framework"]["frozen_by"]
    snapshot["framework"]["frozen_at"] = None
    metadata = PdfReader(io.BytesIO(render_pdf(*with_hash(snapshot)))).metadata
    assert "/CreationDate" not in metadata and "/Author" not in metadata
    assert metadata.title == snapshot["framework"]["title"]


def test_pdf_without_its_font_still_renders_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture,
                                                        snap: tuple[dict[str, Any], str]) -> None:
    from codesign.export import pdf

    monkeypatch.setattr(pdf, "FONT_PATHS", [str(tmp_path)])  # no fonts-liberation
    pdf._compiler.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="codesign.export.pdf"):
            assert render_pdf(*snap).startswith(b"%PDF")
    finally:
        pdf._compiler.cache_clear()
    assert "unknown font family: liberation sans" in caplog.text


def test_pdf_is_the_same_bytes_for_the_same_snapshot(files: dict[str, bytes],
                                                     snap: tuple[dict[str, Any], str]) -> None:
    assert render_pdf(*snap) == files["pdf"]


def test_pdf_tables_span_short_rows_and_right_align_numbers(snap: tuple[dict[str, Any], str]) -> None:
    """Where the words of the annex's vote table were drawn: text columns start at their column's
    left, figures end at its right, and a short row's last cell spans from its column on."""
    built = build(*snap)
    votes = built.annex.votes
    spanning = ("Spanning group", "fewer than 5 people: not reported")
    appendix = dataclasses.replace(built, annex=dataclasses.replace(
        built.annex, votes=dataclasses.replace(votes, rows=[*votes.rows, spanning])))
    reader = PdfReader(io.BytesIO(typeset(appendix)))
    page = next(p for p in reader.pages if "How each group voted" in p.extract_text())
    spans: list[tuple[str, float]] = []
    page.extract_text(visitor_text=lambda text, cm, tm, *_: spans.append((text.strip(), tm[4] * cm[0] + cm[4])))
    table = spans[[t for t, _ in spans].index("How each group voted"):]
    x = {}
    for text, left in table:
        x.setdefault(text, left)
    mm = 72 / 25.4
    widths = [170 * mm * pct / 100 for pct in votes.percents()]
    starts = [20 * mm + sum(widths[:i]) for i in range(len(widths))]
    inset = 3
    assert x["Outcome"] == pytest.approx(starts[0] + inset, abs=1)
    first = votes.rows[0]
    assert x[first[1]] > starts[1] + inset + 1  # a figure is pushed to the right of its column
    assert x[first[1]] < starts[1] + widths[1] - inset
    assert x[spanning[1]] == pytest.approx(starts[1] + inset, abs=1)  # spans, from the left of column 2


def test_pdf_splits_a_row_taller_than_a_page_instead_of_losing_it() -> None:
    """Rows and short tables are kept on one page, unless they could not fit on one."""
    snapshot = example()
    reason = " ".join(f"reason{i}" for i in range(3000)) + " the last word"
    snapshot["methods"]["departures"][0]["reason"] = reason
    snapshot, sha = with_hash(snapshot)
    buf = io.BytesIO()
    write_pdf(snapshot, sha, buf)
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    ys: list[float] = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda text, cm, tm, *_: ys.append(tm[5] * cm[3] + cm[5]) if text.strip() else None)
    assert len(reader.pages) > 7 and min(ys) > 20  # nothing drawn below the page's foot (the footer is lowest, 2 cm up)
    assert "the last word" in squash(pdf_text_of(buf.getvalue()))


def test_pdf_wraps_a_word_too_long_for_its_column() -> None:
    """Typst breaks lines only between words: a long URL in a narrow column is given break
    opportunities (zero-width spaces) instead of running across the next columns and off the page."""
    snapshot = example()
    url = "https://example.invalid/" + "a" * 150
    snapshot["outcomes"][0]["provenance"]["sources"][0]["session"] = url
    snapshot, sha = with_hash(snapshot)
    buf = io.BytesIO()
    write_pdf(snapshot, sha, buf)
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    lines: set[float] = set()
    for page in reader.pages:
        page.extract_text(visitor_text=lambda text, cm, tm, *_: lines.add(round(tm[5] * cm[3] + cm[5]))
                          if "aaa" in text else None)
    assert len(lines) >= 5  # about 40 characters a line in that column
    assert url in pdf_text_of(buf.getvalue()).replace("\u200b", "").replace("\n", "")
    assert "Adults with diabetes" in pdf_text_of(buf.getvalue())  # short words untouched


def test_pdf_template_needs_no_file_package_or_network() -> None:
    """Typst fetches a package from the network only when a source imports one (`@preview/...`);
    the template imports nothing, reads nothing, and user text never becomes source."""
    source = TEMPLATE.read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*", "", source)  # comments say what the file does not do
    assert not re.search(r"\b(import|include)\b|@preview|\b(read|plugin|csv|yaml|toml|xml|cbor|eval)\(", code)
    # The one image is a chart whose bytes come in the payload, never a path to a file.
    assert re.findall(r"\bimage\([^,]*", code) == ["image(bytes(b.bytes)"]
    assert re.findall(r"\bjson\([^)]*\)", code) == ["json(bytes(sys.inputs.appendix)"]
    assert sorted(p.name for p in TEMPLATE.parent.iterdir()) == ["appendix.typ"]  # the compiler's root


OFFLINE_RENDER = """
import io, sys, tempfile, typst
from codesign.export.pdf import write_pdf
from tests.export.snapshots import example, with_hash
snapshot = example()
snapshot["outcomes"][0]["statement"] = '#import "@preview/cetz:0.3.0": *'
buf = io.BytesIO()
write_pdf(*with_hash(snapshot), buf)
assert buf.getvalue().startswith(b"%PDF")
with tempfile.TemporaryDirectory() as empty:  # the control: a real package import needs the network
    try:
        typst.compile(b'#import "@preview/cetz:0.3.0": *', package_path=empty, package_cache_path=empty)
    except RuntimeError as error:
        print("control refused:", str(error).splitlines()[0])
    else:
        sys.exit("a package was imported without a network")
"""


def test_pdf_renders_with_no_network_at_all() -> None:
    """In a network namespace of its own (no interface, not even loopback up), a PDF still renders
    (with a package import in user text), while a source that does import a package fails there."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode:
        pytest.skip("needs unshare -n (root or user namespaces)")
    result = subprocess.run(["unshare", "-n", sys.executable, "-c", OFFLINE_RENDER], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "control refused:" in result.stdout


# Typst markup, code and comments, and what a JSON payload or PDF string could trip on.
TYPST_HOSTILE = ['#import "@preview/cetz:0.3.0": *', '#eval("1 + 1")', "$x^2$ and *bold* _it_",
                 "[not content] {not code}", r"back\slash \n \u{41} \#", "@ref <label> https://x.invalid",
                 "// not a comment", "/* nor this */ = not a heading", "- not a list", '"quoted" \'single\' `raw`',
                 "~ non-breaking? -- --- ... 'smart'", "#set page(paper: \"a5\")", "#pagebreak()", "}} ]] ))"]


def test_typst_markup_in_user_text_prints_as_typed() -> None:
    snapshot = example()
    outcome = snapshot["outcomes"][0]
    outcome["statement"] = " ".join(TYPST_HOSTILE[:3])
    outcome["description"] = TYPST_HOSTILE[3]
    outcome["definition"]["numerator"] = TYPST_HOSTILE[4]
    snapshot["outcomes"][1]["decision"]["reason"] = TYPST_HOSTILE[5]
    snapshot["methods"]["departures"][0]["reason"] = TYPST_HOSTILE[5]  # where the annex reads it
    snapshot["framework"]["contract"]["provider"] = TYPST_HOSTILE[6]
    snapshot["framework"]["contract"]["reference"] = TYPST_HOSTILE[7]
    snapshot["framework"]["population_group"]["name"] = TYPST_HOSTILE[8]
    snapshot["methods"]["consensus_text"] = TYPST_HOSTILE[9]
    snapshot["methods"]["tie_break"] = TYPST_HOSTILE[10]
    snapshot["excluded"][0]["reason"] = TYPST_HOSTILE[11]
    snapshot["framework"]["title"] = TYPST_HOSTILE[12] + " " + TYPST_HOSTILE[13]
    snapshot, sha = with_hash(snapshot)
    buf = io.BytesIO()
    write_pdf(snapshot, sha, buf)
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    text = squash(pdf_text_of(buf.getvalue()))
    for hostile in TYPST_HOSTILE[:12]:
        assert squash(hostile) in text, hostile
    assert reader.metadata.title == TYPST_HOSTILE[12] + " " + TYPST_HOSTILE[13]
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # still A4: nothing ran
