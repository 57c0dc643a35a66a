"""QR codes of join links (segno), as inline SVG with a text alternative."""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup, escape
from starlette.requests import Request


def join_url(request: Request, code: str) -> str:
    """The URL a participant types or scans. CODESIGN_PUBLIC_URL wins over the request's host."""
    base = request.app.state.settings.public_url
    path = request.app.url_path_for("join_code", code=code)
    return f"{base}{path}" if base else str(request.base_url).rstrip("/") + str(path)


@lru_cache(maxsize=128)
def qr_svg(url: str) -> Markup:
    """Scalable (viewBox, no fixed size: CSS sets the width), announced as an image with its URL."""
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(border=2, dark="#212b32", light="#ffffff", omitsize=True,
                        svgclass="app-qr", lineclass=None)
    label = escape(f"QR code that opens {url}")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))  # noqa: S704


def join_context(request: Request, code: str) -> dict[str, object]:
    """What a page needs to show how to join: the URL, its QR code and the code spaced for reading."""
    url = join_url(request, code)
    half = len(code) // 2
    return {"join_url": url, "qr": qr_svg(url), "code_display": f"{code[:half]} {code[half:]}"}
