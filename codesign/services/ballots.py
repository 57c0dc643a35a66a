"""Casting votes. Every ballot write in codesign goes through this module: the web pages, the
demo and the tests alike (ballot imports share its lock and checks through ``ballot_sql``).

- Each answer carries a key made on the device: the same key again for the same question is a
  retry and a no-op (answered "saved", even after close: the first try arrived in time); a key
  reused for another question or by another participant is refused.
- A new answer replaces the earlier one until the round closes; after the round or the session
  closes nothing is stored and the participant is told why.
- Rating and pairwise answers are saved one at a time; rating is the hot path (every tap on 1-9,
  from dozens of tablets at once), so it is one short transaction of prepared statements.
- Ranking and points are edited as a draft (each tap sends the intended end state, so a repeated
  tap is harmless) and counted when sent. A draft carries the version it was made from: a change
  made on a stale copy (two tablets of one table) is refused with the list as it is now.
- "Finished" is recorded on the ballot: every question answered (rating), the list sent (ranking,
  points), or "I have finished" pressed (rating with questions skipped, pairwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from sqlalchemy import and_, delete, or_, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import Ballot, BallotAnswer, PairwiseAnswer, RoundOutcome, utcnow
from codesign.queries.rounds import read_draft
from codesign.queries.voting_page import draft_version
from codesign.services import ballot_sql as sql
from codesign.services.ballot_sql import CLOSED, KEY, LockedRound, Voter
from codesign.validation import check_text, normalise_paragraphs
from codesign.voting.order import parse_options, presented, split_options

__all__ = ["CLOSED", "KEY", "NotJoined", "RatingSaved", "Saved", "StaleDraft", "answer_pair", "answer_rating",
           "check_rating", "draft_version", "finish", "record_rating", "set_draft", "submit_draft"]

UNABLE = "unable"
P = ParamSpec("P")
T = TypeVar("T")

Q_OUTCOME_AT = text("SELECT outcome_id FROM round_outcome WHERE round_id = :rid AND position = :pos")
Q_IN_ROUND = text("SELECT position FROM round_outcome WHERE round_id = :rid AND outcome_id = :oid")
Q_ANSWER = text(
    "INSERT INTO ballot_answer (ballot_id, outcome_id, value, reason, updated_at) "
    "VALUES (:bid, :oid, :value, :reason, :now) ON CONFLICT (ballot_id, outcome_id) "
    "DO UPDATE SET value = excluded.value, reason = excluded.reason, updated_at = excluded.updated_at"
).bindparams(sql.NOW)
Q_LISTED = text("SELECT outcome_id FROM round_outcome WHERE round_id = :rid ORDER BY position")
Q_ANSWERED = text("SELECT outcome_id FROM ballot_answer WHERE ballot_id = :bid")
Q_NEXT = text(
    "SELECT min(position) FROM round_outcome WHERE round_id = :rid AND position >= :cur "
    "AND outcome_id NOT IN (SELECT outcome_id FROM ballot_answer WHERE ballot_id = :bid)")


class NotJoined(NotFound):
    """No participant of this session on this device: send them to join."""


class StaleDraft(Conflict):
    """The list changed on another device (or tab) since this page was shown: nothing was saved."""


@dataclass(frozen=True)
class Saved:
    """What the participant is told: saved now, or already saved by an earlier try."""

    ballot_id: int
    repeated: bool


@dataclass(frozen=True)
class RatingSaved:
    repeated: bool
    next_position: int | None  # the next unanswered question after this one; None: all done


def _retrying(fn: Callable[P, T]) -> Callable[P, T]:
    """Two tabs (or processes) racing can both insert the same ballot or key; the loser rolls back
    and tries once more, and then sees the winner's row (for the same key: already saved)."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except IntegrityError:
            db = args[0]
            assert isinstance(db, Session)
            db.rollback()
            return fn(*args, **kwargs)

    return wrapper


def check_rating(value: str, reason: str) -> tuple[int | None, str]:
    """A rating 1-9 or "unable" (None), and the optional reason; refuses anything else."""
    errors: dict[str, str] = {}
    score: int | None = None
    if value != UNABLE:
        # ASCII digits only: "²".isdigit() is True but int("²") fails.
        score = int(value) if len(value) == 1 and value.isascii() and value.isdecimal() else 0
        if not 1 <= score <= 9:
            errors["value"] = "Choose a number from 1 to 9, or “I cannot score this”"
    why = normalise_paragraphs(reason)
    check_text(errors, "reason", why, label="your reason", required=False, max_length=1000)
    if errors:
        raise ValidationFailed(errors, {"value": value, "reason": reason})
    return score, why


def _rate(db: Session, found: LockedRound, person: Voter, outcome_id: int, score: int | None, why: str,
          key: str) -> tuple[int, bool]:
    """Save one rating (in the caller's transaction): (ballot id, whether it was a retry)."""
    question = f"o:{outcome_id}"
    seen = sql.already_saved(db, found.id, key, person, question)
    if seen is not None:
        return seen, True
    sql.refuse_unless_open(found)
    ballot_id = sql.answered_ballot(db, found, person)
    db.connection().execute(Q_ANSWER, {"bid": ballot_id, "oid": outcome_id, "value": score, "reason": why,
                                       "now": utcnow()})
    sql.record_key(db, found.id, ballot_id, key, person, question)
    sql.finish_if_complete(db, found.id, ballot_id)
    return ballot_id, False


@_retrying
def answer_rating(db: Session, round_id: int, participant_id: int, outcome_id: int, value: str,
                  client_key: str, reason: str = "") -> Saved:
    """Save one rating, 1-9 or "unable" (to score), of outcome `outcome_id`."""
    sql.check_key(client_key)
    score, why = check_rating(value, reason)
    person = sql.voter(db, participant_id)
    found = sql.round_for(db, round_id, person, ("rating",))
    assert person is not None
    if db.connection().execute(Q_IN_ROUND, {"rid": round_id, "oid": outcome_id}).first() is None:
        raise NotFound("That outcome is not in this round")
    ballot_id, repeated = _rate(db, found, person, outcome_id, score, why, client_key)
    db.commit()
    return Saved(ballot_id, repeated)


def _next_position(db: Session, round_id: int, ballot_id: int, current: int) -> int | None:
    """The first unanswered question after question `current` (both 1-based; None: none left).
    Stored positions count from 0, so question `current` is position current - 1."""
    position = db.connection().execute(Q_NEXT, {"rid": round_id, "cur": current, "bid": ballot_id}).scalar()
    return None if position is None else int(position) + 1


def _person_order(db: Session, found: LockedRound, person: Voter) -> list[int] | None:
    """The outcomes in this person's own random order, or None when the round shows everyone
    the facilitator's order (then a question's place is its stored position, read in SQL)."""
    presentation = split_options(json.loads(found.options_json))[1]
    if not presentation.random or presentation.seed is None:
        return None
    listed = [int(i) for i in db.connection().execute(Q_LISTED, {"rid": found.id}).scalars()]
    return presented(listed, presentation, sql.voter_key(found, person))


def _next_in_order(db: Session, ballot_id: int, order: list[int], current: int) -> int | None:
    """As _next_position, in the person's own order."""
    answered = {int(i) for i in db.connection().execute(Q_ANSWERED, {"bid": ballot_id}).scalars()}
    return next((place for place, outcome_id in enumerate(order, start=1)
                 if place > current and outcome_id not in answered), None)


@_retrying
def record_rating(db: Session, join_code: str, tokens: Sequence[str], round_id: int, position: int, value: str,
                  client_key: str, reason: str = "") -> RatingSaved:
    """The web's rating tap: the participant is the one this device holds for the session, and the
    question is given by its place in the round (1-based). Also works out where to go next."""
    sql.check_key(client_key)
    score, why = check_rating(value, reason)
    person = sql.voter_by_token(db, tokens, join_code)
    if person is None:
        raise NotJoined("Join the session on this device first.")
    found = sql.round_for(db, round_id, person, ("rating",))
    order = _person_order(db, found, person)
    if order is None:
        outcome_id = db.connection().execute(Q_OUTCOME_AT, {"rid": round_id, "pos": position - 1}).scalar()
    else:  # question n is the n-th outcome of this person's order, as the page showed it
        outcome_id = order[position - 1] if 1 <= position <= len(order) else None
    if outcome_id is None:
        raise NotFound("No such question")
    ballot_id, repeated = _rate(db, found, person, int(outcome_id), score, why, client_key)
    following = (_next_position(db, round_id, ballot_id, position) if order is None
                 else _next_in_order(db, ballot_id, order, position))
    db.commit()
    return RatingSaved(repeated, following)


def _outcomes(db: Session, round_id: int) -> list[int]:
    return list(db.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == round_id)
                        .order_by(col(RoundOutcome.position))))


@_retrying
def answer_pair(db: Session, round_id: int, participant_id: int, left_id: int, right_id: int, choice: str,
                client_key: str) -> Saved:
    """Save one pairwise answer: left, right or none (can't decide)."""
    sql.check_key(client_key)
    person = sql.voter(db, participant_id)
    found = sql.round_for(db, round_id, person, ("pairwise",))
    assert person is not None
    listed = set(_outcomes(db, round_id))
    if left_id == right_id or left_id not in listed or right_id not in listed:
        raise NotFound("That pair is not in this round")
    question = sql.pair_question(left_id, right_id)
    seen = sql.already_saved(db, round_id, client_key, person, question)
    if seen is not None:
        db.commit()
        return Saved(seen, True)
    sql.refuse_unless_open(found)
    if choice not in ("left", "right", "none"):
        raise ValidationFailed({"choice": "Choose one of the two, or “I can’t decide”"})
    ballot_id = sql.answered_ballot(db, found, person)
    # The same pair shown the other way round is the same question: its answer is replaced too.
    answer = db.exec(select(PairwiseAnswer).where(
        PairwiseAnswer.ballot_id == ballot_id,
        or_(and_(col(PairwiseAnswer.left_outcome_id) == left_id, col(PairwiseAnswer.right_outcome_id) == right_id),
            and_(col(PairwiseAnswer.left_outcome_id) == right_id,
                 col(PairwiseAnswer.right_outcome_id) == left_id)))).first()
    if answer is None:
        answer = PairwiseAnswer(ballot_id=ballot_id, left_outcome_id=left_id, right_outcome_id=right_id, choice=choice)
    answer.left_outcome_id, answer.right_outcome_id = left_id, right_id
    answer.choice = choice
    answer.updated_at = utcnow()
    db.add(answer)
    db.flush()
    sql.record_key(db, round_id, ballot_id, client_key, person, question)
    db.commit()
    return Saved(ballot_id, False)


def _draft_ballot(db: Session, found: LockedRound, person: Voter) -> Ballot | None:
    return db.exec(select(Ballot).where(Ballot.round_id == found.id,
                                        Ballot.voter_key == sql.voter_key(found, person))).first()


def _stale(found: LockedRound, person: Voter) -> StaleDraft:
    if found.table_based:
        return StaleDraft(f"Table {person.table}’s list changed on another tablet, so your change was not saved. "
                          "This is the list as it is now: check it, then make your change again.")
    return StaleDraft("Your list changed on another device or tab, so your change was not saved. "
                      "This is the list as it is now: check it, then make your change again.")


def _check_draft(found: LockedRound, draft: dict[int, int], listed: list[int]) -> dict[str, str]:
    options = parse_options(found.options_json)[0]
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


@_retrying
def set_draft(db: Session, round_id: int, participant_id: int, draft: dict[int, int],
              version: str | None = None) -> dict[int, int]:
    """Replace the draft ranking or allocation with `draft` (the state the tapped button asked for).
    `version` is the draft the page showed (None: do not check)."""
    person = sql.voter(db, participant_id)
    found = sql.round_for(db, round_id, person, ("ranking", "points"))
    assert person is not None
    sql.refuse_unless_open(found)
    ballot = _draft_ballot(db, found, person)
    if version is not None and version != draft_version(ballot):
        raise _stale(found, person)
    draft = {o: v for o, v in draft.items() if v > 0}
    errors = _check_draft(found, draft, _outcomes(db, round_id))
    if errors:
        raise ValidationFailed(errors)
    if ballot is None:
        ballot = Ballot(round_id=found.id, voter_key=sql.voter_key(found, person), participant_id=person.id,
                        stakeholder_group_id=None if found.table_based else person.group_id,
                        table_number=person.table)
    ballot.draft_json = json.dumps({str(k): v for k, v in sorted(draft.items())})
    ballot.updated_at = utcnow()
    db.add(ballot)
    db.commit()
    return draft


@_retrying
def submit_draft(db: Session, round_id: int, participant_id: int, client_key: str,
                 version: str | None = None) -> Saved:
    """Count the current draft: it replaces any earlier ranking or allocation sent."""
    sql.check_key(client_key)
    person = sql.voter(db, participant_id)
    found = sql.round_for(db, round_id, person, ("ranking", "points"))
    assert person is not None
    seen = sql.already_saved(db, round_id, client_key, person, "submit")
    if seen is not None:
        db.commit()
        return Saved(seen, True)
    sql.refuse_unless_open(found)
    ballot = _draft_ballot(db, found, person)
    if version is not None and version != draft_version(ballot):
        raise _stale(found, person)
    draft = read_draft(ballot)
    errors = _check_draft(found, draft, _outcomes(db, round_id))
    if not draft or ballot is None:
        errors["ballot"] = ("Put at least one outcome in your list first" if found.method == "ranking"
                            else "Give at least one dot first")
    if errors or ballot is None:
        raise ValidationFailed(errors)
    assert ballot.id is not None
    db.exec(delete(BallotAnswer).where(col(BallotAnswer.ballot_id) == ballot.id,
                                       col(BallotAnswer.outcome_id).not_in(list(draft))))
    existing = {a.outcome_id: a for a in db.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id))}
    now = utcnow()
    for outcome_id, value in draft.items():
        answer = existing.get(outcome_id) or BallotAnswer(ballot_id=ballot.id, outcome_id=outcome_id)
        answer.value = value
        answer.updated_at = now
        db.add(answer)
    ballot.submitted_at = ballot.finished_at = ballot.updated_at = now
    if found.table_based:
        ballot.participant_id = person.id  # the last person at the table to send it
    db.add(ballot)
    db.flush()
    sql.record_key(db, round_id, ballot.id, client_key, person, "submit")
    db.commit()
    return Saved(ballot.id, False)


@_retrying
def finish(db: Session, round_id: int, participant_id: int, client_key: str) -> Saved:
    """"I have finished" in a rating round (with questions skipped) or a pairwise round."""
    sql.check_key(client_key)
    person = sql.voter(db, participant_id)
    found = sql.round_for(db, round_id, person, ("rating", "pairwise"))
    assert person is not None
    seen = sql.already_saved(db, round_id, client_key, person, "finish")
    if seen is not None:
        db.commit()
        return Saved(seen, True)
    sql.refuse_unless_open(found)
    ballot = _draft_ballot(db, found, person)
    if ballot is None:
        ballot = Ballot(round_id=found.id, voter_key=sql.voter_key(found, person), participant_id=person.id,
                        stakeholder_group_id=None if found.table_based else person.group_id,
                        table_number=person.table)
    now = utcnow()
    ballot.finished_at = ballot.finished_at or now
    ballot.updated_at = now
    db.add(ballot)
    db.flush()
    assert ballot.id is not None
    sql.record_key(db, round_id, ballot.id, client_key, person, "finish")
    db.commit()
    return Saved(ballot.id, False)
