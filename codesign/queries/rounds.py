"""Reads for voting rounds: the fixed outcome list, ballots as a DataFrame, results, progress."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound
from codesign.models import (
    Ballot,
    Outcome,
    Participant,
    Round,
    RoundOutcome,
    RoundStatus,
    WorkshopSession,
)
from codesign.queries.ballot_frames import ballots_frame_for_rounds
from codesign.queries.basic import list_stakeholder_groups
from codesign.voting import ConsensusRule, MethodOptions, Results, TableCombined, combine_tables, stored, tally
from codesign.voting.order import parse_options

__all__ = [
    "RoundResults",
    "ballots_frame",
    "count_round",
    "get_round",
    "list_rounds",
    "read_draft",
    "round_fingerprint",
    "round_outcomes",
    "round_results",
    "stored_document",
    "voter_key",
]


def voter_key(found: Round, participant: Participant) -> str:
    """Who a ballot belongs to: the participant, or their table in a table-based round."""
    if found.table_based:
        if participant.table_number is None:
            raise Conflict("This round is voted by tables, and you did not give a table number when you joined. "
                           "Vote together on your table’s device, or ask the facilitator.")
        return f"t:{participant.table_number}"
    return f"p:{participant.id}"


def read_draft(ballot: Ballot | None) -> dict[int, int]:
    """A ranking or points draft: outcome id -> position (ranking) or dots (points)."""
    if ballot is None or not ballot.draft_json:
        return {}
    return {int(k): int(v) for k, v in json.loads(ballot.draft_json).items()}


def list_rounds(db: Session, session_id: int) -> list[Round]:
    return list(db.exec(select(Round).where(Round.session_id == session_id).order_by(col(Round.number))))


def get_round(db: Session, session_id: int, round_id: int) -> Round:
    found = db.get(Round, round_id)
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    return found


def round_outcomes(db: Session, round_id: int) -> list[Outcome]:
    rows = db.exec(select(Outcome).join(RoundOutcome, col(RoundOutcome.outcome_id) == col(Outcome.id))
                   .where(RoundOutcome.round_id == round_id).order_by(col(RoundOutcome.position))).all()
    return list(rows)


def round_fingerprint(db: Session, found: Round) -> str:
    """The round's polled pages' change fingerprint (queries.room.round_poll_fingerprint)."""
    from codesign.queries.room import round_poll_fingerprint

    return round_poll_fingerprint(db, found.session_id, found.id or 0) or ""


def ballots_frame(db: Session, found: Round) -> pd.DataFrame:
    """The round's counted ballots in the engine's format (see codesign.voting).

    Outcomes are keyed by id (as text), groups by stakeholder group key. Ranking and points
    count submitted ballots only; rating and pairwise count every saved answer.
    """
    return ballots_frame_for_rounds(db, [found]).drop(columns="round")


@dataclass(frozen=True)
class RoundResults:
    round: Round
    outcomes: dict[str, Outcome]  # by id as text
    group_names: dict[str, str]  # key -> display name
    results: Results | None  # None when nobody has voted
    tables: list[TableCombined] | None  # table-based rounds
    rule: ConsensusRule
    options: MethodOptions
    weights: dict[str, float]

    @property
    def labels(self) -> dict[str, str]:
        return {k: o.statement for k, o in self.outcomes.items()}

    def to_dict(self) -> dict[str, Any]:
        """The same schema as `codesign tally` (docs/results-schema.md), plus the round's identity."""
        body: dict[str, Any] = self.results.to_dict(self.labels) if self.results else {
            "method": self.round.method, "rule": self.rule.to_dict(), "options": self.options.to_dict(),
            "combine": self.round.combine, "groups": {}, "outcomes": [], "agreement": None}
        body["round"] = {"id": self.round.id, "number": self.round.number, "title": self.round.title,
                         "status": self.round.status, "table_based": self.round.table_based}
        # As in `codesign tally`, "outcome" is the wording; the round adds the outcome's id.
        for item in [*body.get("outcomes", []), *(body.get("agreement") or {}).get("disagreements", [])]:
            item["outcome_id"] = int(item["outcome"])
            item["outcome"] = self.labels.get(item["outcome"], item["outcome"])
        if self.tables is not None:
            body["tables"] = [{"outcome": self.labels[t.outcome], "outcome_id": int(t.outcome), "rank": t.rank,
                               "total_rank": t.total_rank, "tables": dict(t.tables)} for t in self.tables]
        return body


def count_round(db: Session, found: Round, wording: Mapping[str, str] | None = None,
                frame: pd.DataFrame | None = None) -> RoundResults:
    """Count the round's ballots now. Closing a round does this once and stores the result
    (``stored_document``); readers use ``round_results``, which reads what was stored.
    `wording` (outcome id -> statement) replaces today's wording in the alphabetical tie-break:
    a recount checks the stored results with the wording they were counted with. `frame` replaces
    the round's own ballots (a pooled round counts every member round's, with this round's settings:
    queries.pooled)."""
    session = db.get(WorkshopSession, found.session_id)
    assert session is not None and found.id is not None
    outcomes = {str(o.id): o for o in round_outcomes(db, found.id)}
    stakeholders = list_stakeholder_groups(db, session.population_group_id)
    names = {g.key: g.name for g in stakeholders}
    rule = ConsensusRule.from_dict(json.loads(found.rule_json))
    options = parse_options(found.options_json)[0]
    weights = {k: float(v) for k, v in json.loads(found.weights_json or "{}").items()} or {
        g.key: g.weight for g in stakeholders}
    frame = ballots_frame(db, found) if frame is None else frame
    labels = {k: (wording or {}).get(k, o.statement) for k, o in outcomes.items()}
    results: Results | None = None
    tables: list[TableCombined] | None = None
    if found.table_based:
        if len(frame):
            table_frame = pd.DataFrame({"table": frame["participant"].str.removeprefix("t:"),
                                        "outcome": frame["outcome"], "position": frame["value"].astype(int)})
            tables = combine_tables(table_frame, list(outcomes), labels)
    elif len(frame):
        present = set(frame["group"])
        counted = {g: w for g, w in weights.items() if g in present}
        # Only groups weighted 0 voted: nothing counts (the engine refuses to divide by 0), so the
        # round shows "no votes were counted" rather than failing every page that shows it.
        if sum(counted.values()) > 0 or present - set(counted):
            results = tally(frame, found.method,  # type: ignore[arg-type]
                            outcomes=list(outcomes), weights=counted,
                            combine=found.combine, rule=rule, options=options,  # type: ignore[arg-type]
                            labels=labels)
    return RoundResults(found, outcomes, names, results, tables, rule, options, weights)


def stored_document(view: RoundResults) -> dict[str, Any]:
    """What a closed round keeps: the results (every field, unrounded), the weights used and the
    wording each outcome had when counted (ties were broken on it)."""
    return {**stored.to_json(view.results, view.tables), "weights": view.weights, "labels": view.labels}


def round_results(db: Session, session_id: int, round_id: int) -> RoundResults:
    """A round's results: for a closed round, the results stored when it closed (counted once;
    nothing after the close can change them). A round closed before results were stored, or one
    still open (nobody is shown those), is counted now."""
    found = get_round(db, session_id, round_id)
    if found.status != RoundStatus.closed or not found.results_json:
        return count_round(db, found)
    session = db.get(WorkshopSession, found.session_id)
    assert session is not None
    document = json.loads(found.results_json)
    results, tables = stored.from_json(document)
    names = {g.key: g.name for g in list_stakeholder_groups(db, session.population_group_id)}
    return RoundResults(found, {str(o.id): o for o in round_outcomes(db, round_id)}, names, results, tables,
                        ConsensusRule.from_dict(json.loads(found.rule_json)),
                        parse_options(found.options_json)[0],
                        {k: float(v) for k, v in document.get("weights", {}).items()})
