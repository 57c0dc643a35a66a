"""What every ballot write does first, in one place: find the voter, lock the round, check the key.

Every ballot write (a rating tap, a pair, a ranking or points draft, sending it, "I have
finished", an import) starts with ``lock_round``: on PostgreSQL it takes the round's lock in shared
mode until the transaction ends, and only then reads the round and its session's status. Closing a
round takes the same lock exclusively (``lock_round_exclusively``; closing a session closes each
of its open rounds that way), so a close waits for the votes already in flight and every vote after
it reads the round as closed: no ballot is written after a close, and the results counted at close
are final. The lock is a transaction-scoped advisory lock rather than a row lock because
PostgreSQL queues advisory (heavyweight) locks fairly: a stream of votes holding row SHARE locks
can keep a waiting FOR UPDATE out indefinitely (a test saw a close wait 46 s under nine busy
voters), while a waiting exclusive advisory lock makes later shared requests queue behind it. On
SQLite every write transaction already holds the database's write lock (BEGIN IMMEDIATE, see
``codesign.db``), which orders them the same way.

A device-made key belongs to one participant and one question (``question``: "o:<outcome>",
"pair:<low>-<high>", "submit" or "finish"). The same key again for the same question is a retry
and is answered "saved"; for anything else it is refused, never answered "saved" while storing
nothing. Statements are plain SQL built once (the rating tap is the hot path): they run unchanged
on SQLite 3.35+ and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, text
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import RoundStatus, SessionStatus, utcnow
from codesign.uk_time import as_utc, uk_datetime

KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLOSED = ("This round has closed, so this answer was not saved; the answers you gave before it closed count. "
          "Thank you for taking part.")
NOT_OPEN = "This round has not opened yet."
SESSION_CLOSED = "This session has closed, so your answer was not saved. Thank you for taking part."
KEY_REUSED = "This answer was not saved because the page was out of date. Please answer again."
NO_TABLE = ("This round is voted by tables, and you did not give a table number when you joined. "
            "Vote together on your table’s device, or ask the facilitator.")

NOW = bindparam("now", type_=UTCDateTime())
_ROUND = ("SELECT r.id, r.session_id, r.method, r.status, r.table_based, r.options_json, s.status, "
          "r.opens_at AS opens_at, r.closes_at AS closes_at "
          "FROM voting_round r JOIN workshop_session s ON s.id = r.session_id WHERE r.id = :rid")
# Only the round row is locked: closing a session closes its open rounds first (locking each), so
# a vote can never slip in after a session closes, and one lock order means no deadlock.
# An online round's window (services.online) is read with it, typed so SQLite gives datetimes too.
Q_ROUND = text(_ROUND).columns(opens_at=DateTime(timezone=True), closes_at=DateTime(timezone=True))
Q_ROUND_SHARED = text("SELECT pg_advisory_xact_lock_shared(1618, :rid)")
Q_ROUND_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(1618, :rid)")
# A participant the facilitator removed, or merged into another, votes no more (services.people).
Q_PERSON = text("SELECT id, session_id, stakeholder_group_id, table_number FROM participant WHERE id = :pid "
                "AND removed_at IS NULL AND merged_into_id IS NULL")
Q_PERSON_BY_TOKEN = text(
    "SELECT p.id, p.session_id, p.stakeholder_group_id, p.table_number FROM participant p "
    "JOIN workshop_session s ON s.id = p.session_id WHERE p.token = :token AND s.join_code = :code "
    "AND p.removed_at IS NULL AND p.merged_into_id IS NULL")
Q_SEEN = text("SELECT ballot_id, participant_id, question FROM ballot_submission "
              "WHERE round_id = :rid AND client_key = :key")
Q_SUBMISSION = text(
    "INSERT INTO ballot_submission (round_id, ballot_id, client_key, participant_id, question, created_at) "
    "VALUES (:rid, :bid, :key, :pid, :question, :now)").bindparams(NOW)
# A rating or a pair: the ballot exists from the first answer, and each answer counts at once.
Q_BALLOT_ANSWERED = text(
    "INSERT INTO ballot (round_id, voter_key, participant_id, stakeholder_group_id, table_number, draft_json, "
    "submitted_at, updated_at, source) VALUES (:rid, :voter, :pid, :gid, :tbl, '', :now, :now, 'app') "
    "ON CONFLICT (round_id, voter_key) DO UPDATE SET submitted_at = excluded.submitted_at, "
    "updated_at = excluded.updated_at RETURNING id").bindparams(NOW)
Q_FINISHED_IF_COMPLETE = text(
    "UPDATE ballot SET finished_at = :now WHERE id = :bid AND finished_at IS NULL AND NOT EXISTS ("
    "SELECT 1 FROM round_outcome o WHERE o.round_id = :rid AND NOT EXISTS ("
    "SELECT 1 FROM ballot_answer a WHERE a.ballot_id = :bid AND a.outcome_id = o.outcome_id))").bindparams(NOW)


@dataclass(frozen=True)
class LockedRound:
    id: int
    session_id: int
    method: str
    status: str
    table_based: bool
    options_json: str
    session_status: str
    opens_at: datetime | None = None  # an online round's window (None in the room)
    closes_at: datetime | None = None


@dataclass(frozen=True)
class Voter:
    id: int
    session_id: int
    group_id: int
    table: int | None


def check_key(key: str) -> None:
    if not KEY.match(key or ""):
        raise ValidationFailed({"key": "This page is out of date. Reload it and answer again."})


def lock_round(db: Session, round_id: int) -> LockedRound | None:
    """The round and its session's status, read after taking the round's lock in shared mode
    (PostgreSQL; held until the transaction ends)."""
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(Q_ROUND_SHARED, {"rid": round_id})
    row = db.connection().execute(Q_ROUND, {"rid": round_id}).first()
    return None if row is None else LockedRound(int(row[0]), int(row[1]), row[2], row[3], bool(row[4]), row[5], row[6],
                                                row[7], row[8])


def lock_round_exclusively(db: Session, round_id: int) -> None:
    """For closing (or resetting, or opening) a round: waits for the ballot writes in flight, and
    holds off new ones, until the transaction ends (PostgreSQL; SQLite's writers queue anyway)."""
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(Q_ROUND_EXCLUSIVE, {"rid": round_id})


def voter(db: Session, participant_id: int) -> Voter | None:
    row = db.connection().execute(Q_PERSON, {"pid": participant_id}).first()
    return None if row is None else Voter(int(row[0]), int(row[1]), int(row[2]), row[3])


def voter_by_token(db: Session, tokens: Sequence[str], join_code: str) -> Voter | None:
    """The participant this device holds for the session with `join_code` (a device usually holds
    one token; one that joined several sessions holds one each)."""
    for token in tokens:
        row = db.connection().execute(Q_PERSON_BY_TOKEN, {"token": token, "code": join_code}).first()
        if row is not None:
            return Voter(int(row[0]), int(row[1]), int(row[2]), row[3])
    return None


def round_for(db: Session, round_id: int, person: Voter | None, methods: tuple[str, ...]) -> LockedRound:
    """The locked round, if `person` belongs to its session and it uses one of `methods`."""
    found = lock_round(db, round_id)
    if found is None or person is None or found.session_id != person.session_id:
        raise NotFound("No such round")
    if found.method not in methods:
        raise NotFound("No such question")
    return found


def refuse_unless_open(found: LockedRound) -> None:
    """Nothing is stored once the round or the session has closed (or before the round opens)."""
    if found.session_status != SessionStatus.open:
        raise Conflict(SESSION_CLOSED)
    if found.status != RoundStatus.open:
        raise Conflict(CLOSED if found.status == RoundStatus.closed else NOT_OPEN)
    if found.opens_at is not None or found.closes_at is not None:
        # An online round takes answers only inside its window, whenever the worker gets round to
        # opening or closing it (uk_time: shown in UK time, stored in UTC).
        now = utcnow()
        if found.closes_at is not None and as_utc(found.closes_at) <= now:
            raise Conflict(f"This round closed at {uk_datetime(found.closes_at)}, so your answer was not saved. "
                           "Thank you for taking part.")
        if found.opens_at is not None and as_utc(found.opens_at) > now:
            raise Conflict(f"This round opens at {uk_datetime(found.opens_at)}. Please come back then.")


def voter_key(found: LockedRound, person: Voter) -> str:
    """Whose ballot: the participant's, or their table's in a table round."""
    if found.table_based:
        if person.table is None:
            raise Conflict(NO_TABLE)
        return f"t:{person.table}"
    return f"p:{person.id}"


def already_saved(db: Session, round_id: int, key: str, person: Voter, question: str) -> int | None:
    """The ballot this key already saved this answer to (a retry), or None if the key is new.
    A key already used by someone else, or for another question, is refused."""
    row = db.connection().execute(Q_SEEN, {"rid": round_id, "key": key}).first()
    if row is None:
        return None
    ballot_id, owner, answered = row
    # Keys stored before keys were bound to a question (owner None) are taken at their word.
    if owner is not None and (owner != person.id or answered != question):
        raise ValidationFailed({"key": KEY_REUSED})
    return int(ballot_id)


def record_key(db: Session, round_id: int, ballot_id: int, key: str, person: Voter, question: str) -> None:
    """Store the key with what it answered (a duplicate raises IntegrityError: the caller retries)."""
    db.connection().execute(Q_SUBMISSION, {"rid": round_id, "bid": ballot_id, "key": key, "pid": person.id,
                                "question": question, "now": utcnow()})


def answered_ballot(db: Session, found: LockedRound, person: Voter) -> int:
    """The voter's ballot (made now if this is their first answer), marked as answered now."""
    return int(db.connection().execute(Q_BALLOT_ANSWERED, {
        "rid": found.id, "voter": voter_key(found, person), "pid": person.id,
        "gid": None if found.table_based else person.group_id, "tbl": person.table, "now": utcnow()}).scalar_one())


def finish_if_complete(db: Session, round_id: int, ballot_id: int) -> None:
    """A rating ballot with every question answered is finished."""
    db.connection().execute(Q_FINISHED_IF_COMPLETE, {"bid": ballot_id, "rid": round_id, "now": utcnow()})


def pair_question(left: int, right: int) -> str:
    return f"pair:{min(left, right)}-{max(left, right)}"


# ---- Facilitator corrections (services.people) ------------------------------------------------------
# Moving, regrouping or discarding a participant's ballots. The caller holds the round's lock
# exclusively (``lock_round_exclusively``) and has read the round as open, so no vote or close of
# this round runs meanwhile; closed rounds are never passed here (their stored results, and the
# ballots ``codesign verify`` recounts them from, stay as counted). Table rounds' ballots belong to
# the table, not to a person, and are never passed either.

Q_BALLOT_OF = text("SELECT id, draft_json, submitted_at FROM ballot WHERE round_id = :rid AND voter_key = :voter")
Q_ANSWERS_OF = text("SELECT outcome_id, value, reason FROM ballot_answer WHERE ballot_id = :bid ORDER BY outcome_id")
Q_PAIRS_OF = text("SELECT left_outcome_id, right_outcome_id, choice FROM pairwise_answer WHERE ballot_id = :bid "
                  "ORDER BY left_outcome_id, right_outcome_id")
Q_REGROUP = text("UPDATE ballot SET stakeholder_group_id = :gid WHERE round_id = :rid AND voter_key = :voter")
Q_REKEY = text("UPDATE ballot SET voter_key = :voter, participant_id = :pid, stakeholder_group_id = :gid, "
               "updated_at = :now WHERE id = :bid").bindparams(NOW)
Q_KEYS_TO = text("UPDATE ballot_submission SET ballot_id = :to WHERE ballot_id = :bid")
Q_DROP_KEYS = text("DELETE FROM ballot_submission WHERE ballot_id = :bid")
Q_DROP_ANSWERS = text("DELETE FROM ballot_answer WHERE ballot_id = :bid")
Q_DROP_PAIRS = text("DELETE FROM pairwise_answer WHERE ballot_id = :bid")
Q_DROP_BALLOT = text("DELETE FROM ballot WHERE id = :bid")
# A's answer wins: only B's answers to questions A has not answered move.
Q_MOVE_ANSWERS = text(
    "UPDATE ballot_answer SET ballot_id = :to WHERE ballot_id = :bid AND outcome_id NOT IN ("
    "SELECT x.outcome_id FROM ballot_answer x WHERE x.ballot_id = :to)")
Q_MOVE_PAIRS = text(
    "UPDATE pairwise_answer SET ballot_id = :to WHERE ballot_id = :bid AND NOT EXISTS ("
    "SELECT 1 FROM pairwise_answer x WHERE x.ballot_id = :to AND ("
    "(x.left_outcome_id = pairwise_answer.left_outcome_id AND x.right_outcome_id = pairwise_answer.right_outcome_id)"
    " OR (x.left_outcome_id = pairwise_answer.right_outcome_id "
    "AND x.right_outcome_id = pairwise_answer.left_outcome_id)))")
Q_TOUCH = text("UPDATE ballot SET updated_at = :now, submitted_at = COALESCE(submitted_at, :now) "
               "WHERE id = :bid").bindparams(NOW)


def _ballot_of(db: Session, round_id: int, participant_id: int) -> tuple[int, str, object] | None:
    row = db.connection().execute(Q_BALLOT_OF, {"rid": round_id, "voter": f"p:{participant_id}"}).first()
    return None if row is None else (int(row[0]), row[1] or "", row[2])


def ballot_contents(db: Session, ballot_id: int) -> dict[str, object]:
    """What a ballot holds, for the audit log (kept there when answers are discarded or dropped)."""
    answers = db.connection().execute(Q_ANSWERS_OF, {"bid": ballot_id}).all()
    pairs = db.connection().execute(Q_PAIRS_OF, {"bid": ballot_id}).all()
    return {"answers": [{"outcome_id": o, "value": v, "reason": r} for o, v, r in answers],
            "pairs": [{"left": left, "right": right, "choice": c} for left, right, c in pairs]}


def _count(contents: dict[str, object]) -> int:
    answers, pairs = contents["answers"], contents["pairs"]
    assert isinstance(answers, list) and isinstance(pairs, list)
    return len(answers) + len(pairs)


def regroup_ballot(db: Session, round_id: int, participant_id: int, group_id: int) -> bool:
    """The participant's ballot in this round now counts for `group_id` (their ballot moves with them)."""
    result = db.connection().execute(Q_REGROUP, {"gid": group_id, "rid": round_id, "voter": f"p:{participant_id}"})
    return bool(result.rowcount)


def _drop(db: Session, ballot_id: int) -> None:
    for statement in (Q_DROP_KEYS, Q_DROP_ANSWERS, Q_DROP_PAIRS, Q_DROP_BALLOT):
        db.connection().execute(statement, {"bid": ballot_id})


def discard_ballot(db: Session, round_id: int, participant_id: int) -> dict[str, object] | None:
    """Delete the participant's ballot in this round; returns what it held (for the audit log)."""
    found = _ballot_of(db, round_id, participant_id)
    if found is None:
        return None
    contents = {**ballot_contents(db, found[0]), "draft": found[1]}
    _drop(db, found[0])
    return contents


@dataclass(frozen=True)
class MergedBallot:
    moved: int  # B's answers now on A's ballot
    dropped: list[dict[str, object]]  # B's answers A had already answered (A's answer wins)


def merge_ballot(db: Session, round_id: int, method: str, source_id: int, target_id: int,
                 group_id: int) -> MergedBallot | None:
    """Participant `source_id`'s ballot in this round joins `target_id`'s. Where the target has no
    ballot (or an empty one), the source's becomes theirs whole. Otherwise the source's rating or
    pair answers move only to questions the target has not answered; a ranking or points list is
    one answer, so the target's list stays and the source's is dropped."""
    source = _ballot_of(db, round_id, source_id)
    if source is None:
        return None
    held = ballot_contents(db, source[0])
    target = _ballot_of(db, round_id, target_id)
    if target is not None and _count(ballot_contents(db, target[0])) == 0 and target[1] in ("", "{}") \
            and target[2] is None:
        db.connection().execute(Q_KEYS_TO, {"to": source[0], "bid": target[0]})
        _drop(db, target[0])  # an empty ballot: nothing of the target's is lost
        target = None
    if target is None:
        db.connection().execute(Q_REKEY, {"voter": f"p:{target_id}", "pid": target_id, "gid": group_id,
                                          "bid": source[0], "now": utcnow()})
        return MergedBallot(_count(held), [])
    moved = 0
    if method == "rating":
        moved = db.connection().execute(Q_MOVE_ANSWERS, {"to": target[0], "bid": source[0]}).rowcount
    elif method == "pairwise":
        moved = db.connection().execute(Q_MOVE_PAIRS, {"to": target[0], "bid": source[0]}).rowcount
    left = ballot_contents(db, source[0])
    dropped = [*left["answers"], *left["pairs"]]  # type: ignore[misc]
    # The source's keys now point at the target's ballot, so a retried request still finds a row.
    db.connection().execute(Q_KEYS_TO, {"to": target[0], "bid": source[0]})
    _drop(db, source[0])
    if moved:
        db.connection().execute(Q_TOUCH, {"bid": target[0], "now": utcnow()})
        if method == "rating":
            finish_if_complete(db, round_id, target[0])
    return MergedBallot(int(moved), dropped)
