"""Creating a panel and adding panellists (services/panels.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from codesign.errors import ValidationFailed
from codesign.models import AuditEvent, Panellist, User, WorkshopSession
from codesign.services import panels


def test_panellists_are_numbered_in_order_with_their_own_links(session: Session, facilitator: User,
                                                                 workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Diabetes study 2027")
    assert panel.id is not None
    first = panels.add_panellist(session, facilitator, panel.id, "Asha Patel", " Asha@Example.com ", "patient")
    second = panels.add_panellist(session, facilitator, panel.id, "Ben Jones", "ben@example.com", "clinician",
                                  "Riverside PCN")
    assert (first.number, second.number) == (1, 2)
    assert first.email == "asha@example.com" and second.organisation == "Riverside PCN"
    tokens = {first.link_token, first.unsubscribe_token, second.link_token, second.unsubscribe_token}
    assert len(tokens) == 4 and all(t and len(t) >= 43 for t in tokens)
    # The audit log names panellists by number, never by name or email.
    summaries = " ".join(e.summary + e.details for e in session.exec(select(AuditEvent)))
    assert "Panellist 1" in summaries and "asha" not in summaries.lower() and "Ben" not in summaries


def test_a_bad_panellist_is_refused_whole(session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Study")
    assert panel.id is not None
    panels.add_panellist(session, facilitator, panel.id, "Asha Patel", "asha@example.com", "patient")
    with pytest.raises(ValidationFailed) as refused:
        panels.add_panellist(session, facilitator, panel.id, "", "ASHA@example.com", "martian")
    assert set(refused.value.errors) == {"name", "email", "group"}
    assert "already" in refused.value.errors["email"]
    assert len(session.exec(select(Panellist)).all()) == 1
