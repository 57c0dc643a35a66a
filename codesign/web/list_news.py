"""What a tap on a ranking or points list did, in words, for the page's status region ("Moved X to
position 3", "2 dots on X, 4 left"). Worked out from the list as it is after the tap, so it says
what the person now sees, also when another tablet of their table changed the list meanwhile."""

from __future__ import annotations

from typing import Protocol

# What the tapped button did (the `did` query parameter of its form action).
ACTIONS = ("add", "up", "down", "remove", "more", "fewer")


class _Outcome(Protocol):
    id: int | None
    statement: str


def list_news(method: str, did: str, outcome_id: int, outcomes: list[_Outcome], draft: dict[int, int],
              dots_left: int) -> str:
    """The sentence for one tap, or "" when the outcome is not in this round (nothing to say)."""
    statement = next((o.statement for o in outcomes if o.id == outcome_id), None)
    if statement is None or did not in ACTIONS:
        return ""
    if method == "points":
        dots = draft.get(outcome_id, 0)
        return f"{_dots(dots)} on {statement}, {dots_left} left"
    position = draft.get(outcome_id)
    if position is None:
        return f"Removed {statement} from your list"
    if did == "add":
        return f"Added {statement} to your list at position {position}"
    return f"Moved {statement} to position {position}"


def _dots(n: int) -> str:
    return f"{n} dot" if n == 1 else f"{n} dots"
