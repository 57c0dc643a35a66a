"""How a voting round is named, on every page and in every export: "Round 2: with feedback".

Facilitators often title a round "Round 2: with feedback" themselves, and pages put the number in
front, which printed "Round 2: Round 2: with feedback". The title's own "Round 2" (any case, with or
without a colon or dash after it) is dropped when it repeats the round's number; a title that names
another number ("Round 1 again" for round 2) is left as it is. Pure: templates and exports share it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SEPARATORS = " \t:.,;-\u2013\u2014"


def round_title(number: int, title: str | None) -> str:
    """The title without a leading "Round <number>" of its own; "" if nothing else is left."""
    text = (title or "").strip()
    match = re.match(rf"round\s*0*{int(number)}(?![0-9])", text, flags=re.IGNORECASE)
    return text[match.end():].lstrip(_SEPARATORS) if match else text


def round_label(found: Any) -> str:
    """ "Round <number>: <title>" for a round (a model, or a mapping with number and title)."""
    if isinstance(found, Mapping):
        number, title = found.get("number"), found.get("title")
    else:
        number, title = getattr(found, "number", None), getattr(found, "title", None)
    if number is None:
        return (title or "").strip()
    rest = round_title(int(number), title)
    return f"Round {number}: {rest}" if rest else f"Round {number}"
