"""A paged list's place from the query string (?page=2&q=patel), shared by the panel page and the
session's people page (queries.paging)."""

from __future__ import annotations

from starlette.requests import Request

from codesign.queries.paging import MAX_SEARCH

__all__ = ["page_number", "search_text"]


def page_number(request: Request) -> int:
    """?page=: a page that is not a number is page 1; one past the end is the last (the query
    clamps it), so a stale or mistyped link is never an error."""
    raw = request.query_params.get("page", "1").strip()
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 7 else 1


def search_text(request: Request, name: str = "q") -> str:
    return request.query_params.get(name, "")[:MAX_SEARCH]
