"""Panels (issue 14): a population group's study, and the people on it.

Creating a panel and adding a panellist; the rest of the panel's life (uploads, pooled rounds,
erasure) builds on these. A panellist's personal data is never written to the audit log: events
name them by number ("Panellist 12").
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from codesign.errors import NotFound, ValidationFailed
from codesign.models import Panel, Panellist, PopulationGroup, StakeholderGroup, User
from codesign.services import audit
from codesign.validation import EMAIL, check_text, normalise_text

# A transaction-scoped advisory lock per panel: two panellists added at once take numbers in turn.
_NUMBER_LOCK = text("SELECT pg_advisory_xact_lock(1618, :panel_id)")


def new_token() -> str:
    """An unguessable link token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def create_panel(db: Session, actor: User, population_group_id: int, name: str, description: str = "") -> Panel:
    group = db.get(PopulationGroup, population_group_id)
    if group is None:
        raise NotFound("No such population group")
    name, description = normalise_text(name), normalise_text(description)
    errors: dict[str, str] = {}
    check_text(errors, "name", name, label="a name for the panel", max_length=200)
    check_text(errors, "description", description, label="a description", required=False, max_length=2000)
    if not errors and db.exec(select(Panel).where(Panel.population_group_id == population_group_id,
                                                  Panel.name == name)).first():
        errors["name"] = "This population group already has a panel with that name"
    if errors:
        raise ValidationFailed(errors, {"name": name, "description": description})
    panel = Panel(population_group_id=population_group_id, name=name, description=description,
                  created_by_id=actor.id)
    try:
        with db.begin_nested():  # a panel of that name made at the same moment: refused, not a 500
            db.add(panel)
            db.flush()
    except IntegrityError:
        raise ValidationFailed({"name": "This population group already has a panel with that name"},
                               {"name": name, "description": description}) from None
    audit.record(db, actor, "panel.created", summary=f"Panel “{name}” created", object_type="panel",
                 object_id=panel.id, population_group_id=population_group_id)
    db.commit()
    return panel


def check_panellist(db: Session, panel: Panel, name: str, email: str, group_key: str,
                    organisation: str = "") -> tuple[dict[str, str], dict[str, str], StakeholderGroup | None]:
    """Validate one panellist's details: (errors by field, the cleaned values, their group)."""
    values = {"name": normalise_text(name), "email": normalise_text(email).lower(),
              "group": normalise_text(group_key)[:40], "organisation": normalise_text(organisation)}
    errors: dict[str, str] = {}
    check_text(errors, "name", values["name"], label="their name", max_length=120)
    if not values["email"]:
        errors["email"] = "Enter their email address"
    elif not EMAIL.match(values["email"]) or len(values["email"]) > 254:
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    elif db.exec(select(Panellist).where(Panellist.panel_id == panel.id,
                                         Panellist.email == values["email"])).first():
        errors["email"] = "Someone on this panel already has that email address"
    check_text(errors, "organisation", values["organisation"], label="an organisation", required=False,
               max_length=200)
    stakeholder = db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == panel.population_group_id,
        StakeholderGroup.key == values["group"])).first()
    if stakeholder is None:
        errors["group"] = "Choose which group they are part of"
    return errors, values, stakeholder


def lock_panel_people(db: Session, panel_id: int) -> None:
    """Take the panel's people lock (PostgreSQL; SQLite's writers queue anyway) until the transaction
    ends: before checking that an email is new, so two additions of one address never both pass
    the check (the second would fail on the unique key), and so numbers are taken in turn."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(_NUMBER_LOCK, {"panel_id": panel_id})


def new_panellist(db: Session, panel: Panel, values: dict[str, str], stakeholder: StakeholderGroup) -> Panellist:
    """Add a checked panellist (no commit): numbered in the order added, with fresh link tokens."""
    assert panel.id is not None and stakeholder.id is not None
    lock_panel_people(db, panel.id)  # held already when the caller checked the email (it is re-entrant)
    number = (db.exec(select(func.max(Panellist.number)).where(Panellist.panel_id == panel.id)).one() or 0) + 1
    person = Panellist(panel_id=panel.id, number=number, stakeholder_group_id=stakeholder.id,
                       name=values["name"], email=values["email"], organisation=values["organisation"] or None,
                       link_token=new_token(), unsubscribe_token=new_token())
    db.add(person)
    db.flush()
    return person


def add_panellist(db: Session, actor: User, panel_id: int, name: str, email: str, group_key: str,
                  organisation: str = "") -> Panellist:
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    lock_panel_people(db, panel_id)
    errors, values, stakeholder = check_panellist(db, panel, name, email, group_key, organisation)
    if errors or stakeholder is None:
        raise ValidationFailed(errors, values)
    person = new_panellist(db, panel, values, stakeholder)
    audit.record(db, actor, "panellist.added", summary=f"Panellist {person.number} added to “{panel.name}”",
                 object_type="panellist", object_id=person.id, population_group_id=panel.population_group_id)
    db.commit()
    return person
