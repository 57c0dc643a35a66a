"""Appendix A as a Word document (python-docx), to drop into an NHS Standard Contract schedule.

Real heading styles (so the navigation pane works), A4 with 2 cm margins, Arial (LibreOffice
substitutes the metric-compatible Liberation Sans), table header rows that repeat on every
page, and "Appendix A · version N · SHA-256 <hash>" plus "Page X of Y" in the footer.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any, BinaryIO

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from codesign.export import _labels as L
from codesign.export._content import NOTES, Appendix, build
from codesign.export._cosstar import CITATION as COS_STAR_CITATION
from codesign.export._docx_xml import (
    TABLE_TEXT_ID,
    add_field,
    grid_table,
    pairs_table,
    set_font,
)
from codesign.export._schedule import NOT_DRAWN, EvidenceSpec, IndicatorSpec
from codesign.export._study import StudyAnnex

log = logging.getLogger(__name__)

FONT = "Arial"
GAP_FILL = "FFF4CC"
STYLE_SIZES = {"Normal": 11, "Title": 20, "Subtitle": 13, "Heading 1": 16, "Heading 2": 13, "Heading 3": 11.5}


def write_docx(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO) -> None:
    """Write Appendix A for `snapshot` (whose hash is `sha256`) to `stream` as a .docx file."""
    L.check_sha256(snapshot, sha256)
    appendix = build(snapshot, sha256)
    doc = Document()
    _set_up(doc, appendix, snapshot)
    _heading(doc, L.printable(appendix.title), level=0)
    doc.add_paragraph(L.printable(appendix.subtitle), style="Subtitle")
    if appendix.contract:
        pairs_table(doc, appendix.contract, labels=("Contract", "Details"))
    doc.add_paragraph(NOTES["parts"])
    _schedule(doc, appendix)
    _annex(doc, appendix)
    _sign_off(doc, appendix)
    doc.save(stream)


def _schedule(doc: Any, appendix: Appendix) -> None:
    """Part 1: what the contract pays on. One page per indicator (each starts a page)."""
    _heading(doc, "Part 1. Schedule: outcome indicators", level=1)
    _heading(doc, "About this appendix", level=2)
    for text in appendix.about:
        doc.add_paragraph(L.printable(text))
    _heading(doc, "Summary of outcomes", level=2)
    grid_table(doc, appendix.schedule_summary, size=8)
    _note(doc, NOTES["schedule_summary"])
    _payment(doc, appendix)
    for spec in appendix.specs:
        _spec(doc, spec)


def _spec(doc: Any, spec: IndicatorSpec) -> None:
    heading = _heading(doc, L.printable(spec.heading), level=2)
    heading.paragraph_format.page_break_before = True
    if spec.gap:
        _gap(doc, spec.gap)
    pairs_table(doc, spec.rows, labels=("Specification", spec.code), size=8.5)
    grid_table(doc, spec.by_year, size=8.5)
    if spec.evidence:
        _evidence(doc, spec.evidence)


def _evidence(doc: Any, ev: EvidenceSpec) -> None:
    """The baseline against similar areas: the chart (PNG, with its description as alt text), then
    the same numbers as a table, and the opportunity."""
    from codesign.evidence.charts import peers_chart  # matplotlib only for an appendix with indicator data

    _heading(doc, L.printable(ev.heading), level=3).paragraph_format.keep_with_next = True
    _note(doc, ev.note)
    try:
        png = peers_chart(ev.data, "png")
    except Exception:  # a chart that cannot be drawn never stops the appendix: its table follows
        log.exception("The peers chart could not be drawn for the appendix (%s)", ev.heading)
        doc.add_paragraph(NOT_DRAWN)
    else:
        doc.add_picture(io.BytesIO(png), width=Cm(16))
        doc_pr = doc.inline_shapes[-1]._inline.docPr
        doc_pr.set("descr", L.printable(ev.alt))
        doc_pr.set("title", L.printable(ev.heading))
    grid_table(doc, ev.peers, size=8.5)
    pairs_table(doc, ev.summary, labels=("Comparison", "Figures"), size=8.5)


def _heading(doc: Any, text: str, level: int) -> Any:
    """doc.add_heading without its search of every style by name (slow when repeated)."""
    para = doc.add_paragraph(text)
    para._p.style = "Title" if level == 0 else f"Heading{level}"
    return para


def _set_up(doc: Any, appendix: Appendix, snapshot: Mapping[str, Any]) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.2)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(0.9)
    for name, size in STYLE_SIZES.items():
        style = doc.styles[name]
        set_font(style.element, FONT)
        style.font.size = Pt(size)
        if name == "Subtitle":
            style.font.italic = False
        if name != "Normal":
            style.font.color.rgb = RGBColor(0, 0x30, 0x87) if name.startswith("Heading") or name == "Title" \
                else RGBColor(0x42, 0x54, 0x63)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-GB")
    doc.styles["Normal"].element.get_or_add_rPr().append(lang)
    doc.styles["Normal"].paragraph_format.space_after = Pt(6)
    table_text = doc.styles.add_style("Table text", 1)
    table_text.style_id = TABLE_TEXT_ID
    table_text.base_style = doc.styles["Normal"]
    table_text.font.size = Pt(9)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.space_before = Pt(0)

    fw = snapshot["framework"]
    props = doc.core_properties
    props.title = L.printable(appendix.document_title)
    props.subject = L.printable(fw["population_group"]["name"])
    props.author = L.printable(appendix.author)
    props.comments = L.printable(appendix.footer)
    props.language = "en-GB"
    props.revision = int(fw["version"])

    footer = section.footer
    first = footer.paragraphs[0]
    first.text = appendix.footer
    second = footer.add_paragraph()
    second.add_run("Page ")
    add_field(second, "PAGE")
    second.add_run(" of ")
    add_field(second, "NUMPAGES")
    for para in footer.paragraphs:
        para.paragraph_format.space_after = Pt(0)
        for run in para.runs:
            run.font.size = Pt(8)
            run.font.name = FONT


def _para(doc: Any, text: str, after_table: bool = False, keep: bool = False) -> Any:
    """A body paragraph; `keep` holds it on the page of the table that follows it."""
    para = doc.add_paragraph(L.printable(text))
    if after_table:
        para.paragraph_format.space_before = Pt(6)
    if keep:
        para.paragraph_format.keep_with_next = True
    return para


def _note(doc: Any, text: str) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(3)
    run = para.add_run(L.printable(text))
    run.italic = True
    run.font.size = Pt(9)


def _payment(doc: Any, appendix: Appendix) -> None:
    _heading(doc, "Payment terms", level=2)
    pairs_table(doc, appendix.payment_terms)
    _heading(doc, "Money at stake by contract year", level=3)
    grid_table(doc, appendix.payment_years)
    _note(doc, f"Rounding: {appendix.rounding}")
    _heading(doc, "Money at stake by outcome", level=3)
    grid_table(doc, appendix.payment_outcomes)


def _gap(doc: Any, text: str) -> None:
    para = doc.add_paragraph()
    para.add_run(L.printable(text)).bold = True
    p_pr = para._p.get_or_add_pPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), GAP_FILL)
    borders = OxmlElement("w:pBdr")
    left = OxmlElement("w:left")
    for attr, val in (("w:val", "single"), ("w:sz", "24"), ("w:space", "4"), ("w:color", "FFB81C")):
        left.set(qn(attr), val)
    borders.append(left)
    p_pr.append(borders)
    p_pr.append(shd)


def _annex(doc: Any, appendix: Appendix) -> None:
    """Part 2: how the outcomes were chosen, item by item of COS-STAR."""
    annex = appendix.annex
    heading = _heading(doc, "Part 2. Co-design annex", level=1)
    heading.paragraph_format.page_break_before = True
    _heading(doc, "COS-STAR reporting items", level=2)
    _para(doc, NOTES["cos_star"] + " " + COS_STAR_CITATION, keep=True)
    grid_table(doc, annex.cos_star, size=8)
    _heading(doc, "Protocol, ethics, funding, participants and limitations", level=2)
    pairs_table(doc, annex.report)
    _heading(doc, "Declared conflicts of interest", level=2)
    grid_table(doc, annex.conflicts)
    _heading(doc, "People taking part at each stage", level=2)
    grid_table(doc, annex.stages, size=8)
    _note(doc, NOTES["participants"] + " " + annex.characteristics)
    _heading(doc, "Consensus rule, declared before voting", level=2)
    doc.add_paragraph(L.printable(annex.consensus_text))
    _heading(doc, "Rounds", level=2)
    for rnd in annex.rounds:
        _heading(doc, L.printable(rnd.heading), level=3)
        pairs_table(doc, rnd.fields, size=8.5)
    _heading(doc, "Agreement", level=2)
    _para(doc, annex.agreement_note, keep=True)
    grid_table(doc, annex.agreement)
    _study(doc, annex.study)
    _heading(doc, "Tie-break rule", level=2)
    doc.add_paragraph(L.printable(annex.tie_break))
    _heading(doc, "Outcomes considered", level=2)
    grid_table(doc, annex.considered, size=8)
    _heading(doc, "How each group voted", level=2)
    _para(doc, NOTES["votes"], keep=True)
    grid_table(doc, annex.votes, size=8)
    _heading(doc, "Where each outcome came from", level=2)
    grid_table(doc, annex.provenance, size=8)
    _heading(doc, "Departures from the computed result", level=2)
    if annex.departures:
        grid_table(doc, annex.departures)
    else:
        doc.add_paragraph(NOTES["no_departures"])
    _heading(doc, "Outcomes left out", level=2)
    _para(doc, appendix.excluded_intro, keep=True)
    if appendix.excluded:
        grid_table(doc, appendix.excluded)


def _study(doc: Any, studies: list[StudyAnnex]) -> None:
    """A panel's study across rounds: who took part and stayed, attrition bias, stability."""
    for study in studies:
        _heading(doc, L.printable(study.heading), level=2)
        _para(doc, study.intro, keep=True)
        _heading(doc, "Taking part, round by round", level=3)
        grid_table(doc, study.participation, size=8)
        _heading(doc, "Did those who left score differently?", level=3)
        _para(doc, study.attrition_summary, keep=study.attrition is not None)
        if study.attrition:
            grid_table(doc, study.attrition, size=8)
        for step in study.stability:
            _heading(doc, L.printable(f"Stability: {step.heading}"), level=3)
            _para(doc, step.summary, keep=step.changes is not None)
            if step.changes:
                grid_table(doc, step.changes, size=8)
        if study.agreement:
            _heading(doc, "Kendall's W in each round of the study", level=3)
            grid_table(doc, study.agreement, size=8)


def _sign_off(doc: Any, appendix: Appendix) -> None:
    """Part 3: who froze and who approved (role, name, date), and signature lines for the parties."""
    sign = appendix.sign_off
    heading = _heading(doc, "Part 3. Sign-off", level=1)
    heading.paragraph_format.page_break_before = True
    _heading(doc, "Frozen", level=2)
    pairs_table(doc, sign.frozen)
    _heading(doc, "Approved", level=2)
    _para(doc, sign.approval_note, keep=sign.approvals is not None)
    if sign.approvals:
        grid_table(doc, sign.approvals)
    _heading(doc, "Signatures", level=2)
    _para(doc, NOTES["signatures"], keep=True)
    grid_table(doc, sign.signatures, size=10)
