"""Appendix A as PDF: templates/export/appendix.html rendered by Jinja2, laid out by WeasyPrint.

The content is the DOCX's (`_content.build`). The page footer ("Appendix A · version N ·
SHA-256 <hash>" and "Page X of Y") comes from CSS @page margin boxes. Nothing is fetched from the
network: the URL fetcher only allows file: URLs, and the template refers to none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, BinaryIO

import jinja2
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from codesign import paths
from codesign.export import _labels as L
from codesign.export._content import NOTES, build

TEMPLATE = "export/appendix.html"
KEEP_TOGETHER_ROWS = 12
# The footer goes into a CSS string in the template; allow only what it is made of.
_SAFE_FOOTER = re.compile(r"Appendix A · version \d+ · SHA-256 [0-9a-f]{64}")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(paths.TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def local_only_fetcher() -> URLFetcher:
    """A WeasyPrint URL fetcher that refuses every scheme but file: (no network, ever)."""
    return URLFetcher(allowed_protocols=("file",), allow_redirects=False, timeout=1)


def render_html(snapshot: Mapping[str, Any], sha256: str) -> str:
    """The print HTML for the appendix (also handy to look at in a browser)."""
    L.check_sha256(snapshot, sha256)
    appendix = build(snapshot, sha256)
    if not _SAFE_FOOTER.fullmatch(appendix.footer):
        raise ValueError("unexpected footer text")
    return _environment().get_template(TEMPLATE).render(a=appendix, notes=NOTES, keep_rows=KEEP_TOGETHER_ROWS)


def write_pdf(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO) -> None:
    """Write Appendix A for `snapshot` (whose hash is `sha256`) to `stream` as PDF."""
    html = render_html(snapshot, sha256)
    document = HTML(string=html, base_url=paths.TEMPLATES.as_uri() + "/", url_fetcher=local_only_fetcher())
    document.write_pdf(stream, pdf_identifier=sha256[:32].encode("ascii"))
