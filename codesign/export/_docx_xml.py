"""The Word appendix's building blocks written as WordprocessingML: tables (rows, cells, a label and
value table, a grid), style fonts and fields. python-docx's cell API re-searches the XML on every
call and takes seconds for a 40-outcome appendix; writing the elements directly takes a few hundred
milliseconds. The document's structure is in docx.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from codesign.export import _labels as L
from codesign.export._model import Grid, Pairs

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
TEXT_WIDTH_TWIPS = 9638  # 17 cm: A4 less 2 cm margins
HEADER_FILL = "D9E1EA"
GROUP_FILL = "EEF2F6"
KEEP_TOGETHER_ROWS = 12
TABLE_TEXT_ID = "TableText"


def set_font(element: Any, name: str) -> None:
    """Set a style's font, removing theme fonts (which would otherwise win over the name)."""
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), name)


def add_field(paragraph: Any, code: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the reader's word processor fills in."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), ("instr", code), ("separate", None), ("text", "1"), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def _el(parent: Any, tag: str, **attrs: str) -> Any:
    """Append a w:<tag> child (lxml's makeelement, as python-docx elements are lxml elements)."""
    el = parent.makeelement(_w(tag), {_w(key): val for key, val in attrs.items()})
    parent.append(el)
    return el


# Tables are written as WordprocessingML directly: python-docx's cell API re-searches the XML on
# every call and takes seconds for a 40-outcome appendix; this takes a few hundred milliseconds.
def table(doc: Any, widths: Sequence[float]) -> tuple[Any, list[int]]:
    twips = [round(TEXT_WIDTH_TWIPS * w / sum(widths)) for w in widths]
    body = doc.element.body
    tbl = body.makeelement(_w("tbl"), {})
    pr = _el(tbl, "tblPr")
    _el(pr, "tblStyle", val="TableGrid")
    _el(pr, "tblW", w=str(sum(twips)), type="dxa")
    _el(pr, "tblLayout", type="fixed")
    margins = _el(pr, "tblCellMar")
    for side in ("left", "right"):  # about 1.2 mm, narrower than Word's 1.9 mm, so 8 pt figures fit
        _el(margins, side, w="70", type="dxa")
    _el(pr, "tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0", lastColumn="0",
        noHBand="0", noVBand="1")
    grid = _el(tbl, "tblGrid")
    for width in twips:
        _el(grid, "gridCol", w=str(width))
    body.sectPr.addprevious(tbl)
    return tbl, twips


def row(tbl: Any, header: bool = False) -> Any:
    tr = _el(tbl, "tr")
    pr = _el(tr, "trPr")
    _el(pr, "cantSplit")
    if header:  # repeat this row at the top of every page the table runs onto
        _el(pr, "tblHeader", val="true")
    return tr


def cell(tr: Any, text: str, width: int, *, span: int = 1, bold: bool = False, size: float = 9,
          right: bool = False, fill: str | None = None, keep: bool = False) -> None:
    tc = _el(tr, "tc")
    pr = _el(tc, "tcPr")
    _el(pr, "tcW", w=str(width), type="dxa")
    if span > 1:
        _el(pr, "gridSpan", val=str(span))
    if fill:
        _el(pr, "shd", val="clear", color="auto", fill=fill)
    p = _el(tc, "p")
    ppr = _el(p, "pPr")
    _el(ppr, "pStyle", val=TABLE_TEXT_ID)
    if keep:
        _el(ppr, "keepNext")
    if right:
        _el(ppr, "jc", val="right")
    run = _el(p, "r")
    if bold or size != 9:
        rpr = _el(run, "rPr")
        if bold:
            _el(rpr, "b")
        if size != 9:
            _el(rpr, "sz", val=str(round(size * 2)))
    for i, line in enumerate(L.printable(text).replace("\t", " ").split("\n")):
        if i:
            _el(run, "br")
        t = _el(run, "t")
        t.text = line
        t.set(XML_SPACE, "preserve")


def grid_table(doc: Any, grid: Grid, size: float = 9) -> None:
    tbl, twips = table(doc, grid.widths)
    keep = len(grid.rows) <= KEEP_TOGETHER_ROWS  # a short table is not split over two pages
    tr = row(tbl, header=True)
    for c, (text, width) in enumerate(zip(grid.header, twips, strict=True)):
        cell(tr, text, width, bold=True, size=size, right=c in grid.numeric, fill=HEADER_FILL, keep=keep)
    for r, values in enumerate(grid.rows, start=1):
        tr = row(tbl)
        span = grid.span(values)
        for c, text in enumerate(values):
            last = c == len(values) - 1
            cell(tr, text, sum(twips[c:]) if last else twips[c], span=span if last else 1, size=size,
                  right=c in grid.numeric and span == 1, keep=keep and r < len(grid.rows))


def pairs_table(doc: Any, pairs: Pairs, groups: list[tuple[str, Pairs]] | None = None,
           labels: tuple[str, str] = ("Item", "Detail"), size: float = 9) -> None:
    """A two-column label/value table; with `groups`, each group gets a shaded heading row."""
    tbl, twips = table(doc, (35, 65))
    tr = row(tbl, header=True)
    for text, width in zip(labels, twips, strict=True):
        cell(tr, text, width, bold=True, fill=HEADER_FILL)
    for title, items in groups if groups is not None else [("", pairs)]:
        if title:  # kept with the next row: never leave a group title at a page foot
            cell(row(tbl), title, sum(twips), span=2, bold=True, size=9.5, fill=GROUP_FILL, keep=True)
        for label, value in items:
            tr = row(tbl)
            cell(tr, label, twips[0], bold=True, size=size)
            cell(tr, value, twips[1], size=size)
