"""Appendix A as PDF, typeset by Typst (the `typst` package) with templates/export/appendix.typ.

The content is the DOCX's (`_content.build`), walked once into a flat list of blocks (title,
heading, paragraph, flag, label/value pairs, table, page break): one small function per kind
here and one per kind in the template. A new part of the appendix is a function that returns its
blocks, added to SECTIONS.

Every user string reaches Typst as JSON data in `sys.inputs`, never spliced into markup: the
template shows it as text, so `#`, `$`, `*`, `[`, `\\`, `@`, `<` or `//` print as typed. The
template imports no package and reads no file, and the compiler's root is its own folder, so
nothing is fetched from the network. The result is a tagged PDF/UA-1 with title and language
(en-GB) set; the same snapshot gives the same bytes (the creation date is the freeze time).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, BinaryIO

import typst

from codesign import paths
from codesign.export import _labels as L
from codesign.export._content import NOTES, Appendix, build
from codesign.export._cosstar import CITATION as COS_STAR_CITATION
from codesign.export._model import Grid, Pairs
from codesign.export._schedule import NOT_DRAWN, EvidenceSpec
from codesign.export._study import StudyAnnex

TEMPLATE = paths.TEMPLATES / "export" / "appendix.typ"
FONT_PATHS = ["/usr/share/fonts"]  # Liberation Sans (fonts-liberation), metric-compatible with the DOCX's Arial
PDF_STANDARDS: list[typst.PDFStandard] = ["ua-1"]  # tagged, with title and language: PDF/UA-1
KEEP_TOGETHER_ROWS = 12
TEXT_WIDTH_PT = 170 / 25.4 * 72  # A4 less 2 cm margins
KEEP_TOGETHER_HEIGHT = 300.0  # points: under half the text height, so a kept table never overflows
WHOLE_ROW_HEIGHT = 200.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Block = dict[str, Any]
_LONG_WORD = re.compile(r"\S{13,}")
log = logging.getLogger(__name__)


# One function per kind of block (the template has one for each kind) --------------------------

def _text(value: str) -> str:
    return L.printable(value)


def title(text: str, subtitle: str) -> Block:
    return {"kind": "title", "text": _text(text), "subtitle": _text(subtitle)}


def heading(text: str, level: int, *, rule: bool = False) -> Block:
    """Levels as the DOCX's: 1 for a part, 2 for an outcome or a sub-part, 3 inside those; `rule`
    draws a line above (each outcome starts under one)."""
    return {"kind": "heading", "text": _text(text), "level": level, "rule": rule}


def para(text: str, style: str = "body") -> Block:
    """style: body; intro (kept on the page of what follows); note (small italics)."""
    return {"kind": "para", "text": _text(text), "style": style}


def flag(strong: str, text: str = "") -> Block:
    """A shaded paragraph that must not be missed (a measurability gap)."""
    return {"kind": "flag", "strong": _text(strong), "text": _text(text)}


def pairs(groups: Sequence[tuple[str, Pairs]]) -> Block:
    """Label/value lines ("Provider: ..."), under a group title where one is given."""
    return {"kind": "pairs", "groups": [{"title": _text(t), "items": [[_text(k), _text(v)] for k, v in items]}
                                        for t, items in groups]}


def grid(g: Grid, size: float = 9) -> Block:
    """A table with a repeated header row, right-aligned numeric columns and spanning short rows.

    A row is kept on one page, and a short table too, unless that could not fit on a page (an
    unbreakable block taller than the page would run off its foot): see `_row_heights`."""
    heights = _row_heights(g, size)
    return {"kind": "grid", "header": [_text(h) for h in g.header],
            "rows": [[_wrappable(_text(cell), _per_line(g, size, c, len(row))) for c, cell in enumerate(row)]
                     for row in g.rows],
            "widths": g.percents(), "numeric": sorted(g.numeric), "size": size,
            "keep": len(g.rows) <= KEEP_TOGETHER_ROWS and sum(heights) < KEEP_TOGETHER_HEIGHT,
            "whole_rows": max(heights, default=0) < WHOLE_ROW_HEIGHT}


def _per_line(g: Grid, size: float, column: int, row_length: int) -> int:
    """About how many characters fit on a line of a cell, at an average advance of half an em
    (Liberation Sans's is less): a generous estimate of the lines a cell takes."""
    percents = g.percents()
    share = sum(percents[column:]) if column == row_length - 1 else percents[column]  # a short row's last cell spans
    return max(1, int(TEXT_WIDTH_PT * share / 100 / (size * 0.5)))


def _row_heights(g: Grid, size: float) -> list[float]:
    """A generous estimate of each row's height in points."""
    heights = []
    for row in g.rows:
        lines = max([1, *(sum(-(-max(len(part), 1) // _per_line(g, size, c, len(row))) for part in cell.split("\n"))
                          for c, cell in enumerate(row))])
        heights.append(lines * size * 1.3 + 4)
    return heights


def _wrappable(text: str, per_line: int) -> str:
    """Typst breaks lines only between words: a word too long for its column (a URL, say) would
    run into the next column and off the page. Give such a word a break opportunity (a zero-width
    space) every few characters; a word that fits is left alone."""
    limit = max(int(per_line * 0.9), 12)
    return _LONG_WORD.sub(lambda m: "\u200b".join(_chunks(m.group(0), 6)) if len(m.group(0)) > limit else m.group(0),
                          text)


def _chunks(word: str, size: int) -> list[str]:
    return [word[i:i + size] for i in range(0, len(word), size)]


def image(png: bytes, alt: str, width_percent: float = 100) -> Block:
    """A picture (PNG bytes, carried as a list of byte values: sys.inputs holds only text) with its
    text alternative, which a tagged PDF gives to screen readers."""
    return {"kind": "image", "bytes": list(png), "alt": _text(alt), "width": width_percent}


def page_break() -> Block:
    """A new page, unless the page is still empty."""
    return {"kind": "page-break"}


# The walk over the appendix's parts, in the DOCX's order ----------------------------------------

def _table(label: str, code: str, rows: Pairs, size: float = 9) -> Block:
    """Label/value rows as a two-column table under a header row (as the DOCX's specifications)."""
    return grid(Grid(header=(label, code), rows=[(k, v) for k, v in rows], widths=(32, 68)), size=size)


def _front(a: Appendix) -> list[Block]:
    out = [title(a.title, a.subtitle)]
    if a.contract:
        out.append(pairs([("", a.contract)]))
    return [*out, para(NOTES["parts"])]


def _schedule(a: Appendix) -> list[Block]:
    """Part 1: what the contract pays on; each indicator's specification starts a page."""
    out = [heading("Part 1. Schedule: outcome indicators", 1), heading("About this appendix", 2),
           *[para(t) for t in a.about],
           heading("Summary of outcomes", 2), grid(a.schedule_summary, size=8), para(NOTES["schedule_summary"], "note"),
           heading("Payment terms", 2), pairs([("", a.payment_terms)]),
           heading("Money at stake by contract year", 3), grid(a.payment_years),
           para(f"Rounding: {a.rounding}", "note"),
           heading("Money at stake by outcome", 3), grid(a.payment_outcomes)]
    for spec in a.specs:
        out += [page_break(), heading(spec.heading, 2)]
        if spec.gap:
            out.append(flag(spec.gap))
        out += [_table("Specification", spec.code, spec.rows, size=8.5), grid(spec.by_year, size=8.5)]
        if spec.evidence:
            out += _evidence(spec.evidence)
    return out


def _evidence(ev: EvidenceSpec) -> list[Block]:
    """The baseline against similar areas: the chart, the same numbers as a table, the opportunity."""
    from codesign.evidence.charts import peers_chart  # matplotlib only for an appendix with indicator data

    # The heading and its note are kept on the page of the chart (Typst's sticky blocks), so a chart
    # never starts a page with its heading left at the foot of the one before.
    try:
        chart = [image(peers_chart(ev.data, "png"), ev.alt, 94)]
    except Exception:  # a chart that cannot be drawn never stops the appendix: its table follows
        log.exception("The peers chart could not be drawn for the appendix (%s)", ev.heading)
        chart = [para(NOT_DRAWN)]
    return [{**heading(ev.heading, 3), "keep": True}, {**para(ev.note, "note"), "keep": True}, *chart,
            grid(ev.peers, size=8.5), _table("Comparison", "Figures", ev.summary, size=8.5)]


def _annex(a: Appendix) -> list[Block]:
    """Part 2: how the outcomes were chosen, item by item of COS-STAR."""
    annex = a.annex
    out = [page_break(), heading("Part 2. Co-design annex", 1),
           heading("COS-STAR reporting items", 2), para(NOTES["cos_star"] + " " + COS_STAR_CITATION, "intro"),
           grid(annex.cos_star, size=8),
           heading("Protocol, ethics, funding, participants and limitations", 2), pairs([("", annex.report)]),
           heading("Declared conflicts of interest", 2), grid(annex.conflicts),
           heading("People taking part at each stage", 2), grid(annex.stages, size=8),
           para(NOTES["participants"] + " " + annex.characteristics, "note"),
           heading("Consensus rule, declared before voting", 2), para(annex.consensus_text),
           heading("Rounds", 2)]
    for rnd in annex.rounds:
        out += [heading(rnd.heading, 3), pairs([("", rnd.fields)])]
    out += [heading("Agreement", 2), para(annex.agreement_note, "intro"), grid(annex.agreement),
            *_study(annex.study),
            heading("Tie-break rule", 2), para(annex.tie_break),
            heading("Outcomes considered", 2), grid(annex.considered, size=8),
            heading("How each group voted", 2), para(NOTES["votes"], "intro"), grid(annex.votes, size=8),
            heading("Where each outcome came from", 2), grid(annex.provenance, size=8),
            heading("Departures from the computed result", 2)]
    out.append(grid(annex.departures) if annex.departures else para(NOTES["no_departures"]))
    out += [heading("Outcomes left out", 2), para(a.excluded_intro, "intro")]
    return out + ([grid(a.excluded)] if a.excluded else [])


def _study(studies: list[StudyAnnex]) -> list[Block]:
    """A panel's study across rounds: who took part and stayed, attrition bias, stability."""
    out: list[Block] = []
    for study in studies:
        out += [heading(study.heading, 2), para(study.intro, "intro"),
                heading("Taking part, round by round", 3), grid(study.participation, size=8),
                heading("Did those who left score differently?", 3),
                para(study.attrition_summary, "intro" if study.attrition else "body")]
        if study.attrition:
            out.append(grid(study.attrition, size=8))
        for step in study.stability:
            out += [heading(f"Stability: {step.heading}", 3), para(step.summary, "intro" if step.changes else "body")]
            if step.changes:
                out.append(grid(step.changes, size=8))
        if study.agreement:
            out += [heading("Kendall's W in each round of the study", 3), grid(study.agreement, size=8)]
    return out


def _sign_off(a: Appendix) -> list[Block]:
    """Part 3: who froze and who approved (role, name, date), and signature lines for the parties."""
    sign = a.sign_off
    out = [page_break(), heading("Part 3. Sign-off", 1), heading("Frozen", 2), pairs([("", sign.frozen)]),
           heading("Approved", 2), para(sign.approval_note, "intro" if sign.approvals else "body")]
    if sign.approvals:
        out.append(grid(sign.approvals))
    return [*out, heading("Signatures", 2), para(NOTES["signatures"], "intro"), grid(sign.signatures, size=10)]


SECTIONS: tuple[Callable[[Appendix], list[Block]], ...] = (_front, _schedule, _annex, _sign_off)


def blocks(a: Appendix, sections: Iterable[Callable[[Appendix], list[Block]]] = SECTIONS) -> list[Block]:
    return [block for section in sections for block in section(a)]


# Typesetting -----------------------------------------------------------------------------------

def _frozen_at(a: Appendix) -> datetime | None:
    try:
        moment = datetime.fromisoformat(a.frozen_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def payload(snapshot: Mapping[str, Any], sha256: str) -> dict[str, Any]:
    """Everything the template shows, as JSON-ready data (refuses a sha256 that is not the snapshot's)."""
    L.check_sha256(snapshot, sha256)
    return _payload(build(snapshot, sha256))


def _payload(a: Appendix) -> dict[str, Any]:
    return {"title": _text(a.document_title), "author": _text(a.author), "footer": _text(a.footer),
            "dated": _frozen_at(a) is not None, "blocks": blocks(a)}


_lock = threading.Lock()


@cache
def _compiler() -> typst.Compiler:
    """One compiler for the process: loading the fonts is most of a small document's time."""
    return typst.Compiler(str(TEMPLATE), root=str(TEMPLATE.parent), font_paths=FONT_PATHS, ignore_system_fonts=True)


def render_pdf(snapshot: Mapping[str, Any], sha256: str) -> bytes:
    """Appendix A for `snapshot` (whose hash is `sha256`) as PDF bytes."""
    L.check_sha256(snapshot, sha256)
    return typeset(build(snapshot, sha256))


def typeset(appendix: Appendix) -> bytes:
    """The PDF of an appendix already built (render_pdf checks the snapshot's hash first)."""
    inputs = {"appendix": json.dumps(_payload(appendix), ensure_ascii=False)}
    with _lock:  # a Compiler is one mutable world: one compilation at a time
        pdf, warnings = _compiler().compile_with_warnings(
            sys_inputs=inputs, pdf_standards=PDF_STANDARDS, timestamp=_frozen_at(appendix) or EPOCH)
    for warning in warnings:  # a missing font, say: the PDF is still right, only its face differs
        log.warning("Typst: %s", warning.message)
    if not isinstance(pdf, bytes):
        raise RuntimeError("Typst returned no PDF")
    return pdf


def write_pdf(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO) -> None:
    """Write Appendix A for `snapshot` (whose hash is `sha256`) to `stream` as PDF."""
    stream.write(render_pdf(snapshot, sha256))
