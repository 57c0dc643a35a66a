"""An online study for the tests: a panel, its panellists, an online session and a rating round;
and a real local SMTP server (aiosmtpd) whose received messages the tests read."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlmodel import Session

from codesign.models import Panel, Panellist, Round, User, WorkshopSession
from codesign.services import panels
from tests.round_helpers import accepted_ids, open_round

PEOPLE = [("Asha Patel", "asha@example.com", "patient"), ("Ben Jones", "ben@example.com", "patient"),
          ("Cara Lee", "cara@example.com", "carer")]


@dataclass
class Study:
    session: WorkshopSession
    panel: Panel
    people: list[Panellist]
    round: Round


def make_study(db: Session, actor: User, workshop: WorkshopSession, *, outcomes: int = 4,
               open_it: bool = True) -> Study:
    panel = panels.create_panel(db, actor, workshop.population_group_id, "Living well with diabetes")
    assert panel.id is not None
    people = [panels.add_panellist(db, actor, panel.id, *p) for p in PEOPLE]
    workshop.mode, workshop.panel_id = "online", panel.id
    db.add(workshop)
    db.commit()
    if open_it:
        found = open_round(db, actor, workshop, accepted_ids(db, workshop, outcomes), min_group_size="1")
    else:
        from codesign.services import rounds
        from tests.round_helpers import round_form

        found = rounds.create_round(db, actor, workshop.id or 0, round_form(accepted_ids(db, workshop, outcomes),
                                                                             min_group_size="1"))
    for p in people:
        db.refresh(p)
    db.refresh(workshop)
    return Study(workshop, panel, people, found)


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def text(self, message: EmailMessage) -> str:
        part = message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """A real SMTP server on a local port; `stop()` takes it down (an outage), `start()` brings it back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
