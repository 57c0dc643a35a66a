"""The facilitator fixes the mistakes a room makes: someone's group or table, someone who should
not be in the session, and a person who joined twice on a handed-round tablet.

Ballots belong to the participant: when someone's group changes, or two participants become one,
their ballots in open rounds move with them, so an open round's count reflects the change. Closed
rounds never change: their results were counted and stored at close, and ``codesign verify``
recounts them from the ballots as they were then. Table rounds' ballots belong to the table.

Every change here first takes each of the session's rounds' locks exclusively, in id order (as
closing does; see ``ballot_sql``), and only then reads which rounds are open: a vote in flight
finishes first, and a close waits for the change or comes before it, never halfway through.
Nobody is deleted: a removed or merged participant is marked, and their device stops working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import Participant, Round, RoundStatus, StakeholderGroup, User, WorkshopSession, utcnow
from codesign.queries.basic import list_stakeholder_groups
from codesign.queries.paging import number_in
from codesign.queries.progress import participant_label
from codesign.services import audit
from codesign.services import ballot_sql as sql
from codesign.services.sessions import MAX_TABLE_NUMBER
from codesign.validation import check_int, check_text, normalise_paragraphs, normalise_text, parse_id

__all__ = ["ANSWERS", "Merged", "edit_person", "merge_people", "remove_person"]

ANSWERS = {"keep": "keep their answers", "discard": "discard their answers from rounds still open"}


@dataclass(frozen=True)
class Locked:
    session: WorkshopSession
    groups: list[StakeholderGroup]
    open_rounds: list[Round]  # open rounds voted by people (not by tables): their ballots may change
    people: dict[int, Participant]


def _lock(db: Session, session_id: int, participant_ids: list[int]) -> Locked:
    """Lock every round of the session against votes and closes, then read the rounds and lock the
    participants (PostgreSQL row locks; SQLite's writers queue anyway)."""
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    round_ids = list(db.exec(select(Round.id).where(Round.session_id == session_id).order_by(col(Round.id))))
    for round_id in round_ids:
        if round_id is not None:
            sql.lock_round_exclusively(db, round_id)
    rounds = db.exec(select(Round).where(Round.session_id == session_id).order_by(col(Round.id))
                     .execution_options(populate_existing=True)).all()
    people = db.exec(select(Participant).where(col(Participant.id).in_(sorted(set(participant_ids))))
                     .order_by(col(Participant.id)).with_for_update()
                     .execution_options(populate_existing=True)).all()
    return Locked(session, list_stakeholder_groups(db, session.population_group_id),
                  [r for r in rounds if r.status == RoundStatus.open and not r.table_based],
                  {p.id: p for p in people if p.id is not None and p.session_id == session_id})


def _person(locked: Locked, participant_id: int) -> Participant:
    """Someone of this session who is still in the room and joined on a device (not imported)."""
    person = locked.people.get(participant_id)
    if person is None:
        raise NotFound("No such person in this session")
    if person.removed_at is not None:
        raise Conflict(f"{participant_label(person)} has been removed from this session.")
    if person.merged_into_id is not None:
        raise Conflict(f"{participant_label(person)} has been merged into someone else.")
    if person.external_ref is not None:
        raise Conflict(f"{participant_label(person)} was imported from a ballot file, not joined in the room.")
    return person


def _log(db: Session, actor: User, locked: Locked, person: Participant, action: str, summary: str,
         **details: Any) -> None:
    audit.record(db, actor, action, summary=summary, object_type="participant", object_id=person.id,
                 population_group_id=locked.session.population_group_id, session_id=locked.session.id,
                 details={"participant": participant_label(person), **details})


def edit_person(db: Session, actor: User, session_id: int, participant_id: int,
                form: Mapping[str, str]) -> Participant:
    """Change someone's stakeholder group or table number. Their ballots in open rounds move to the
    new group with them; closed rounds keep the group they were counted with."""
    locked = _lock(db, session_id, [participant_id])
    person = _person(locked, participant_id)
    key = normalise_text(form.get("group", ""))[:40]
    raw_table = form.get("table_number", "")
    errors: dict[str, str] = {}
    group = next((g for g in locked.groups if g.key == key), None)
    if group is None:
        errors["group"] = "Choose the stakeholder group this person is in"
    table = check_int(errors, "table_number", raw_table, label="the table number", minimum=1,
                      maximum=MAX_TABLE_NUMBER)
    if errors or group is None or group.id is None:
        raise ValidationFailed(errors, {"group": key, "table_number": raw_table})
    names = {g.id: g.name for g in locked.groups}
    before = {"group": names.get(person.stakeholder_group_id), "table": person.table_number}
    after = {"group": group.name, "table": table}
    if before == after:
        return person
    moved = []
    if group.id != person.stakeholder_group_id:
        moved = [r.number for r in locked.open_rounds
                 if sql.regroup_ballot(db, r.id or 0, participant_id, group.id)]
    person.stakeholder_group_id, person.table_number = group.id, table
    db.add(person)
    summary = (f"{participant_label(person)}: group {before['group']} → {after['group']}, "
               f"table {before['table'] or 'none'} → {after['table'] or 'none'}")
    if moved:
        summary += "; ballots moved with them in open round " + ", ".join(map(str, moved))
    _log(db, actor, locked, person, "participant.edited", summary, before=before, after=after,
         ballots_moved_in_rounds=moved)
    db.commit()
    return person


def remove_person(db: Session, actor: User, session_id: int, participant_id: int, reason: str,
                  answers: str) -> Participant:
    """Mark someone as removed (with a reason): their device stops working and progress no longer
    counts them. Their answers are kept, or discarded from rounds still open (closed rounds keep
    what they counted); discarded answers are written into the audit event first."""
    why = normalise_paragraphs(reason)
    errors: dict[str, str] = {}
    check_text(errors, "reason", why, label="the reason for removing this person", max_length=1000)
    if answers not in ANSWERS:
        errors["answers"] = "Choose whether to keep or discard their answers"
    if errors:
        raise ValidationFailed(errors, {"reason": reason, "answers": answers})
    locked = _lock(db, session_id, [participant_id])
    person = _person(locked, participant_id)
    discarded: dict[int, object] = {}
    if answers == "discard":
        for found in locked.open_rounds:
            held = sql.discard_ballot(db, found.id or 0, participant_id)
            if held is not None:
                discarded[found.number] = held
    person.removed_at = utcnow()
    person.removed_reason = why
    db.add(person)
    summary = f"{participant_label(person)} removed; {ANSWERS[answers]}"
    if discarded:
        summary += " (discarded from round " + ", ".join(map(str, discarded)) + ")"
    _log(db, actor, locked, person, "participant.removed", f"{summary}. Reason: {why}", reason=why,
         answers=answers, discarded={str(k): v for k, v in discarded.items()})
    db.commit()
    return person


@dataclass(frozen=True)
class Merged:
    person: Participant
    duplicate: Participant
    moved: int  # the duplicate's answers now counted as the person's
    dropped: int  # the duplicate's answers to questions the person had already answered


def _numbered(db: Session, session_id: int, participant_id: int, form: Mapping[str, str]) -> int:
    """The id of the participant whose number was typed in the merge form (a room of more than
    queries.people.MERGE_CHOICES is not listed), refused with a message if nobody in the room has it.
    Read before the locks: `_person` checks again under them."""
    raw = form.get("duplicate_number", "")
    number = number_in(raw, "participant")
    if number is None:
        message = ("Enter the participant number of the one who joined twice" if not raw.strip()
                   else "Enter a participant number, like 12")
        raise ValidationFailed({"duplicate": message}, dict(form))
    found = db.exec(select(Participant).where(Participant.session_id == session_id,
                                              Participant.number == number)).first()
    if found is None or found.id is None:
        raise ValidationFailed({"duplicate": f"Nobody in this session is participant {number}"}, dict(form))
    if found.id == participant_id:
        return found.id  # refused below as themselves
    if found.external_ref is not None or not found.in_room:
        why = ("was imported from a ballot file" if found.external_ref is not None
               else "has been removed" if found.removed_at is not None else "has been merged into someone else")
        raise ValidationFailed({"duplicate": f"Participant {number} {why}: choose someone still in the room"},
                               dict(form))
    return found.id


def merge_people(db: Session, actor: User, session_id: int, participant_id: int, form: Mapping[str, str]) -> Merged:
    """The same person joined twice: participant `form["duplicate"]` (B) becomes part of
    `participant_id` (A). In open rounds B's answers move to A where A has none for that question
    (A's answer wins). B is marked merged into A. If their groups differ, `form["group"]` says which
    is right, and A (with every ballot of theirs in open rounds) is in that group from now on."""
    duplicate_id = parse_id(form.get("duplicate", ""))
    if duplicate_id is None and "duplicate_number" in form:  # a room too big to list: given by number
        duplicate_id = _numbered(db, session_id, participant_id, form)
    if duplicate_id is None:
        raise ValidationFailed({"duplicate": "Choose who joined twice"}, dict(form))
    if duplicate_id == participant_id:
        raise ValidationFailed({"duplicate": "Choose someone else: a person cannot be merged with themselves"},
                               dict(form))
    locked = _lock(db, session_id, [participant_id, duplicate_id])
    person = _person(locked, participant_id)
    if duplicate_id not in locked.people:
        raise ValidationFailed({"duplicate": "Choose someone who joined this session"}, dict(form))
    duplicate = _person(locked, duplicate_id)
    by_id = {g.id: g for g in locked.groups}
    group = by_id[person.stakeholder_group_id]
    if duplicate.stakeholder_group_id != person.stakeholder_group_id:
        chosen = normalise_text(form.get("group", ""))[:40]
        pair = (group, by_id[duplicate.stakeholder_group_id])
        right = next((g for g in pair if g.key == chosen), None)
        if right is None:
            raise ValidationFailed({"group": f"{participant_label(person)} joined as {pair[0].name} and "
                                             f"{participant_label(duplicate)} as {pair[1].name}: "
                                             "choose which group is right"}, dict(form))
        group = right
    assert group.id is not None
    moved = 0
    dropped: dict[str, list[dict[str, object]]] = {}
    for found in locked.open_rounds:
        sql.regroup_ballot(db, found.id or 0, participant_id, group.id)
        result = sql.merge_ballot(db, found.id or 0, found.method, duplicate_id, participant_id, group.id)
        if result is not None:
            moved += result.moved
            if result.dropped:
                dropped[str(found.number)] = result.dropped
    before_group = by_id[person.stakeholder_group_id].name
    person.stakeholder_group_id = group.id
    if person.table_number is None:
        person.table_number = duplicate.table_number
    duplicate.merged_into_id = participant_id
    db.add(person)
    db.add(duplicate)
    count = sum(len(v) for v in dropped.values())
    summary = (f"{participant_label(duplicate)} merged into {participant_label(person)} (the same person): "
               f"{moved} of their answers moved, {count} dropped where {participant_label(person)} had "
               "already answered")
    if before_group != group.name:
        summary += f"; group {before_group} → {group.name}"
    _log(db, actor, locked, person, "participant.merged", summary, duplicate_id=duplicate_id,
         duplicate=participant_label(duplicate), group={"before": before_group, "after": group.name},
         moved=moved, dropped=dropped)
    db.commit()
    return Merged(person, duplicate, moved, count)
