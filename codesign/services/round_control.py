"""Undoing a facilitator's mistakes with rounds: edit or delete a draft, reopen a closed round,
copy a round into another session of the same population group.

Every change takes the round's exclusive lock first (ballot_sql.lock_round_exclusively, as
opening and closing do), so it waits for the ballot writes in flight and none lands halfway
through. Reopening discards the results stored at close; they are counted again at the next close,
and the audit log keeps both SHA-256s (the discarded one in "round.reopened", the new one in the
next "round.closed"), which is what `codesign verify` checks the stored results against.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    Ballot,
    FrameworkVersion,
    LiveView,
    Outcome,
    OutcomeStatus,
    Round,
    RoundOutcome,
    RoundStatus,
    SessionStatus,
    ShortlistItem,
    User,
    WorkshopSession,
)
from codesign.services import audit, room
from codesign.services.ballot_sql import lock_round_exclusively
from codesign.services.rounds import (
    METHODS,
    _locked,
    _log,
    checked_round_form,
    next_round_number,
    round_outcome_ids,
)
from codesign.validation import check_text, normalise_paragraphs, parse_id
from codesign.voting.order import Presentation

REASON_MAX = 1000


def _settings(found: Round, outcome_ids: list[int]) -> dict[str, Any]:
    """What the audit log keeps of a round's settings (enough to make it again)."""
    return {"title": found.title, "method": found.method, "combine": found.combine,
            "options": json.loads(found.options_json), "rule": json.loads(found.rule_json),
            "table_based": found.table_based, "feedback_round_id": found.feedback_round_id,
            "outcomes": outcome_ids}


def _draft(db: Session, session_id: int, round_id: int, verb: str) -> Round:
    found = _locked(db, session_id, round_id)
    if found.status != RoundStatus.draft:
        raise Conflict(f"Round {found.number} has opened, so it can no longer be {verb}. "
                       "Reset it (with a reason) to return it to draft, or create a new round.")
    return found


def update_round(db: Session, actor: User, session_id: int, round_id: int, form: Mapping[str, str]) -> Round:
    """Change a draft round with the same form that created it (refused once it has opened)."""
    found = _draft(db, session_id, round_id, "edited")
    session = db.get(WorkshopSession, session_id)
    assert session is not None
    settings, feedback = checked_round_form(db, session, form)
    before = _settings(found, list(round_outcome_ids(db, round_id)))
    found.title = settings["title"]
    found.method = settings["method"]
    found.combine = settings["combine"]
    # The order setting goes with the options (a draft has no seed: it is drawn when the round opens).
    found.options_json = json.dumps({**settings["options"].to_dict(), **Presentation(settings["order"]).to_dict()})
    found.rule_json = json.dumps(settings["rule"].to_dict())
    found.table_based = settings["table_based"]
    found.feedback_round_id = feedback.id if feedback else None
    found.opens_at, found.closes_at = settings["window"].opens_at, settings["window"].closes_at
    db.add(found)
    db.exec(delete(RoundOutcome).where(col(RoundOutcome.round_id) == round_id))
    db.flush()  # the old list goes before the new one (round and outcome are unique together)
    for position, outcome_id in enumerate(settings["outcome_ids"]):
        db.add(RoundOutcome(round_id=round_id, outcome_id=outcome_id, position=position))
    after = _settings(found, list(settings["outcome_ids"]))
    changed = [k for k in after if after[k] != before[k]]
    _log(db, actor, found, "round.edited",
         f"Draft round {found.number} “{found.title}” edited"
         + (f": {', '.join(k.replace('_', ' ') for k in changed)} changed" if changed else " (nothing changed)"),
         before=before, after=after, changed=changed)
    db.commit()
    return found


def delete_round(db: Session, actor: User, session_id: int, round_id: int) -> int:
    """Delete a draft round (refused once opened). Its settings are kept in the audit event."""
    found = _draft(db, session_id, round_id, "deleted")
    later = db.exec(select(Round).where(Round.feedback_round_id == round_id).order_by(col(Round.number))).first()
    if later is not None:
        raise Conflict(f"Round {later.number} “{later.title}” shows this round’s answers as feedback. "
                       "Edit or delete that round first.")
    if db.exec(select(ShortlistItem.id).where(ShortlistItem.source_round_id == round_id)).first():
        raise Conflict("An outcomes framework was built from this round, so it cannot be deleted.")
    if db.exec(select(Ballot.id).where(Ballot.round_id == round_id)).first():  # a draft never has any
        raise Conflict("This round has ballots, so it cannot be deleted.")
    _log(db, actor, found, "round.deleted", f"Draft round {found.number} “{found.title}” deleted",
         **_settings(found, list(round_outcome_ids(db, round_id))))
    db.exec(delete(RoundOutcome).where(col(RoundOutcome.round_id) == round_id))
    db.delete(found)
    db.commit()
    return session_id


def reopen_round(db: Session, actor: User, session_id: int, round_id: int, reason: str) -> Round:
    """Reopen a closed round for voting again: ballots stay, the stored results are discarded and
    counted again at the next close. Refused once the session has closed, or when a later round
    showing this round's answers as feedback has opened (its voters saw these results)."""
    why = normalise_paragraphs(reason)
    errors: dict[str, str] = {}
    check_text(errors, "reason", why, label="the reason for reopening the round", max_length=REASON_MAX)
    if errors:
        raise ValidationFailed(errors, {"reason": reason})
    found = _locked(db, session_id, round_id)
    if found.status != RoundStatus.closed:
        raise Conflict("Only a closed round can be reopened." if found.status == RoundStatus.draft
                       else "This round is already open.")
    session = db.exec(select(WorkshopSession).where(WorkshopSession.id == session_id)
                      .execution_options(populate_existing=True)).one()
    if session.status != SessionStatus.open:
        raise Conflict("This session has closed, so its rounds cannot take votes again. "
                       "Reopen the session first, or copy the round into another session.")
    # Built from this round's results, or from a pooled round's results that include them.
    from_results = or_(col(ShortlistItem.source_round_id) == round_id,
                       col(ShortlistItem.source_panel_round_id) == (found.panel_round_id or -1))
    versions = sorted({int(n) for n in db.exec(select(FrameworkVersion.number).join(
        ShortlistItem, col(ShortlistItem.version_id) == col(FrameworkVersion.id)).where(from_results))})
    if versions:
        # Its stored results were taken into a shortlist (and into a snapshot when frozen).
        raise Conflict(f"Outcomes framework version{'s' if len(versions) > 1 else ''} "
                       f"{', '.join(map(str, versions))} {'were' if len(versions) > 1 else 'was'} built from this "
                       "round’s results, so it cannot take votes again. Run a new round instead.")
    later_ids = [i for i in db.exec(select(Round.id).where(Round.feedback_round_id == round_id)
                                    .order_by(col(Round.id))) if i is not None]
    for later_id in later_ids:
        # Locked in id order after this round, as opening a later round locks this one first.
        lock_round_exclusively(db, later_id)
        later = db.exec(select(Round).where(Round.id == later_id).execution_options(populate_existing=True)).one()
        if later.status != RoundStatus.draft:
            raise Conflict(f"Round {later.number} “{later.title}” shows this round’s answers as feedback and has "
                           f"already {'opened' if later.status == RoundStatus.open else 'run'}: its voters saw "
                           "these results. Reset that round first, or run a new round instead.")
    discarded = found.results_sha256
    from codesign.services.pooled import discard_pooled  # it builds on services.rounds, as this does

    discard_pooled(db, actor, found, "reopened")
    _log(db, actor, found, "round.reopened",
         f"Round {found.number} “{found.title}” reopened; its stored results were discarded and will be counted "
         f"again at the next close. Reason: {why}",
         reason=why, discarded_results_sha256=discarded, closed_at=found.closed_at, was_revealed=found.revealed)
    found.status = RoundStatus.open
    found.closed_at = None
    found.revealed = False  # there are no results to show until it closes again
    found.results_json = found.results_sha256 = None
    found.counted_at = None
    db.add(found)
    assert session is not None
    room.move(db, session, LiveView.voting, found.id)  # devices go back to the vote
    db.commit()
    return found


def duplicate_round(db: Session, actor: User, session_id: int, round_id: int, target: str) -> Round:
    """A copy of the round as a new draft in another session of the same population group: the
    same outcomes, method, options, consensus rule and way of combining groups (no feedback round:
    that belongs to this session)."""
    found = db.get(Round, round_id)
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    source = db.get(WorkshopSession, session_id)
    assert source is not None
    target_id = parse_id(target.strip()) if isinstance(target, str) else None
    into = db.get(WorkshopSession, target_id) if target_id else None
    if into is None:
        raise ValidationFailed({"target_session": "Choose the session to copy the round into"},
                               {"target_session": target})
    if into.id == session_id:
        raise ValidationFailed({"target_session": "Choose another session: this round is already in this one"},
                               {"target_session": target})
    if into.population_group_id != source.population_group_id:
        raise ValidationFailed({"target_session": "A round can only be copied into a session of the same population "
                                                  "group: its outcomes belong to this one"}, {"target_session": target})
    outcome_ids = list(round_outcome_ids(db, round_id))
    gone = db.exec(select(Outcome).where(col(Outcome.id).in_(outcome_ids),
                                         Outcome.status != OutcomeStatus.accepted).order_by(col(Outcome.id))).all()
    if gone:
        raise Conflict("These outcomes are no longer accepted, so the round cannot be copied as it is: "
                       + "; ".join(f"“{o.statement}” ({o.status})" for o in gone)
                       + ". Create the round in that session instead.")
    number = next_round_number(db, into.id or 0)
    copy = Round(session_id=into.id or 0, number=number, title=found.title, method=found.method,
                 combine=found.combine, options_json=found.options_json, rule_json=found.rule_json,
                 table_based=found.table_based, created_by_id=actor.id)
    db.add(copy)
    db.flush()
    assert copy.id is not None
    for position, outcome_id in enumerate(outcome_ids):
        db.add(RoundOutcome(round_id=copy.id, outcome_id=outcome_id, position=position))
    audit.record(
        db, actor, "round.duplicated",
        summary=f"Round {copy.number} “{copy.title}” created in “{into.title}” as a copy of round {found.number} "
        f"of “{source.title}”: {METHODS[copy.method]}, {len(outcome_ids)} outcomes",
        object_type="round", object_id=copy.id, population_group_id=into.population_group_id,
        session_id=into.id, details={"from_round_id": found.id, "from_session_id": session_id,
                                     **_settings(copy, outcome_ids)},
    )
    db.commit()
    return copy
