"""Printable join cards: one A4 page of eight cards, each with the join code, the URL and the QR
code, for tables where typing is hard. Rendered with WeasyPrint from templates/sessions/cards.html."""

from __future__ import annotations

from typing import BinaryIO

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from codesign import paths

CARDS_PER_PAGE = 8


def _refuse_remote(url: str) -> dict[str, object]:
    raise ValueError(f"join cards never fetch anything ({url})")


def write_join_cards(title: str, code_display: str, join_url: str, join_page: str, qr_svg: Markup,
                     stream: BinaryIO) -> None:
    from weasyprint import HTML

    env = Environment(loader=FileSystemLoader(paths.TEMPLATES), autoescape=select_autoescape(default=True))
    html = env.get_template("sessions/cards.html").render(
        title=title, code_display=code_display, join_url=join_url, join_page=join_page, qr=qr_svg,
        cards=range(CARDS_PER_PAGE))
    HTML(string=html, url_fetcher=_refuse_remote).write_pdf(stream)
