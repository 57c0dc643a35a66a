"""Import a round's ballots from CSV (paper ballots, an online survey run elsewhere).

All or nothing: the file is checked whole by the same parser as `codesign tally`, and any
problem refuses it with the line and column at fault; nothing is saved. Outcomes are named by
their id or their exact wording; groups by their key (patient) or name (Patients). Each voter in
the file becomes an imported participant of the session; importing the same voter again replaces
their answers.
"""

from __future__ import annotations

import csv
import io
import secrets

import pandas as pd
from sqlalchemy import delete
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
        StakeholderGroup.population_group_id == session.population_group_id))}
    groups.update({g.name: g for g in list(groups.values())})
    options = parse_options(found.options_json)[0]
    # Each outcome is listed twice (number and wording), so the parser must be told k itself:
    # "rank them all" means all of the round's outcomes, not twice as many positions.
    options = MethodOptions(top_k=options.ranking_depth(len(outcomes)), budget=options.budget,
                            max_per_outcome=options.max_per_outcome)
    try:
        frame = parse_ballots_csv(text, found.method, source=source, outcomes=list(by_name),  # type: ignore[arg-type]
                                  options=options)
    except BallotFileError as exc:
        messages = [e.describe(source) for e in exc.errors[:MAX_SHOWN]]
        raise ValidationFailed({"ballots": "The file was not imported. " + " · ".join(messages)}) from None
    unknown = [g not in groups for g in frame["group"]]
    if any(unknown):
        row = unknown.index(True)
        known = ", ".join(g.key for g in groups.values() if g.key == g.key.lower())
        raise _refuse(text, source, row, "group",
                      f"“{frame['group'].iloc[row]}” is not a stakeholder group here; use one of {known}")
    _check_frame(frame, found.method, by_name, text, source)

    imported = 0
    for voter, rows in frame.groupby("participant", sort=True):
        group = groups[str(rows["group"].iloc[0])]
        assert group.id is not None
        ref = str(voter)
        person = db.exec(select(Participant).where(Participant.session_id == session_id,
                                                   Participant.external_ref == ref)).first()
        if person is None:
            person = Participant(session_id=session_id, stakeholder_group_id=group.id, external_ref=ref,
                                 first_name="", token=secrets.token_urlsafe(32))
        # A voter imported again in another group has moved: the latest file is the truth.
        person.stakeholder_group_id = group.id
        db.add(person)
        db.flush()
        # Keyed by the imported participant's id: a long name cut to fit could merge two voters.
        key = f"x:{person.id}"
        ballot = db.exec(select(Ballot).where(Ballot.round_id == found.id, Ballot.voter_key == key)).first()
        if ballot is None:
            ballot = Ballot(round_id=found.id, voter_key=key, participant_id=person.id,
                            stakeholder_group_id=group.id, source="import")
            db.add(ballot)
            db.flush()
        else:
            ballot.stakeholder_group_id = group.id
            db.exec(delete(BallotAnswer).where(col(BallotAnswer.ballot_id) == ballot.id))
            db.exec(delete(PairwiseAnswer).where(col(PairwiseAnswer.ballot_id) == ballot.id))
        assert ballot.id is not None
        if found.method == "pairwise":
            for left, right, choice in zip(rows["left"], rows["right"], rows["choice"], strict=True):
                db.add(PairwiseAnswer(ballot_id=ballot.id, left_outcome_id=by_name[str(left)],
                                      right_outcome_id=by_name[str(right)], choice=str(choice)))
        else:
            for outcome, value in zip(rows["outcome"], rows["value"], strict=True):
                db.add(BallotAnswer(ballot_id=ballot.id, outcome_id=by_name[str(outcome)],
                                    value=None if pd.isna(value) else int(value)))
        ballot.submitted_at = ballot.finished_at = ballot.updated_at = utcnow()
        db.add(ballot)
        imported += 1
    audit.record(db, actor, "round.imported",
                 summary=f"Imported {imported} ballots into round {found.number} from {source}",
                 object_type="round", object_id=found.id, population_group_id=session.population_group_id,
                 session_id=session_id, details={"source": source, "voters": imported, "rows": len(frame)})
    db.commit()
    return imported
