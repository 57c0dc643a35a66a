"""Voting rounds: create (method, options, consensus rule), open (locks all three), close,
reveal, reset (reason required; the ballots go into the audit record).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
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
from codesign.validation import check_int, check_text, normalise_paragraphs, normalise_text, parse_id
from codesign.voting import ConsensusRule, MethodOptions

METHODS = {
    "rating": "Rating 1 to 9",
    "ranking": "Ranking: top choices in order",
    "points": "Points: share out dots",
    "pairwise": "Pairwise: which matters more?",
}
COMBINES = {"weighted": "Weighted sum of group scores", "rank_of_ranks": "Rank of ranks (James Lind Alliance)"}


def _round(db: Session, session_id: int, round_id: int) -> Round:
    found = db.get(Round, round_id)
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    return found


def _pct(errors: dict[str, str], form: Mapping[str, str], field: str, label: str, default: int) -> float:
    value = check_int(errors, field, form.get(field, str(default)), label=label, minimum=0, maximum=100)
    return (value if value is not None else default) / 100


def parse_round_form(form: Mapping[str, str], accepted_ids: set[int]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the round form into settings (method, options, rule, outcomes), or errors by field."""
    errors: dict[str, str] = {}
    title = normalise_text(form.get("title", ""))
    check_text(errors, "title", title, label="a title for the round", max_length=200)
    method = form.get("method", "")
    if method not in METHODS:
        errors["method"] = "Choose how people will vote"
    combine = form.get("combine", "weighted")
    if combine not in COMBINES:
        errors["combine"] = "Choose how group results are combined"
    top_k = check_int(errors, "top_k", form.get("top_k", ""), label="how many to rank", minimum=1, maximum=100)
    budget = check_int(errors, "budget", form.get("budget", "") or "10", label="the number of dots",
                       minimum=1, maximum=1000)
    cap = check_int(errors, "max_per_outcome", form.get("max_per_outcome", ""), label="the most dots per outcome",
                    minimum=1, maximum=1000)
    rule_values = {
        "in_min_pct_7_9": _pct(errors, form, "in_min", "the share rating 7 to 9 for IN", 70),
        "in_max_pct_1_3": _pct(errors, form, "in_max_low", "the share rating 1 to 3 allowed for IN", 15),
        "out_min_pct_1_3": _pct(errors, form, "out_min", "the share rating 1 to 3 for OUT", 70),
        "out_max_pct_7_9": _pct(errors, form, "out_max_high", "the share rating 7 to 9 allowed for OUT", 15),
    }
    min_size = check_int(errors, "min_group_size", form.get("min_group_size", "") or "5",
                         label="the smallest group size", minimum=1, maximum=1000)
    ids = sorted({i for i in (parse_id(v.strip()) for v in form.get("outcomes", "").split(",")) if i is not None}
                 & accepted_ids)
    if not ids or len(ids) < 2:
        errors["outcomes"] = "Choose at least two outcomes to vote on"
    if method == "points" and budget and cap and cap > budget:
        errors["max_per_outcome"] = "The most dots per outcome cannot be more than the dots each person has"
    table_based = form.get("table_based") == "yes"
    if table_based and method != "ranking":
        errors["table_based"] = "Table rounds use ranking: each table agrees one ranked list"
    rule: ConsensusRule | None = None
    options: MethodOptions | None = None
    if not errors:
        try:
            rule = ConsensusRule.from_dict({
                **rule_values, "min_group_size": min_size or 5,
                "important_to_one_group": True,
                "patient_veto_in": form.get("patient_veto_in") == "yes",
            })
            options = MethodOptions(top_k=top_k if method == "ranking" else None, budget=budget or 10,
                                    max_per_outcome=cap if method == "points" else None)
        except ValueError as exc:
            errors["rule"] = str(exc)
    settings = {"title": title, "method": method, "combine": combine, "rule": rule, "options": options,
                "outcome_ids": ids, "table_based": table_based}
    return settings, errors


def checked_round_form(db: Session, session: WorkshopSession, form: Mapping[str, str]) -> tuple[dict[str, Any],
                                                                                             Round | None]:
    """The round form's settings and its feedback round, or ValidationFailed (creating and editing)."""
    accepted = {o.id for o in db.exec(select(Outcome).where(
        Outcome.population_group_id == session.population_group_id, Outcome.status == OutcomeStatus.accepted))}
    feedback_id = parse_id(form.get("feedback_round_id", ""))
    feedback = db.get(Round, feedback_id) if feedback_id else None
    settings, errors = parse_round_form(form, {i for i in accepted if i is not None})
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
        combine=settings["combine"], options_json=json.dumps(settings["options"].to_dict()),
        rule_json=json.dumps(settings["rule"].to_dict()), table_based=settings["table_based"],
        feedback_round_id=feedback.id if feedback else None, created_by_id=actor.id,
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


def _log(db: Session, actor: User, found: Round, action: str, summary: str, **details: Any) -> None:
    session = db.get(WorkshopSession, found.session_id)
    assert session is not None
    audit.record(db, actor, action, summary=summary, object_type="round", object_id=found.id,
                 population_group_id=session.population_group_id, session_id=found.session_id, details=details)


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


def open_round(db: Session, actor: User, session_id: int, round_id: int, *, min_group_size: str = "",
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
    found.status = RoundStatus.open
    found.opened_at = utcnow()
    db.add(found)
    room.move(db, session, LiveView.voting, found.id)
    summary = (f"Round {found.number} “{found.title}” opened; method, options, consensus rule and weights locked")
    if rule.min_group_size != before:
        summary += f"; smallest group shown set to {rule.min_group_size} (was {before})"
    if small:
        summary += "; groups under it: " + ", ".join(f"{name} ({n})" for name, n in small)
    _log(db, actor, found, "round.opened", summary, method=found.method, rule=rule.to_dict(),
         options=json.loads(found.options_json), weights=json.loads(found.weights_json),
         min_group_size={"before": before, "after": rule.min_group_size},
         small_groups_acknowledged=[{"group": name, "joined": n} for name, n in small])
    db.commit()
    return found


def _close(db: Session, actor: User, found: Round, unsent: int) -> None:
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


def close_round(db: Session, actor: User, session_id: int, round_id: int, *, confirm_unsent: bool = False) -> Round:
    """Close, count once and store the results. Votes in flight finish first; none lands after.
    Refused while ranking or points lists are unsent, unless the facilitator confirms."""
    found = _locked(db, session_id, round_id)
    if found.status != RoundStatus.open:
        raise Conflict("Only an open round can be closed.")
    unsent = count_unsent(db, found)
    if unsent and not confirm_unsent:
        raise UnsentLists(unsent)
    _close(db, actor, found, unsent)
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
