"""An online round's window (pure): the opening and closing date and time typed in UK time, as UTC.

Used by the round form (services.rounds, for a session in online mode) and the online round page
(services.online). Answers are refused outside it (services.ballot_sql) and the worker opens and
closes the round at its ends (services.online.run_schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codesign.errors import ValidationFailed
from codesign.uk_time import as_utc, parse_uk


@dataclass(frozen=True)
class Window:
    opens_at: datetime | None
    closes_at: datetime | None


def window_errors(errors: dict[str, str], opens_text: str, closes_text: str, *, now: datetime,
                  already_open: bool = False, current: Window | None = None, required: bool = True) -> Window:
    """The two form fields (UK time) as a UTC window; problems go into `errors` by field. Not
    `required` (the round form): both blank means no window (the facilitator opens and closes)."""
    values = {"opens_at": opens_text.strip()[:40], "closes_at": closes_text.strip()[:40]}
    if not required and not values["opens_at"] and not values["closes_at"]:
        return Window(None, None)
    current = current or Window(None, None)
    opens = current.opens_at if already_open else None
    if not already_open and values["opens_at"]:
        opens = parse_uk(values["opens_at"])
        if opens is None:
            errors["opens_at"] = ("Enter the opening date and time as a real UK date and time, "
                                  "like 4 March 2027 9:00am")
    closes = None
    if not values["closes_at"]:
        errors["closes_at"] = "Enter the date and time the round closes"
    else:
        closes = parse_uk(values["closes_at"])
        if closes is None:
            errors["closes_at"] = ("Enter the closing date and time as a real UK date and time, "
                                   "like 11 March 2027 5:00pm")
        elif closes <= now:
            errors["closes_at"] = "The closing time must be in the future"
        elif opens is not None and closes <= as_utc(opens):
            errors["closes_at"] = "The round must close after it opens"
    return Window(opens, closes)


def check_window(opens_text: str, closes_text: str, *, now: datetime, already_open: bool,
                 current: Window) -> Window:
    """The online round page's form: the window, or ValidationFailed naming the field."""
    errors: dict[str, str] = {}
    window = window_errors(errors, opens_text, closes_text, now=now, already_open=already_open, current=current)
    if errors:
        raise ValidationFailed(errors, {"opens_at": opens_text.strip()[:40], "closes_at": closes_text.strip()[:40]})
    return window
