"""Messages to panellists, rendered from templates/mail/ (plain text and HTML from one context).

Plain English for a reading age of about 9 to 11 (a test holds the text to it). Every message
carries the person's own link and an unsubscribe link; the sender adds a List-Unsubscribe header.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from codesign import paths
from codesign.uk_time import as_utc, uk_date, uk_datetime

KINDS = ("invitation", "reminder")

_env = Environment(loader=FileSystemLoader(paths.TEMPLATES / "mail"), undefined=StrictUndefined,
                   autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_env.filters["uk_datetime"] = uk_datetime


@dataclass(frozen=True)
class MessageContext:
    kind: str  # one of KINDS
    name: str  # the panellist's name as the facilitator gave it
    study: str  # the panel's name ("Living well with diabetes")
    round_title: str
    closes_at: datetime | None
    link_url: str
    unsubscribe_url: str
    # An invitation to a round that has not opened yet says when it opens, not "open now".
    opens_at: datetime | None = None
    open_now: bool = True
    sender: str = ""  # the facilitator who sent it, named in the sign-off; "" when the worker's schedule did
    now: datetime | None = None  # when it was queued: a reminder says "closes soon" only when it does


SOON = timedelta(days=2)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


SUBJECTS = {"invitation": "Please give your views: {study}", "reminder": "A reminder: {study} closes soon"}


def render_message(context: MessageContext) -> Rendered:
    """One message (see render_messages for many of one kind)."""
    return _render(context)


# Stand-ins for what differs between the people a message goes to: made of characters that neither
# the templates' autoescaping nor anything else in them changes, so each appears as it was put in.
_PERSONAL = ("name", "link_url", "unsubscribe_url")
_MARK = "\u2063codesign-{}-1f3a9\u2063"


@dataclass(frozen=True)
class Recipient:
    name: str
    link_url: str
    unsubscribe_url: str


def render_messages(context: MessageContext, recipients: list[Recipient]) -> list[Rendered]:
    """The same message for each recipient: `context` with their name and links in its place.

    The templates are rendered once, with stand-ins for the name and links, and each person's
    values are put in their place (escaped for the HTML part as the template's autoescaping
    would): 20,000 invitations take a fraction of a second rather than 20,000 renders. The result
    is the same text as render_message's for each person (a test holds them equal)."""
    marks = {field: _MARK.format(field) for field in _PERSONAL}
    shape = _render(replace(context, name=marks["name"], link_url=marks["link_url"],
                            unsubscribe_url=marks["unsubscribe_url"]))
    text, html = _format_string(shape.text, marks), _format_string(shape.html, marks)
    out = []
    for person in recipients:
        raw = {"name": person.name, "link_url": person.link_url, "unsubscribe_url": person.unsubscribe_url}
        out.append(Rendered(subject=shape.subject, text=text.format_map(raw),
                            html=html.format_map({field: escape(value) for field, value in raw.items()})))
    return out


def _format_string(rendered: str, marks: dict[str, str]) -> str:
    """The rendered text as a str.format string: its own braces doubled, each stand-in {field}."""
    rendered = rendered.replace("{", "{{").replace("}", "}}")
    for field, mark in marks.items():
        rendered = rendered.replace(mark, "{" + field + "}")
    return rendered


def _render(context: MessageContext) -> Rendered:
    if context.kind not in KINDS:
        raise ValueError(f"no mail template for {context.kind!r}")
    values = {"m": context}
    subject = SUBJECTS[context.kind].format(study=context.study)
    if context.kind == "reminder":
        closes = as_utc(context.closes_at) if context.closes_at is not None else None
        if closes is None:
            subject = f"A reminder: {context.study}"
        elif context.now is None or closes - as_utc(context.now) > SOON:
            subject = f"A reminder: {context.study} closes on {uk_date(closes)}"
    return Rendered(subject=subject[:300],
                    text=_env.get_template(f"{context.kind}.txt").render(values),
                    html=_env.get_template(f"{context.kind}.html").render(values))
