"""Casting votes. Every submission carries a key made on the device: the same key twice is a
no-op (a retried request never counts twice); a new submission replaces the earlier answer
until the round closes; after close nothing changes and the participant is told why.

Rating and pairwise answers are saved one at a time. Ranking and points are edited as a draft
(each tap sends the intended end state, so a repeated tap is harmless) and counted when submitted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    Ballot,
    BallotAnswer,
    BallotSubmission,
    PairwiseAnswer,
    Participant,
    Round,
    RoundOutcome,
    RoundStatus,
    utcnow,
)
from codesign.queries.rounds import read_draft, voter_key
from codesign.validation import check_text, normalise_paragraphs
from codesign.voting import MethodOptions

KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLOSED = "This round has closed, so your answer was not changed. Thank you for taking part."
UNABLE = "unable"


@dataclass(frozen=True)
class Saved:
    """What the participant is told: saved now, or already saved by an earlier try."""

    ballot_id: int
    repeated: bool


def _context(db: Session, round_id: int, participant_id: int, key: str | None,
             methods: tuple[str, ...]) -> tuple[Round, Participant, Saved | None]:
    """The round and participant, and the earlier result if this key was already saved.

    A key already saved is answered "saved" even after the round closed: the retried answer did
    arrive in time, so telling the participant it was not changed would be wrong.
    """
    found = db.get(Round, round_id)
    participant = db.get(Participant, participant_id)
    if found is None or participant is None or participant.session_id != found.session_id:
        raise NotFound("No such round")
    if found.method not in methods:
        raise NotFound("No such question")
    if key is not None and not KEY.match(key):
        raise ValidationFailed({"key": "This page is out of date. Reload it and answer again."})
    previous = _seen(db, round_id, key) if key is not None else None
    if previous is not None:
        return found, participant, Saved(previous.ballot_id, repeated=True)
    if found.status != RoundStatus.open:
        raise Conflict(CLOSED if found.status == RoundStatus.closed else "This round has not opened yet.")
    return found, participant, None


def _outcomes(db: Session, round_id: int) -> list[int]:
    return list(db.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == round_id)
                        .order_by(RoundOutcome.position)))  # type: ignore[arg-type]


def _ballot(db: Session, found: Round, participant: Participant) -> Ballot:
    key = voter_key(found, participant)
    ballot = db.exec(select(Ballot).where(Ballot.round_id == found.id, Ballot.voter_key == key)).first()
    if ballot is None:
        assert found.id is not None
        ballot = Ballot(round_id=found.id, voter_key=key, participant_id=participant.id,
                        stakeholder_group_id=None if found.table_based else participant.stakeholder_group_id,
                        table_number=participant.table_number)
        db.add(ballot)
        db.flush()
    return ballot


def _seen(db: Session, round_id: int, client_key: str) -> BallotSubmission | None:
    return db.exec(select(BallotSubmission).where(BallotSubmission.round_id == round_id,
                                                  BallotSubmission.client_key == client_key)).first()


def _commit_once(db: Session, round_id: int, ballot: Ballot, client_key: str) -> Saved:
    assert ballot.id is not None
    ballot.updated_at = utcnow()
    db.add(ballot)
    db.add(BallotSubmission(round_id=round_id, ballot_id=ballot.id, client_key=client_key))
    db.commit()
    return Saved(ballot.id, repeated=False)


def _retrying(fn: Any) -> Any:
    """Two tabs racing on PostgreSQL can both insert the same ballot; the loser retries once and
    then sees the winner's row (or, for the same key, that it was already saved)."""

    def wrapper(db: Session, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(db, *args, **kwargs)
        except IntegrityError:
            db.rollback()
            return fn(db, *args, **kwargs)

    return wrapper


def check_rating(value: str, reason: str) -> tuple[int | None, str]:
    """A rating 1-9 or "unable" (None), and the optional reason; refuses anything else."""
    errors: dict[str, str] = {}
    score: int | None = None
    if value != UNABLE:
        score = int(value) if value.isdigit() else 0
        if not 1 <= score <= 9:
            errors["value"] = "Choose a number from 1 to 9, or “I cannot score this”"
    why = normalise_paragraphs(reason)
    check_text(errors, "reason", why, label="your reason", required=False, max_length=1000)
    if errors:
        raise ValidationFailed(errors, {"value": value, "reason": reason})
    return score, why


@_retrying
def answer_rating(db: Session, round_id: int, participant_id: int, outcome_id: int, value: str,
                  client_key: str, reason: str = "") -> Saved:
    """Save one rating, 1-9 or "unable" (to score)."""
    found, participant, previous = _context(db, round_id, participant_id, client_key, ("rating",))
    if previous is not None:
        return previous
    if outcome_id not in _outcomes(db, round_id):
        raise NotFound("That outcome is not in this round")
    score, why = check_rating(value, reason)
    ballot = _ballot(db, found, participant)
    answer = db.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id,
                                                BallotAnswer.outcome_id == outcome_id)).first()
    if answer is None:
        assert ballot.id is not None
        answer = BallotAnswer(ballot_id=ballot.id, outcome_id=outcome_id)
    answer.value = score
    answer.reason = why
    answer.updated_at = utcnow()
    db.add(answer)
    ballot.submitted_at = utcnow()
    return _commit_once(db, round_id, ballot, client_key)


@_retrying
def answer_pair(db: Session, round_id: int, participant_id: int, left_id: int, right_id: int, choice: str,
                client_key: str) -> Saved:
    """Save one pairwise answer: left, right or none (can't decide)."""
    found, participant, previous = _context(db, round_id, participant_id, client_key, ("pairwise",))
    if previous is not None:
        return previous
    listed = set(_outcomes(db, round_id))
    if left_id == right_id or left_id not in listed or right_id not in listed:
        raise NotFound("That pair is not in this round")
    if choice not in ("left", "right", "none"):
        raise ValidationFailed({"choice": "Choose one of the two, or “I can’t decide”"})
    ballot = _ballot(db, found, participant)
    # The same pair shown the other way round is the same question: its answer is replaced too.
    answer = db.exec(select(PairwiseAnswer).where(
        PairwiseAnswer.ballot_id == ballot.id,
        or_(and_(col(PairwiseAnswer.left_outcome_id) == left_id, col(PairwiseAnswer.right_outcome_id) == right_id),
            and_(col(PairwiseAnswer.left_outcome_id) == right_id,
                 col(PairwiseAnswer.right_outcome_id) == left_id)))).first()
    if answer is None:
        assert ballot.id is not None
        answer = PairwiseAnswer(ballot_id=ballot.id, left_outcome_id=left_id, right_outcome_id=right_id, choice=choice)
    answer.left_outcome_id, answer.right_outcome_id = left_id, right_id
    answer.choice = choice
    answer.updated_at = utcnow()
    db.add(answer)
    ballot.submitted_at = utcnow()
    return _commit_once(db, round_id, ballot, client_key)


def _check_draft(found: Round, draft: dict[int, int], listed: list[int]) -> dict[str, str]:
    options = MethodOptions.from_dict(json.loads(found.options_json))
    if any(o not in listed for o in draft):
        return {"ballot": "Something on this page is out of date. Reload it and try again."}
    if found.method == "ranking":
        k = options.ranking_depth(len(listed))
        positions = sorted(draft.values())
        if positions != list(range(1, len(positions) + 1)):
            return {"ballot": "Your list has a gap or a repeated place. Reload the page and try again."}
        if len(positions) > k:
            return {"ballot": f"Choose at most {k} outcomes"}
    else:
        if any(v < 0 for v in draft.values()):
            return {"ballot": "Dots cannot be negative"}
        if options.max_per_outcome is not None and any(v > options.max_per_outcome for v in draft.values()):
            return {"ballot": f"You can give at most {options.max_per_outcome} dots to one outcome"}
        if sum(draft.values()) > options.budget:
            return {"ballot": f"You have {options.budget} dots to share out; take some away first"}
    return {}


def set_draft(db: Session, round_id: int, participant_id: int, draft: dict[int, int]) -> dict[int, int]:
    """Replace the draft ranking or allocation with `draft` (the state the tapped button asked for)."""
    found, participant, _ = _context(db, round_id, participant_id, None, ("ranking", "points"))
    draft = {o: v for o, v in draft.items() if v > 0}
    errors = _check_draft(found, draft, _outcomes(db, round_id))
    if errors:
        raise ValidationFailed(errors)
    ballot = _ballot(db, found, participant)
    ballot.draft_json = json.dumps({str(k): v for k, v in sorted(draft.items())})
    db.add(ballot)
    db.commit()
    return draft


@_retrying
def submit_draft(db: Session, round_id: int, participant_id: int, client_key: str) -> Saved:
    """Count the current draft: it replaces any earlier submitted ranking or allocation."""
    found, participant, previous = _context(db, round_id, participant_id, client_key, ("ranking", "points"))
    if previous is not None:
        return previous
    ballot = _ballot(db, found, participant)
    draft = read_draft(ballot)
    errors = _check_draft(found, draft, _outcomes(db, round_id))
    if not draft:
        errors["ballot"] = ("Put at least one outcome in your list first" if found.method == "ranking"
                            else "Give at least one dot first")
    if errors:
        raise ValidationFailed(errors)
    existing = {a.outcome_id: a for a in db.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id))}
    for outcome_id, answer in existing.items():
        if outcome_id not in draft:
            db.delete(answer)
    for outcome_id, value in draft.items():
        assert ballot.id is not None
        answer = existing.get(outcome_id) or BallotAnswer(ballot_id=ballot.id, outcome_id=outcome_id)
        answer.value = value
        answer.updated_at = utcnow()
        db.add(answer)
    ballot.submitted_at = utcnow()
    if found.table_based:
        ballot.participant_id = participant.id  # the last person at the table to submit
    return _commit_once(db, round_id, ballot, client_key)
