"""The hot path: one participant answers one rating question.

In a workshop every tap on 1-9 lands here, often from dozens of tablets at once, so this is one
short transaction of seven indexed statements (prepared SQL, upserts), rather than the ORM
round-trips of the other ballot services. The rules are the same as ballots.answer_rating:
- the device-made key makes a retry a no-op (and is answered "saved" even after close, since the
  first try arrived in time);
- a new key replaces the participant's earlier answer to that question until the round closes;
- after close nothing changes and the participant is told so.
It also works out where the participant goes next, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import RoundStatus, utcnow
from codesign.services.ballots import CLOSED, KEY, check_rating

# Built once: statement construction would otherwise cost more than running them. Plain SQL
# that SQLite (3.35+) and PostgreSQL both accept, including the upserts and RETURNING.
NOW = bindparam("now", type_=UTCDateTime())
Q_PERSON = text(
    "SELECT p.id, p.stakeholder_group_id, p.table_number, s.id FROM participant p "
    "JOIN workshop_session s ON s.id = p.session_id WHERE p.token = :token AND s.join_code = :code")
Q_ROUND = text("SELECT session_id, method, status, table_based FROM voting_round WHERE id = :rid")
Q_SEEN = text("SELECT ballot_id FROM ballot_submission WHERE round_id = :rid AND client_key = :key")
Q_OUTCOME = text("SELECT outcome_id FROM round_outcome WHERE round_id = :rid AND position = :pos")
Q_BALLOT = text(
    "INSERT INTO ballot (round_id, voter_key, participant_id, stakeholder_group_id, table_number, draft_json, "
    "submitted_at, updated_at, source) VALUES (:rid, :voter, :pid, :gid, :tbl, '', :now, :now, 'app') "
    "ON CONFLICT (round_id, voter_key) DO UPDATE SET submitted_at = excluded.submitted_at, "
    "updated_at = excluded.updated_at RETURNING id"
).bindparams(NOW)
Q_ANSWER = text(
    "INSERT INTO ballot_answer (ballot_id, outcome_id, value, reason, updated_at) "
    "VALUES (:bid, :oid, :value, :reason, :now) ON CONFLICT (ballot_id, outcome_id) "
    "DO UPDATE SET value = excluded.value, reason = excluded.reason, updated_at = excluded.updated_at"
).bindparams(NOW)
Q_SUBMIT = text(
    "INSERT INTO ballot_submission (round_id, ballot_id, client_key, created_at) VALUES (:rid, :bid, :key, :now)"
).bindparams(NOW)
Q_NEXT = text(
    "SELECT min(position) FROM round_outcome WHERE round_id = :rid AND position >= :cur "
    "AND outcome_id NOT IN (SELECT outcome_id FROM ballot_answer WHERE ballot_id = :bid)")


class NotJoined(NotFound):
    """No participant of this session on this device: send them to join."""


@dataclass(frozen=True)
class RatingSaved:
    repeated: bool
    next_position: int | None  # the next unanswered question after this one; None: all done


def _check(value: str, key: str, reason: str) -> tuple[int | None, str]:
    if not KEY.match(key):
        raise ValidationFailed({"key": "This page is out of date. Reload it and answer again."})
    return check_rating(value, reason)


def _next_position(conn: Connection, round_id: int, ballot_id: int, current: int) -> int | None:
    """The first unanswered question after question `current` (both 1-based; None: none left).
    Stored positions count from 0, so question `current` is position current - 1."""
    position = conn.execute(Q_NEXT, {"rid": round_id, "cur": current, "bid": ballot_id}).scalar()
    return None if position is None else int(position) + 1


def record_rating(db: Session, join_code: str, tokens: Sequence[str], round_id: int, position: int, value: str,
                  client_key: str, reason: str = "") -> RatingSaved:
    """Save the answer to question `position` (1-based) of a rating round."""
    score, why = _check(value, client_key, reason)
    conn = db.connection()
    # A device usually holds one token; one holding several (it joined several sessions) is rare.
    person = next((row for token in tokens if (row := conn.execute(
        Q_PERSON, {"token": token, "code": join_code}).first()) is not None), None)
    if person is None:
        raise NotJoined("Join the session on this device first.")
    participant_id, group_id, table, session_id = person
    found = conn.execute(Q_ROUND, {"rid": round_id}).first()
    if found is None or found.session_id != session_id or found.method != "rating":
        raise NotFound("No such question")
    if found.table_based and table is None:
        raise Conflict("This round is voted by tables. Ask the facilitator to add your table number.")
    voter = f"t:{table}" if found.table_based else f"p:{participant_id}"
    seen = conn.execute(Q_SEEN, {"rid": round_id, "key": client_key}).scalar()
    if seen is not None:
        return RatingSaved(True, _next_position(conn, round_id, seen, position))
    if found.status != RoundStatus.open:
        raise Conflict(CLOSED if found.status == RoundStatus.closed else "This round has not opened yet.")
    outcome_id = conn.execute(Q_OUTCOME, {"rid": round_id, "pos": position - 1}).scalar()
    if outcome_id is None:
        raise NotFound("No such question")
    now = utcnow()
    ballot_id = conn.execute(Q_BALLOT, {"rid": round_id, "voter": voter, "pid": participant_id,
                                        "gid": None if found.table_based else group_id, "tbl": table,
                                        "now": now}).scalar_one()
    conn.execute(Q_ANSWER, {"bid": ballot_id, "oid": outcome_id, "value": score, "reason": why, "now": now})
    try:
        conn.execute(Q_SUBMIT, {"rid": round_id, "bid": ballot_id, "key": client_key, "now": now})
        following = _next_position(conn, round_id, ballot_id, position)
        db.commit()
    except IntegrityError:  # the same key raced in from another tab or process: it counted once
        db.rollback()
        return RatingSaved(True, _next_position(db.connection(), round_id, ballot_id, position))
    return RatingSaved(False, following)
