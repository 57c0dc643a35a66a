"""Import a round's ballots from CSV (paper ballots, an online survey run elsewhere).

All or nothing: the file is checked whole by the same parser as `codesign tally`, and any
problem refuses it with the line and column at fault; nothing is saved. Outcomes are named by
their id or their exact wording; groups by their key (patient) or name (Patients), case and
spacing ignored, read by the same function as `codesign tally` (voting/groups.py). Each voter in
the file becomes an imported participant of the session; importing the same voter again replaces
their answers.
"""

from __future__ import annotations

import csv
import io
import secrets

import pandas as pd
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from codesign.errors import Conflict, ValidationFailed
from codesign.models import (
    Ballot,
    BallotAnswer,
    PairwiseAnswer,
    Participant,
    RoundStatus,
    SessionStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.models.core import first_free_number
from codesign.queries.rounds import get_round, round_outcomes
from codesign.services import audit
from codesign.services.ballot_sql import lock_round, refuse_unless_open
from codesign.voting import BallotFileError, MethodOptions, parse_ballots_csv
from codesign.voting.order import parse_options

MAX_SHOWN = 10
MAX_REF = 100  # Participant.external_ref


def _data_lines(text: str) -> tuple[list[str], list[int]]:
    """The header (lower case) and the physical line where each data record starts, skipping
    blank records as the parser does, so row i of the parsed frame is on line lines[i]."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] | None = None
    lines: list[int] = []
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
        else:
            lines.append(start)
    return header or [], lines


def _refuse(text: str, source: str, row: int, column: str, message: str) -> ValidationFailed:
    header, lines = _data_lines(text)
    line = lines[row] if row < len(lines) else 1
    number = header.index(column) + 1 if column in header else 1
    return ValidationFailed({"ballots": f"The file was not imported. {source}, line {line}, column {number} "
                                        f"({column}): {message}"})


def _check_frame(frame: pd.DataFrame, method: str, by_name: dict[str, int], text: str, source: str) -> None:
    """What the generic parser cannot know: names that are too long to keep, and the same outcome
    (or pair) answered twice under its number and its wording."""
    too_long = frame["participant"].astype(str).str.len() > MAX_REF
    if too_long.any():
        row = int(too_long.to_numpy().argmax())
        raise _refuse(text, source, row, "participant", f"a participant's name or number can be at most {MAX_REF} "
                      "characters")
    if method == "pairwise":
        keys = [f"{min(by_name[str(a)], by_name[str(b)])}-{max(by_name[str(a)], by_name[str(b)])}"
                for a, b in zip(frame["left"], frame["right"], strict=True)]
        what, column = "the same pair", "right"
    else:
        keys = [str(by_name[str(o)]) for o in frame["outcome"]]
        what, column = "the same outcome", "outcome"
    repeated = pd.DataFrame({"participant": frame["participant"], "key": keys}).duplicated()
    if repeated.any():
        row = int(repeated.to_numpy().argmax())
        who = frame["participant"].iloc[row]
        raise _refuse(text, source, row, column, f"participant {who!r} answers {what} twice (outcomes can be named "
                      "by number or by wording, but only once each)")


def import_ballots(db: Session, actor: User, session_id: int, round_id: int, text: str, source: str) -> int:
    """Import every ballot in `text`; returns how many voters were imported."""
    found = get_round(db, session_id, round_id)
    # The same lock as every other ballot write: an import never lands after the round closes.
    locked = lock_round(db, round_id)
    if locked is not None and (locked.status != found.status or locked.session_status != SessionStatus.open):
        refuse_unless_open(locked)
    if found.status == RoundStatus.draft:
        raise Conflict("Open the round before importing ballots, so its method and rule are locked first.")
    if found.status == RoundStatus.closed:
        # Once closed, a round's results are final: importing now would change what the room saw.
        raise Conflict("This round has closed, so its results are final. Import ballots while a round is open, "
                       "or reset the round (with a reason) to run it again.")
    if found.table_based:
        raise Conflict("Table rounds are voted by tables in the room; they cannot be imported.")
    session = db.get(WorkshopSession, session_id)
    assert session is not None and found.id is not None
    if not text.strip():
        raise ValidationFailed({"ballots": "Choose a CSV file of ballots to import"})
    outcomes = round_outcomes(db, round_id)
    by_name: dict[str, int] = {}
    for o in outcomes:
        assert o.id is not None
        by_name[str(o.id)] = o.id
        by_name[o.statement] = o.id
    groups = {g.key: g for g in db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == session.population_group_id)
        .order_by(col(StakeholderGroup.position), col(StakeholderGroup.id)))}
    options = parse_options(found.options_json)[0]
    # Each outcome is listed twice (number and wording), so the parser must be told k itself:
    # "rank them all" means all of the round's outcomes, not twice as many positions.
    options = MethodOptions(top_k=options.ranking_depth(len(outcomes)), budget=options.budget,
                            max_per_outcome=options.max_per_outcome)
    try:
        frame = parse_ballots_csv(text, found.method, source=source, outcomes=list(by_name),  # type: ignore[arg-type]
                                  options=options, groups={k: g.name for k, g in groups.items()})
    except BallotFileError as exc:
        messages = [e.describe(source) for e in exc.errors[:MAX_SHOWN]]
        raise ValidationFailed({"ballots": "The file was not imported. " + " · ".join(messages)}) from None
    _check_frame(frame, found.method, by_name, text, source)

    imported = _save(db, session_id, found.id, found.method, frame, groups, by_name)
    audit.record(db, actor, "round.imported",
                 summary=f"Imported {imported} ballots into round {found.number} from {source}",
                 object_type="round", object_id=found.id, population_group_id=session.population_group_id,
                 session_id=session_id, details={"source": source, "voters": imported, "rows": len(frame)})
    db.commit()
    return imported


def _save(db: Session, session_id: int, round_id: int, method: str, frame: pd.DataFrame,
          groups: dict[str, StakeholderGroup], by_name: dict[str, int]) -> int:
    """Write the checked ballots: each voter an imported participant of the session (found again
    by their reference), one ballot each in the round (a voter's earlier answers replaced), and
    the answers, in batches: a statement count that does not grow with the voters (5,000 voters
    x 40 answers took 100 s one voter at a time, holding the write lock all along, so every vote
    in the room waited). Returns how many voters."""
    first = frame.drop_duplicates("participant")  # a voter's rows are all in one group (the parser)
    voters = sorted(zip(first["participant"].astype(str), first["group"].astype(str), strict=True))
    group_of = {ref: int(groups[name].id or 0) for ref, name in voters}
    connection = db.connection()
    people = Participant.__table__  # type: ignore[attr-defined]

    def imported() -> dict[str, tuple[int, int]]:  # reference: (participant id, group id)
        return {r.external_ref: (r.id, r.stakeholder_group_id) for r in connection.execute(
            sa_select(people.c.id, people.c.external_ref, people.c.stakeholder_group_id)
            .where(people.c.session_id == session_id, people.c.external_ref.is_not(None)))}

    known = imported()
    new = [ref for ref, _name in voters if ref not in known]
    if new:
        number, now_joined = first_free_number(connection, session_id), utcnow()
        connection.execute(insert(people), [
            {"session_id": session_id, "stakeholder_group_id": group_of[ref], "first_name": "", "external_ref": ref,
             "token": secrets.token_urlsafe(32), "joined_at": now_joined, "number": number + n, "removed_reason": ""}
            for n, ref in enumerate(new)])
    # A voter imported again in another group has moved: the latest file is the truth.
    moved = [{"p_id": known[ref][0], "group": group_of[ref]} for ref, _name in voters
             if ref in known and known[ref][1] != group_of[ref]]
    if moved:
        connection.execute(update(people).where(people.c.id == bindparam("p_id"))
                           .values(stakeholder_group_id=bindparam("group")), moved)
    known = imported() if new else known
    # Keyed by the imported participant's id: a long name cut to fit could merge two voters.
    key_of = {ref: f"x:{known[ref][0]}" for ref, _name in voters}
    table = Ballot.__table__  # type: ignore[attr-defined]

    def ballots() -> dict[str, int]:
        return {r.voter_key: r.id for r in connection.execute(
            sa_select(table.c.id, table.c.voter_key).where(table.c.round_id == round_id,
                                                           table.c.voter_key.startswith("x:")))}

    existing, now = ballots(), utcnow()
    replaced = [existing[key_of[ref]] for ref, _name in voters if key_of[ref] in existing]
    for chunk in range(0, len(replaced), 10_000):
        ids = replaced[chunk:chunk + 10_000]
        for answers_of in (BallotAnswer.__table__, PairwiseAnswer.__table__):  # type: ignore[attr-defined]
            connection.execute(delete(answers_of).where(answers_of.c.ballot_id.in_(ids)))
    sent = {"submitted_at": now, "finished_at": now, "updated_at": now}
    if replaced:
        connection.execute(update(table).where(table.c.id == bindparam("b_id"))
                           .values(stakeholder_group_id=bindparam("group"), **sent),
                           [{"b_id": existing[key_of[ref]], "group": group_of[ref]} for ref, _name in voters
                            if key_of[ref] in existing])
    added = [ref for ref, _name in voters if key_of[ref] not in existing]
    if added:
        connection.execute(insert(table), [
            {"round_id": round_id, "voter_key": key_of[ref], "participant_id": known[ref][0],
             "stakeholder_group_id": group_of[ref], "draft_json": "", "source": "import", **sent} for ref in added])
        existing = ballots()
    ballot_of = {ref: existing[key_of[ref]] for ref, _name in voters}
    who = [ballot_of[str(v)] for v in frame["participant"]]
    if method == "pairwise":
        rows = [{"ballot_id": b, "left_outcome_id": by_name[str(left)], "right_outcome_id": by_name[str(right)],
                 "choice": str(choice), "updated_at": now}
                for b, left, right, choice in zip(who, frame["left"], frame["right"], frame["choice"], strict=True)]
        answers = PairwiseAnswer.__table__  # type: ignore[attr-defined]
    else:
        rows = [{"ballot_id": b, "outcome_id": by_name[str(outcome)], "reason": "", "updated_at": now,
                 "value": None if pd.isna(value) else int(value)}
                for b, outcome, value in zip(who, frame["outcome"], frame["value"], strict=True)]
        answers = BallotAnswer.__table__  # type: ignore[attr-defined]
    if rows:
        connection.execute(insert(answers), rows)
    return len(voters)
