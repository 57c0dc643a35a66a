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
import json
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
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.queries.rounds import get_round, round_outcomes
from codesign.services import audit
from codesign.voting import BallotFileError, MethodOptions, parse_ballots_csv

MAX_SHOWN = 10


def _line_of(text: str, column: str, value: str) -> tuple[int, int]:
    """Where `value` first appears in `column` (physical line, 1-based column)."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    index = header.index(column) if column in header else 0
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > index and row[index].strip() == value:
            return number, index + 1
    return 1, index + 1


def import_ballots(db: Session, actor: User, session_id: int, round_id: int, text: str, source: str) -> int:
    """Import every ballot in `text`; returns how many voters were imported."""
    found = get_round(db, session_id, round_id)
    if found.status == RoundStatus.draft:
        raise Conflict("Open the round before importing ballots, so its method and rule are locked first.")
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
    options = MethodOptions.from_dict(json.loads(found.options_json))
    try:
        frame = parse_ballots_csv(text, found.method, source=source, outcomes=list(by_name),  # type: ignore[arg-type]
                                  options=options)
    except BallotFileError as exc:
        messages = [e.describe(source) for e in exc.errors[:MAX_SHOWN]]
        raise ValidationFailed({"ballots": "The file was not imported. " + " · ".join(messages)}) from None
    unknown = sorted(set(frame["group"]) - set(groups))
    if unknown:
        line, column = _line_of(text, "group", unknown[0])
        known = ", ".join(g.key for g in groups.values() if g.key == g.key.lower())
        raise ValidationFailed({"ballots": f"The file was not imported. {source}, line {line}, column {column} "
                                f"(group): “{unknown[0]}” is not a stakeholder group here; use one of {known}"})

    imported = 0
    for voter, rows in frame.groupby("participant", sort=True):
        group = groups[str(rows["group"].iloc[0])]
        ref = str(voter)[:100]
        person = db.exec(select(Participant).where(Participant.session_id == session_id,
                                                   Participant.external_ref == ref)).first()
        if person is None:
            person = Participant(session_id=session_id, stakeholder_group_id=group.id or 0, external_ref=ref,
                                 first_name="", token=secrets.token_urlsafe(32))
            db.add(person)
            db.flush()
        key = f"x:{ref}"[:40]
        ballot = db.exec(select(Ballot).where(Ballot.round_id == found.id, Ballot.voter_key == key)).first()
        if ballot is None:
            ballot = Ballot(round_id=found.id, voter_key=key, participant_id=person.id,
                            stakeholder_group_id=group.id, source="import")
            db.add(ballot)
            db.flush()
        else:
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
        ballot.submitted_at = ballot.updated_at = utcnow()
        db.add(ballot)
        imported += 1
    audit.record(db, actor, "round.imported",
                 summary=f"Imported {imported} ballots into round {found.number} from {source}",
                 object_type="round", object_id=found.id, population_group_id=session.population_group_id,
                 session_id=session_id, details={"source": source, "voters": imported, "rows": len(frame)})
    db.commit()
    return imported
