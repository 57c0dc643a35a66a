"""Paging and searching a long list of people (a national panel, a session with thousands of
imported voters): a page of PER_PAGE rows found by a search, each page as quick to read and to send
as a small list's. Shared by the panel page and the session's people page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_

__all__ = ["PER_PAGE", "Page", "like_pattern", "number_in", "search_where", "window"]

PER_PAGE = 50  # rows a page: 20,000 people are 400 pages, each as quick as a small list's
MAX_SEARCH = 100  # characters of a search kept (a longer one finds nobody anyway)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, found by `search` (empty: everyone)."""

    rows: list[T]
    search: str
    page: int  # clamped to 1..pages
    pages: int
    found: int  # rows matching the search (everyone when there is none)
    total: int  # everyone in the list

    @property
    def first(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def window(found: int, page: int) -> tuple[int, int, int]:
    """(page, pages, offset) for `found` rows: a page past the end is the last, one before the
    first is the first, so an old link or a typed number is never an error."""
    pages = max(1, -(-found // PER_PAGE))
    page = min(max(page, 1), pages)
    return page, pages, (page - 1) * PER_PAGE


def like_pattern(term: str) -> str:
    """A LIKE pattern (escape character backslash) for rows containing `term` literally: a % or _
    typed in a search is that character, not a wildcard."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def number_in(term: str, *prefixes: str) -> int | None:
    """The number a search asks for ("12", "Participant 12", "#12"), if it is one. Only ASCII
    digits: "²" is a digit that int() refuses, and ten digits are more than any list holds."""
    term = term.strip().lower()
    for prefix in (*prefixes, "#"):
        term = term.removeprefix(prefix).strip()
    return int(term) if term.isascii() and term.isdigit() and len(term) < 10 else None


def search_where(search: str, number: Any, texts: Sequence[Any], prefix: str) -> Any | None:
    """What a search asks of a list's rows, or None without one: a number (also "<prefix> 12",
    "#12") finds that number, and any text is looked for in `texts`, whatever its case."""
    term = search.strip().lower()
    if not term:
        return None
    like = like_pattern(term)
    text_match = or_(*(func.lower(column).like(like, escape="\\") for column in texts))
    wanted = number_in(term, prefix)
    return or_(number == wanted, text_match) if wanted is not None else text_match
