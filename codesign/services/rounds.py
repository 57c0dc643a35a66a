"""Voting rounds: create (method, options, consensus rule), open (locks all three), close,
reveal, reset (reason required; the ballots go into the audit record).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.export.canonical import canonical_json
from codesign.models import (
    Ballot,
    BallotAnswer,
    BallotSubmission,
    LiveView,
    Outcome,
    OutcomeStatus,
    PairwiseAnswer,
    Round,
    RoundOutcome,
    RoundStatus,
    SessionMode,
    SessionStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.queries.progress import count_unsent, groups_under
from codesign.queries.rounds import count_round, stored_document
from codesign.services import audit, room
from codesign.services.ballot_sql import lock_round_exclusively

# The form's parsing lives in round_form (pure); its names are re-exported here, where callers look.
from codesign.services.round_form import COMBINES as COMBINES
from codesign.services.round_form import METHODS as METHODS
from codesign.services.round_form import NEW_ROUND_MIN_GROUP_SIZE as NEW_ROUND_MIN_GROUP_SIZE
from codesign.services.round_form import ORDER_CHOICES as ORDER_CHOICES
from codesign.services.round_form import arrange as arrange
from codesign.services.round_form import move_outcome as move_outcome
from codesign.services.round_form import parse_round_form as parse_round_form
from codesign.services.round_window import Window, window_errors
from codesign.validation import check_int, check_text, normalise_paragraphs, parse_id
from codesign.voting import ConsensusRule
from codesign.voting.order import RANDOM, Presentation, split_options


def _round(db: Session, session_id: int, round_id: int) -> Round:
    found = db.get(Round, round_id)
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    return found


def checked_round_form(db: Session, session: WorkshopSession, form: Mapping[str, str]) -> tuple[dict[str, Any],
                                                                                             Round | None]:
    """The round form's settings and its feedback round, or ValidationFailed (creating and editing)."""
    accepted = {o.id for o in db.exec(select(Outcome).where(
        Outcome.population_group_id == session.population_group_id, Outcome.status == OutcomeStatus.accepted))}
    feedback_id = parse_id(form.get("feedback_round_id", ""))
    feedback = db.get(Round, feedback_id) if feedback_id else None
    settings, errors = parse_round_form(form, {i for i in accepted if i is not None})
    # An online session's round may have a window (services.round_window); both blank: none.
    settings["window"] = window_errors(errors, form.get("opens_at", ""), form.get("closes_at", ""), now=utcnow(),
                                       required=False) if session.mode == SessionMode.online else Window(None, None)
    if feedback_id and (feedback is None or feedback.session_id != session.id or feedback.status != RoundStatus.closed):
        errors["feedback_round_id"] = "Feedback can only come from a closed round of this session"
    if feedback is not None and settings["method"] != feedback.method:
        errors["feedback_round_id"] = "A feedback round must use the same method as the round it follows"
    if errors:
        raise ValidationFailed(errors, dict(form))
    return settings, feedback


def next_round_number(db: Session, session_id: int) -> int:
    """The session's next round number. Two rounds made at once (a double click, a copy from
    another session) take their numbers one after the other: a transaction-scoped advisory lock
    per session on PostgreSQL (SQLite's writers queue anyway), rather than a unique-key failure."""
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(text("SELECT pg_advisory_xact_lock(1619, :sid)"), {"sid": session_id})
    return int(db.exec(select(func.coalesce(func.max(Round.number), 0)).where(
        Round.session_id == session_id)).one()) + 1


def create_round(db: Session, actor: User, session_id: int, form: Mapping[str, str]) -> Round:
    """A draft round over chosen accepted outcomes. Nothing is locked until it opens."""
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    settings, feedback = checked_round_form(db, session, form)
    number = next_round_number(db, session_id)
    created = Round(
        session_id=session_id, number=number, title=settings["title"], method=settings["method"],
        combine=settings["combine"],
        # The seed is drawn when the round opens: a draft can still change.
        options_json=json.dumps({**settings["options"].to_dict(), **Presentation(settings["order"]).to_dict()}),
        rule_json=json.dumps(settings["rule"].to_dict()), table_based=settings["table_based"],
        feedback_round_id=feedback.id if feedback else None, created_by_id=actor.id,
        opens_at=settings["window"].opens_at, closes_at=settings["window"].closes_at,
    )
    db.add(created)
    db.flush()
    assert created.id is not None
    for position, outcome_id in enumerate(settings["outcome_ids"]):
        db.add(RoundOutcome(round_id=created.id, outcome_id=outcome_id, position=position))
    audit.record(
        db, actor, "round.created",
        summary=f"Round {number} “{created.title}” created: {METHODS[created.method]}, "
        f"{len(settings['outcome_ids'])} outcomes",
        object_type="round", object_id=created.id, population_group_id=session.population_group_id,
        session_id=session_id,
        details={"method": created.method, "options": json.loads(created.options_json),
                 "rule": json.loads(created.rule_json), "outcomes": settings["outcome_ids"],
                 "combine": created.combine, "feedback_round_id": created.feedback_round_id},
    )
    db.commit()
    return created


def _log(db: Session, actor: User | None, found: Round, action: str, summary: str, **details: Any) -> None:
    session = db.get(WorkshopSession, found.session_id)
    assert session is not None
    audit.record(db, actor, action, summary=summary, object_type="round", object_id=found.id,
                 population_group_id=session.population_group_id, session_id=found.session_id, details=details)


def _draw_order_seed(db: Session, found: Round) -> tuple[dict[str, Any], str | None]:
    """The options with a random-order round's seed drawn (now, as it opens), and the round whose
    seed it reused, if any. A Delphi round 2 reuses its earlier round's seed, so each person meets
    the outcomes in the same order as before (voting.order keeps the relative order of a subset)."""
    method_options, shown = split_options(json.loads(found.options_json))
    if not shown.random or shown.seed is not None:
        return {**method_options, **shown.to_dict()}, None
    earlier = db.get(Round, found.feedback_round_id) if found.feedback_round_id else None
    inherited = split_options(json.loads(earlier.options_json))[1] if earlier is not None else None
    if earlier is not None and inherited is not None and inherited.random and inherited.seed is not None:
        return {**method_options, **Presentation(RANDOM, inherited.seed).to_dict()}, f"round {earlier.number}"
    # 256 bits from the OS's CSPRNG: nobody can choose or predict anyone's order before the round opens.
    return {**method_options, **Presentation(RANDOM, secrets.token_hex(32)).to_dict()}, None


def _order_summary(options: dict[str, Any], seed_from: str | None) -> str:
    if split_options(options)[1].random:
        return ("; outcomes shown in a random order for each person (seed "
                + (f"reused from {seed_from}" if seed_from else "drawn and recorded") + ")")
    return "; outcomes shown in the facilitator’s order"


class UnsentLists(Conflict):
    """Closing would leave ranking or points lists uncounted: changed on a device, never sent."""

    def __init__(self, count: int) -> None:
        self.count = count
        noun = "list has" if count == 1 else "lists have"
        super().__init__(f"{count} {noun} changes that were never sent, so they would not be counted. "
                         "Ask people to press Send, or close anyway.")


def _locked(db: Session, session_id: int, round_id: int) -> Round:
    """The round, locked against ballot writes until this transaction ends (see ballot_sql)."""
    lock_round_exclusively(db, round_id)
    found = db.exec(select(Round).where(Round.id == round_id).with_for_update()
                    .execution_options(populate_existing=True)).first()
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    return found


def open_round(db: Session, actor: User | None, session_id: int, round_id: int, *, min_group_size: str = "",
               acknowledge_small: bool = False) -> Round:
    """Open for voting. Method, options, rule and stakeholder weights are locked from now on.

    Groups with fewer people than the rule's minimum are hidden from everyone but the facilitator
    (voting.disclosure): if any such group is in the room, the facilitator must say they know
    (`acknowledge_small`), and may first set this round's minimum (`min_group_size`), which is
    recorded in the rule and the audit log."""
    peek = db.get(Round, round_id)
    if peek is not None and peek.feedback_round_id is not None:
        # The round it shows as feedback first (earlier rounds before later ones, as reopening
        # does), so a reopen of that round and this opening never both go ahead.
        lock_round_exclusively(db, peek.feedback_round_id)
    found = _locked(db, session_id, round_id)
    if found.status == RoundStatus.open:
        return found
    if found.status == RoundStatus.closed:
        raise Conflict("This round has closed. Reset it (with a reason) to run it again, or create a new round.")
    session = db.get(WorkshopSession, session_id)
    assert session is not None
    if session.status != SessionStatus.open:
        raise Conflict("This session has closed. Reopen it before opening a round.")
    earlier = (db.get(Round, found.feedback_round_id, populate_existing=True)
               if found.feedback_round_id else None)
    if earlier is not None and earlier.status != RoundStatus.closed:
        raise Conflict(f"Round {earlier.number}, whose answers this round shows as feedback, has been reopened. "
                       "Close it again before opening this round.")
    rule = ConsensusRule.from_dict(json.loads(found.rule_json))
    before = rule.min_group_size
    if min_group_size.strip():
        errors: dict[str, str] = {}
        size = check_int(errors, "min_group_size", min_group_size, label="the smallest group to show",
                         minimum=1, maximum=1000)
        if errors or size is None:
            raise ValidationFailed(errors, {"min_group_size": min_group_size})
        rule = dataclasses.replace(rule, min_group_size=size)
    small = groups_under(db, session_id, rule.min_group_size)
    if small and not acknowledge_small:
        raise ValidationFailed({"acknowledge_small": "Tick the box to say you know what will be hidden, or change "
                                                     "the smallest group to show"},
                               {"min_group_size": str(rule.min_group_size)})
    found.rule_json = json.dumps(rule.to_dict())
    groups = db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == session.population_group_id)).all()
    found.weights_json = json.dumps({g.key: g.weight for g in groups}, sort_keys=True)
    options, seed_from = _draw_order_seed(db, found)
    found.options_json = json.dumps(options)
    found.status = RoundStatus.open
    found.opened_at = utcnow()
    db.add(found)
    room.move(db, session, LiveView.voting, found.id)
    summary = (f"Round {found.number} “{found.title}” opened; method, options, consensus rule and weights locked")
    if rule.min_group_size != before:
        summary += f"; smallest group shown set to {rule.min_group_size} (was {before})"
    if small:
        summary += "; groups under it: " + ", ".join(f"{name} ({n})" for name, n in small)
    if found.method != "pairwise":
        summary += _order_summary(options, seed_from)
    _log(db, actor, found, "round.opened", summary, method=found.method, rule=rule.to_dict(),
         options=options, order_seed_from=seed_from, weights=json.loads(found.weights_json),
         min_group_size={"before": before, "after": rule.min_group_size},
         small_groups_acknowledged=[{"group": name, "joined": n} for name, n in small])
    db.commit()
    return found


def _close(db: Session, actor: User | None, found: Round, unsent: int) -> None:
    """Close a locked open round: count it once and keep the results with it."""
    now = utcnow()
    found.status = RoundStatus.closed
    found.closed_at = now
    db.add(found)
    db.flush()
    document = canonical_json(stored_document(count_round(db, found)))
    found.results_json = document.decode("utf-8")
    found.results_sha256 = hashlib.sha256(document).hexdigest()
    found.counted_at = now
    db.add(found)
    ballots = int(db.exec(select(func.count()).select_from(Ballot).where(Ballot.round_id == found.id)).one())
    summary = f"Round {found.number} “{found.title}” closed with {ballots} ballots; results counted and kept"
    if unsent:
        summary += f"; {unsent} unsent lists were not counted"
    _log(db, actor, found, "round.closed", summary, ballots=ballots, unsent_lists=unsent,
         results_sha256=found.results_sha256)


def _count_pooled(db: Session, actor: User | None, closed: Sequence[Round]) -> None:
    """A pooled round (services.pooled) is counted, once, when its last member round closes."""
    from codesign.services.pooled import count_when_complete  # it builds on this module

    count_when_complete(db, actor, [r.panel_round_id for r in closed])


def close_round(db: Session, actor: User | None, session_id: int, round_id: int, *,
                confirm_unsent: bool = False) -> Round:
    """Close, count once and store the results. Votes in flight finish first; none lands after.
    Refused while ranking or points lists are unsent, unless the facilitator confirms."""
    found = _locked(db, session_id, round_id)
    if found.status != RoundStatus.open:
        raise Conflict("Only an open round can be closed.")
    unsent = count_unsent(db, found)
    if unsent and not confirm_unsent:
        raise UnsentLists(unsent)
    _close(db, actor, found, unsent)
    _count_pooled(db, actor, [found])
    session = db.get(WorkshopSession, session_id)
    assert session is not None
    room.move(db, session, LiveView.closed, found.id)
    db.commit()
    return found


def close_session(db: Session, actor: User, session_id: int, *, confirm_unsent: bool = False) -> WorkshopSession:
    """Close the session: every open round closes first (counted and kept, as close_round), then
    no vote, list, pair, proposal or join is accepted."""
    open_ids = list(db.exec(select(Round.id).where(Round.session_id == session_id,
                                                   Round.status == RoundStatus.open).order_by(col(Round.id))))
    rounds_open = [_locked(db, session_id, rid) for rid in open_ids if rid is not None]
    session = db.exec(select(WorkshopSession).where(WorkshopSession.id == session_id).with_for_update()
                      .execution_options(populate_existing=True)).first()
    if session is None:
        raise NotFound("No such session")
    if session.status == SessionStatus.closed:
        return session
    unsent = sum(count_unsent(db, found) for found in rounds_open if found.status == RoundStatus.open)
    if unsent and not confirm_unsent:
        raise UnsentLists(unsent)
    for found in rounds_open:
        if found.status == RoundStatus.open:
            _close(db, actor, found, count_unsent(db, found))
    _count_pooled(db, actor, rounds_open)
    session.status = SessionStatus.closed
    db.add(session)
    room.move(db, session, LiveView.ended)
    closed = [f"Round {found.number}" for found in rounds_open]
    audit.record(db, actor, "session.closed",
                 summary=f"Session “{session.title}” closed" + (f"; closed {', '.join(closed)}" if closed else ""),
                 object_type="session", object_id=session.id, population_group_id=session.population_group_id,
                 session_id=session.id, details={"rounds_closed": [found.id for found in rounds_open]})
    db.commit()
    return session


def set_revealed(db: Session, actor: User, session_id: int, round_id: int, revealed: bool) -> Round:
    found = _round(db, session_id, round_id)
    if revealed and found.status != RoundStatus.closed:
        raise Conflict("Close the round before revealing its results.")
    if found.revealed != revealed:
        found.revealed = revealed
        db.add(found)
        verb = "revealed" if revealed else "hidden"
        _log(db, actor, found, f"round.{verb}", f"Results of round {found.number} “{found.title}” {verb}")
        session = db.get(WorkshopSession, session_id)
        assert session is not None
        room.move(db, session, LiveView.results if revealed else LiveView.closed, found.id)
        db.commit()
    return found


def reset_round(db: Session, actor: User, session_id: int, round_id: int, reason: str) -> Round:
    """Back to draft with no ballots. Every ballot removed is written into the audit event first."""
    found = _locked(db, session_id, round_id)
    why = normalise_paragraphs(reason)
    errors: dict[str, str] = {}
    check_text(errors, "reason", why, label="the reason for resetting the round", max_length=1000)
    if errors:
        raise ValidationFailed(errors, {"reason": reason})
    ballots = db.exec(select(Ballot).where(Ballot.round_id == round_id).order_by(col(Ballot.id))).all()
    ids = [b.id for b in ballots if b.id is not None]
    answers = db.exec(select(BallotAnswer).where(col(BallotAnswer.ballot_id).in_(ids))).all() if ids else []
    pairs = db.exec(select(PairwiseAnswer).where(col(PairwiseAnswer.ballot_id).in_(ids))).all() if ids else []
    kept = [
        {"voter": b.voter_key, "group_id": b.stakeholder_group_id, "table": b.table_number,
         "submitted_at": b.submitted_at, "source": b.source,
         "answers": [{"outcome_id": a.outcome_id, "value": a.value, "reason": a.reason}
                     for a in answers if a.ballot_id == b.id],
         "pairs": [{"left": p.left_outcome_id, "right": p.right_outcome_id, "choice": p.choice}
                   for p in pairs if p.ballot_id == b.id]}
        for b in ballots
    ]
    from codesign.services.pooled import discard_pooled  # it builds on this module

    discard_pooled(db, actor, found, "reset")
    _log(db, actor, found, "round.reset",
         f"Round {found.number} “{found.title}” reset from {found.status} with {len(ballots)} ballots. Reason: {why}",
         reason=why, previous_status=found.status, ballots=kept)
    if ids:
        db.exec(delete(BallotAnswer).where(col(BallotAnswer.ballot_id).in_(ids)))
        db.exec(delete(PairwiseAnswer).where(col(PairwiseAnswer.ballot_id).in_(ids)))
        db.exec(delete(BallotSubmission).where(col(BallotSubmission.round_id) == round_id))
        db.exec(delete(Ballot).where(col(Ballot.round_id) == round_id))
    found.status = RoundStatus.draft
    found.revealed = False
    found.opened_at = None
    found.closed_at = None
    found.results_json = found.results_sha256 = None  # the stored results go with the ballots
    found.counted_at = None
    # A draft has no seed: opening again draws a new one (the ballots it ordered are gone).
    method_options, shown = split_options(json.loads(found.options_json))
    found.options_json = json.dumps({**method_options, **Presentation(shown.order).to_dict()})
    db.add(found)
    session = db.get(WorkshopSession, session_id)
    assert session is not None
    if session.live_round_id == found.id:  # devices showing it go back to the session's page
        room.move(db, session, LiveView.proposals if session.proposals_open else LiveView.lobby)
    db.commit()
    return found


def round_outcome_ids(db: Session, round_id: int) -> Sequence[int]:
    return db.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == round_id)
                   .order_by(col(RoundOutcome.position))).all()
