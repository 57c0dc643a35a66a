"""UK local time for people, UTC for the database (pure).

Online round windows are typed and shown in UK time (GMT or BST, whichever applies on that day) and
stored in UTC. A time the clocks skip (01:30 on the last Sunday of March) is refused rather than
guessed; a time that happens twice (01:30 on the last Sunday of October) means the first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
FORM_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def as_utc(moment: datetime) -> datetime:
    """A stored datetime as aware UTC (SQLite hands them back naive, in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_uk(text: str) -> datetime | None:
    """`2027-03-04T17:00` in UK time, as aware UTC; None if it is not a real UK time."""
    try:
        naive = datetime.strptime(text.strip(), FORM_FORMAT)
    except ValueError:
        return None
    local = naive.replace(tzinfo=UK)
    utc = local.astimezone(UTC)
    if utc.astimezone(UK).replace(tzinfo=None) != naive:  # skipped when the clocks went forward
        return None
    return utc


def form_value(moment: datetime | None) -> str:
    """A stored time as the form field shows it (UK time)."""
    return "" if moment is None else as_utc(moment).astimezone(UK).strftime(FORM_FORMAT)


def uk_datetime(moment: datetime | None) -> str:
    """'5:00pm on Thursday 4 March 2027' (UK time), the way the pages and messages say it."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(UK)
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"
    return f"{clock} on {local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"


def uk_clock(moment: datetime | None) -> str:
    """'00:35' (UK time, 24-hour): a time today or thereabouts, such as a message's next try."""
    return "" if moment is None else as_utc(moment).astimezone(UK).strftime("%H:%M")


def uk_date(moment: datetime | None) -> str:
    """'Thursday 4 March 2027' (the UK date)."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(UK)
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"
