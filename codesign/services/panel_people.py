"""A panel's people and sessions: the panel list upload, matching a room participant to a
panellist, erasing a panellist's personal data, revoking a personal link; attaching or creating
the panel's sessions.

The audit log names panellists and participants by number only ("Panellist 12", "participant 3 of
“Workshop one”"), never by name, email or organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    MailStatus,
    OutboxMessage,
    Panel,
    Panellist,
    Participant,
    SessionMode,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.panel_list import PanelListError, parse_panel_list
from codesign.services import audit, sessions
from codesign.services.panels import lock_panel_people, new_token
from codesign.validation import parse_id

MAX_UPLOAD = 5_000_000  # characters: 50,000 people with long names fit well within it


def _panel(db: Session, panel_id: int) -> Panel:
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    return panel


def _panellist(db: Session, panel_id: int, panellist_id: int) -> Panellist:
    person = db.exec(select(Panellist).where(Panellist.id == panellist_id).with_for_update()
                     .execution_options(populate_existing=True)).first()
    if person is None or person.panel_id != panel_id:
        raise NotFound("No such panellist on this panel")
    return person


def _log(db: Session, actor: User, panel: Panel, action: str, summary: str, *, object_type: str = "panel",
         object_id: int | None = None, **details: object) -> None:
    audit.record(db, actor, action, summary=summary, object_type=object_type,
                 object_id=object_id if object_id is not None else panel.id,
                 population_group_id=panel.population_group_id, details=dict(details))


def _emails(db: Session, panel_id: int) -> set[str]:
    return {e for e in db.exec(select(Panellist.email).where(Panellist.panel_id == panel_id)) if e}


def upload_panel_list(db: Session, actor: User, panel_id: int, text: str) -> int:
    """Add everyone in the file, numbered in file order, or nothing (PanelListError naming each
    problem's line and column). Returns how many were added.

    The file is read before the panel's people lock is taken, against the emails on the panel then,
    so a file of 20,000 rows is never parsed while the lock is held. Under the lock the emails are
    read again: only if someone added one of the file's addresses meanwhile is the file read again,
    for that problem's line and column. The people go in as a few multi-row INSERTs, numbered from
    the panel's highest number read under the same lock."""
    panel = _panel(db, panel_id)
    assert panel.id is not None
    if len(text) > MAX_UPLOAD:
        raise ValidationFailed({"file": "The file is too large: upload at most 50,000 people at a time"})
    stakeholders = list(db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == panel.population_group_id).order_by(col(StakeholderGroup.id))))
    groups = {g.key: g.name for g in stakeholders}
    by_key = {g.key: g.id for g in stakeholders}
    people = parse_panel_list(text, groups, _emails(db, panel_id))
    lock_panel_people(db, panel_id)  # before reading the emails again (see services.panels)
    taken = _emails(db, panel_id)
    if not taken.isdisjoint(p.email for p in people):
        parse_panel_list(text, groups, taken)  # raises, naming the line and column
    first = (db.exec(select(func.max(Panellist.number)).where(Panellist.panel_id == panel_id)).one() or 0) + 1
    now = utcnow()
    rows = [{"panel_id": panel.id, "number": first + i, "stakeholder_group_id": by_key[person.group_key],
             "name": person.name, "email": person.email, "organisation": person.organisation or None,
             "link_token": new_token(), "unsubscribe_token": new_token(), "created_at": now}
            for i, person in enumerate(people)]
    # An executemany on the table itself: SQLAlchemy sends it as a few multi-row INSERTs.
    db.connection().execute(insert(Panellist.__table__), rows)  # type: ignore[attr-defined]
    last = first + len(rows) - 1
    _log(db, actor, panel, "panel.list_uploaded",
         f"Panel list uploaded to “{panel.name}”: {len(rows)} panellists added "
         f"(numbers {first} to {last})", added=len(rows), numbers=[first, last])
    db.commit()
    return len(rows)


__all__ = ["PanelListError", "attach_session", "create_panel_session", "erase_panellist", "match_participant",
           "revoke_link", "upload_panel_list"]


@dataclass(frozen=True)
class Matched:
    participant: Participant
    message: str  # the confirmation, by numbers only: "Participant 2 of “Workshop one” is now panellist 12"


def match_participant(db: Session, actor: User, panel_id: int, participant_id: str, panellist_id: str, *,
                      by_number: bool = False) -> Matched:
    """Say that a room participant is this panellist (or, with an empty panellist, no one): their
    ballots then count once with the panellist's others in pooled results. Only within one
    stakeholder group: a patient's ballots counted as a clinician panellist's would move them
    between groups in every pooled result. `by_number`: `panellist_id` is the panellist's number on
    the panel (what the page asks for: a list of 20,000 names is no way to choose one)."""
    panel = _panel(db, panel_id)
    pid, plid = parse_id(participant_id.strip()), parse_id(panellist_id.strip())
    values = {"participant": participant_id, "panellist_number" if by_number else "panellist": panellist_id}
    if by_number and plid:
        plid = db.exec(select(Panellist.id).where(Panellist.panel_id == panel_id, Panellist.number == plid)).first()
    found = db.exec(select(Participant).where(Participant.id == pid).with_for_update()
                    .execution_options(populate_existing=True)).first() if pid else None
    session = db.get(WorkshopSession, found.session_id) if found else None
    if found is None or session is None or session.panel_id != panel_id:
        raise ValidationFailed({"participant": "Choose a participant from one of this panel’s sessions"}, values)
    # Locked: two participants of one session matched to one panellist at once never both pass the check.
    person = db.exec(select(Panellist).where(Panellist.id == plid).with_for_update()
                     .execution_options(populate_existing=True)).first() if plid else None
    if panellist_id.strip() and (person is None or person.panel_id != panel_id):
        raise ValidationFailed({"panellist": "Enter the number of a panellist of this panel" if by_number
                                else "Choose a panellist of this panel"}, values)
    if person is not None and person.stakeholder_group_id != found.stakeholder_group_id:
        joined_as, listed_as = (db.get(StakeholderGroup, found.stakeholder_group_id),
                                db.get(StakeholderGroup, person.stakeholder_group_id))
        raise ValidationFailed({"panellist": f"Participant {found.number} joined as "
                                             f"{joined_as.name if joined_as else 'another group'} but panellist "
                                             f"{person.number} is on the panel as "
                                             f"{listed_as.name if listed_as else 'another group'}: choose a panellist "
                                             "of the same group"}, values)
    if person is not None:
        other = db.exec(select(Participant).where(Participant.session_id == found.session_id,
                                                  Participant.panellist_id == person.id,
                                                  Participant.id != found.id)).first()
        if other is not None:
            raise ValidationFailed({"panellist": f"Panellist {person.number} is already participant "
                                                 f"{other.number} in this session"}, values)
    before = found.panellist_id
    found.panellist_id = None if person is None else person.id
    db.add(found)
    who = f"Participant {found.number} of “{session.title}”"  # numbers only: never a name or an email
    summary = (f"{who} matched to panellist {person.number}" if person is not None
               else f"{who} no longer matched to a panellist")
    _log(db, actor, panel, "panel.participant_matched", summary, object_type="participant", object_id=found.id,
         session_id=session.id, participant_number=found.number,
         panellist_number=None if person is None else person.number, previous_panellist_id=before)
    db.commit()
    return Matched(found, f"{who} is now panellist {person.number}." if person is not None
                   else f"{who} is no longer matched to a panellist.")


def erase_panellist(db: Session, actor: User, panel_id: int, panellist_id: int) -> Panellist:
    """UK GDPR erasure: blank the name, email, organisation and personal link; blank the address on
    their messages and cancel those not yet sent. Their pseudonymous participants and ballots stay,
    so the results do not change."""
    panel = _panel(db, panel_id)
    person = _panellist(db, panel_id, panellist_id)
    if person.erased_at is not None:
        raise Conflict(f"Panellist {person.number}’s personal data has already been erased.")
    now = utcnow()
    person.name = person.email = person.organisation = None
    person.link_token = None
    person.link_revoked_at = person.link_revoked_at or now
    person.erased_at = now
    db.add(person)
    cancelled = db.exec(update(OutboxMessage).where(
        col(OutboxMessage.panellist_id) == person.id,
        col(OutboxMessage.status).in_((MailStatus.pending, MailStatus.sending)))
        .values(status=MailStatus.cancelled, to_address=None)).rowcount
    db.exec(update(OutboxMessage).where(col(OutboxMessage.panellist_id) == person.id)
            .values(to_address=None))
    _log(db, actor, panel, "panellist.erased",
         f"Panellist {person.number}’s personal data erased (name, email, organisation, personal link); "
         f"{cancelled} unsent messages cancelled; their answers stay, unnamed",
         object_type="panellist", object_id=person.id, cancelled_messages=cancelled)
    db.commit()
    return person


def revoke_link(db: Session, actor: User, panel_id: int, panellist_id: int) -> Panellist:
    """End a panellist's personal link now (it stops working; their answers stay)."""
    panel = _panel(db, panel_id)
    person = _panellist(db, panel_id, panellist_id)
    if person.link_revoked_at is not None:
        raise Conflict(f"Panellist {person.number}’s personal link has already been revoked.")
    person.link_revoked_at = utcnow()
    db.add(person)
    _log(db, actor, panel, "panellist.link_revoked", f"Panellist {person.number}’s personal link revoked",
         object_type="panellist", object_id=person.id)
    db.commit()
    return person


def attach_session(db: Session, actor: User, panel_id: int, session_id: str) -> WorkshopSession:
    """Make an existing session of the same population group one of the panel's."""
    panel = _panel(db, panel_id)
    sid = parse_id(session_id.strip())
    # Locked: two panels taking the same session at once never both get it.
    found = db.exec(select(WorkshopSession).where(WorkshopSession.id == sid).with_for_update()
                    .execution_options(populate_existing=True)).first() if sid else None
    values = {"session": session_id}
    if found is None or found.population_group_id != panel.population_group_id:
        raise ValidationFailed({"session": "Choose a session of this population group"}, values)
    if found.panel_id == panel_id:
        raise ValidationFailed({"session": "That session is already part of this panel"}, values)
    if found.panel_id is not None:
        raise ValidationFailed({"session": "That session is part of another panel"}, values)
    found.panel_id = panel_id
    db.add(found)
    _log(db, actor, panel, "panel.session_added", f"Session “{found.title}” added to panel “{panel.name}”",
         session=found.id)
    db.commit()
    return found


def create_panel_session(db: Session, actor: User, panel_id: int, title: str, held_on: str, mode: str) -> \
        WorkshopSession:
    """A new session of the panel: in a room (people join with its code) or online (panellists come
    by their personal links)."""
    panel = _panel(db, panel_id)
    if mode not in (SessionMode.room, SessionMode.online):
        raise ValidationFailed({"mode": "Choose whether the session is in a room or online"},
                               {"title": title, "held_on": held_on, "mode": mode})
    # sessions.create_session checks the title and date and commits; the panel and mode follow at once.
    made = sessions.create_session(db, actor, panel.population_group_id, title, held_on)
    made.panel_id = panel_id
    made.mode = mode
    db.add(made)
    _log(db, actor, panel, "panel.session_added",
         f"Session “{made.title}” ({'online' if mode == SessionMode.online else 'in a room'}) created for panel "
         f"“{panel.name}”", session=made.id, mode=mode)
    db.commit()
    return made
