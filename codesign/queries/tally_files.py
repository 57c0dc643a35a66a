"""Reads for the "recount with codesign tally" downloads (export/tally_ballots.py): a closed round's
counted ballots, or a pooled round's (each person once), with what the command needs to count
them with the round's own settings. Nothing here writes.

The ballots are those the count reads (queries.rounds.ballots_frame, queries.pooled.pooled_frame),
and the outcomes are named with the wording they had when the results were counted (the stored
``labels``), since ties are broken alphabetically on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from codesign.errors import Conflict, NotFound
from codesign.models import Round, RoundStatus
from codesign.queries.pooled import get_panel_round, member_rounds, pooled_frame, stored_pooled_results
from codesign.queries.rounds import RoundResults, ballots_frame, get_round, round_results

__all__ = ["TallyFile", "pooled_tally_file", "round_tally_file"]

NOT_BY_TABLE = ("A round voted by tables is combined table by table (lowest total rank), which `codesign tally` "
                "does not do; download every answer instead.")


@dataclass(frozen=True)
class TallyFile:
    results: RoundResults  # the stored results the file reproduces
    frame: pd.DataFrame  # the counted ballots, voters by their keys (not yet pseudonyms)
    labels: dict[str, str]  # outcome id -> wording when counted
    name: str  # the file's name
    id: int  # the round's id, or the pooled round's


def _labels(results_json: str | None, results: RoundResults) -> dict[str, str]:
    stored = json.loads(results_json).get("labels") if results_json else None
    return {**results.labels, **(stored or {})}


def round_tally_file(db: Session, session_id: int, round_id: int) -> TallyFile:
    """A closed round's counted ballots (Conflict before it closes: nobody sees a running count)."""
    found = get_round(db, session_id, round_id)
    if found.status != RoundStatus.closed:
        raise Conflict("Ballots can be downloaded once the round has closed.")
    if found.table_based:
        raise Conflict(NOT_BY_TABLE)
    results = round_results(db, session_id, round_id)
    return TallyFile(results, ballots_frame(db, found), _labels(found.results_json, results),
                     f"session-{session_id}-round-{found.number}-ballots.csv", found.id or 0)


def pooled_file_name(panel_id: int, number: int) -> str:
    return f"panel-{panel_id}-pooled-round-{number}-ballots.csv"


def pooled_tally_file(db: Session, panel_id: int, panel_round_id: int) -> TallyFile:
    """A pooled round's ballots as its stored results counted them: every member round's, each
    person once (queries.pooled). Conflict until every member round has closed and it was counted."""
    found = get_panel_round(db, panel_id, panel_round_id)
    members: list[Round] = member_rounds(db, panel_round_id)
    results = stored_pooled_results(db, panel_round_id)
    if results is None or not members:
        raise Conflict("The pooled ballots can be downloaded once the round has closed in every session and "
                       "been counted.")
    if members[0].table_based:
        raise Conflict(NOT_BY_TABLE)
    if found.id is None:
        raise NotFound("No such pooled round on this panel")
    frame, given = pooled_frame(db, members)
    counted = json.loads(found.results_json or "{}").get("pooled_ballots")
    if {str(k): v for k, v in given.items()} != counted:
        # Someone was matched to a panellist, or unmatched, since the count (`codesign verify` says so
        # too): these ballots would not give the figures on the page.
        raise Conflict("People were matched to panellists, or unmatched, after this round was counted, so its "
                       "ballots no longer give the pooled results shown. Reopen and close one session's round to "
                       "count it again, then download the ballots.")
    return TallyFile(results, frame, _labels(found.results_json, results),
                     pooled_file_name(panel_id, found.number), found.id)
