"""Reads for pooled rounds: one round run in several of a panel's sessions (models.PanelRound).

The pooled count is the ordinary count (queries.rounds.count_round and the engine) over every
member round's ballots, with the first member round's settings; there is no second counting path.
Only who a ballot belongs to changes: a ballot whose participant was matched to a panellist is
keyed ``pl:<panellist id>``, so one person is one voter however many sessions they took part in.

**One person, counted once.** When one person has counted ballots in two or more member rounds
(or two matched participants in one), the ballot updated most recently is the one counted, whole;
the others are left out of the pooled figures (they stay in their own session's results). Ties
(the same instant) go to the later member round, then the later ballot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from codesign.errors import NotFound
from codesign.models import Ballot, Panel, PanelRound, Participant, Round, RoundStatus, WorkshopSession
from codesign.queries.ballot_frames import ballots_frame_for_rounds
from codesign.queries.rounds import RoundResults, count_round, round_results
from codesign.voting import stored
from codesign.voting.order import split_options

__all__ = [
    "BreakdownRow",
    "PooledView",
    "breakdown",
    "count_pooled",
    "counting_settings",
    "differences",
    "get_panel_round",
    "member_rounds",
    "pooled_frame",
    "pooled_view",
    "settings_differences",
]

# What must be the same for rounds to be pooled: everything the count depends on. The rule's
# smallest group shown is left out (it only hides small groups, and may be set as each round opens).
SETTING_NAMES = {"method": "method", "combine": "way of combining groups", "options": "method options",
                 "rule": "consensus rule", "outcomes": "outcomes", "table_based": "voting by tables",
                 "weights": "group weights"}


def get_panel_round(db: Session, panel_id: int, panel_round_id: int) -> PanelRound:
    found = db.get(PanelRound, panel_round_id)
    if found is None or found.panel_id != panel_id:
        raise NotFound("No such pooled round on this panel")
    return found


def member_rounds(db: Session, panel_round_id: int) -> list[Round]:
    """The member rounds, oldest first (the first one's settings are the pooled round's)."""
    return list(db.exec(select(Round).where(Round.panel_round_id == panel_round_id).order_by(col(Round.id))
                        .execution_options(populate_existing=True)))


def counting_settings(db: Session, found: Round, *, weights: bool = False) -> dict[str, Any]:
    """The settings a count depends on, comparable between rounds. `weights`: with the group
    weights locked when each round opened (a draft has none yet, so linking drafts leaves them out)."""
    from codesign.queries.rounds import round_outcomes

    rule = json.loads(found.rule_json or "{}")
    rule.pop("min_group_size", None)
    return {"method": found.method, "combine": found.combine,
            "options": split_options(json.loads(found.options_json or "{}"))[0], "rule": rule,
            "outcomes": sorted(o.id or 0 for o in round_outcomes(db, found.id or 0)),
            "table_based": found.table_based,
            **({"weights": json.loads(found.weights_json or "{}")} if weights else {})}


def differences(first: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """The names (in words) of the settings that differ."""
    return [label for key, label in SETTING_NAMES.items() if first.get(key) != other.get(key)]


def settings_differences(db: Session, rounds: Sequence[Round]) -> dict[int, list[str]]:
    """For each round after the first whose settings differ from the first's: what differs (the
    group weights too once every round has opened: the weights were changed between openings)."""
    if not rounds:
        return {}
    opened = all(r.status != RoundStatus.draft for r in rounds)
    first = counting_settings(db, rounds[0], weights=opened)
    found: dict[int, list[str]] = {}
    for r in rounds[1:]:
        diff = differences(first, counting_settings(db, r, weights=opened))
        if diff:
            found[r.id or 0] = diff
    return found


def pooled_frame(db: Session, members: Sequence[Round]) -> tuple[pd.DataFrame, dict[int, int]]:
    """Every member round's counted ballots in the engine's format, one ballot per person (see the
    module's docstring), and how many ballots each member round gave to the pool.

    One read of every member round's answers (queries.ballot_frames), keyed by person: 20,000
    people's 1.6 million answers stay integer codes, never strings."""
    ids = [r.id or 0 for r in members]
    if not ids:
        return pd.DataFrame(columns=["participant", "group", "outcome", "value"]), {}
    # Oldest first (ties: the earlier round, then the earlier ballot), so the last one seen of a
    # person's is the one kept; ordered by the database, so no timestamp is converted in Python.
    rows = db.connection().execute(
        sa_select(col(Ballot.round_id), col(Ballot.voter_key), col(Ballot.id), col(Participant.panellist_id))
        .outerjoin(Participant, col(Participant.id) == col(Ballot.participant_id))
        .where(col(Ballot.round_id).in_(ids))
        .order_by(col(Ballot.updated_at), col(Ballot.round_id), col(Ballot.id))).all()
    person = {(r, v): (f"pl:{pl}" if pl is not None else v) for r, v, _b, pl in rows}
    frame = ballots_frame_for_rounds(db, members, voter_key=lambda r, key: person[(r.id or 0, key)],
                                     with_ballot=True)
    # An unsent ranking or points draft is no ballot (it is not in the frame): it never displaces one.
    answered = frame["ballot"].to_numpy()
    # Each ballot's answers come together (queries.ballot_frames): one id per run, no sort.
    counted = set(answered[np.flatnonzero(np.diff(answered, prepend=-1))].tolist())
    latest: dict[str, tuple[int, int]] = {}  # person: (round, ballot) kept
    for round_id, voter, ballot_id, _pl in rows:
        if ballot_id is not None and ballot_id in counted:
            latest[person[(round_id, voter)]] = (round_id, ballot_id)
    kept = np.array(sorted(b for _r, b in latest.values()), dtype=np.int64)
    # Usually everyone has one ballot: then nothing is left out and 1.6 million rows are not copied.
    pooled = frame if len(kept) == len(counted) else frame[np.isin(answered, kept, kind="table")]
    given = {r: 0 for r in ids}
    for round_id, _b in latest.values():
        given[round_id] += 1
    return pooled.drop(columns=["round", "ballot"]).reset_index(drop=True), given


def count_pooled(db: Session, members: Sequence[Round],
                 wording: Mapping[str, str] | None = None) -> tuple[RoundResults, dict[int, int]]:
    """Count the pooled round now, with the first member round's settings and weights."""
    frame, given = pooled_frame(db, members)
    return count_round(db, members[0], wording, frame=frame), given


@dataclass(frozen=True)
class MemberView:
    round: Round
    session: WorkshopSession
    results: RoundResults  # the member round's own results (its stored ones once closed)
    pooled_ballots: int | None  # ballots it gave to the pool (None until counted)


@dataclass(frozen=True)
class PooledView:
    panel: Panel
    panel_round: PanelRound
    members: list[MemberView]
    pooled: RoundResults | None  # None until every member round has closed and it was counted
    differences: dict[int, list[str]]

    @property
    def waiting(self) -> list[MemberView]:
        return [m for m in self.members if m.round.status != RoundStatus.closed]


@dataclass(frozen=True)
class BreakdownRow:
    statement: str
    place: int  # in the pooled results
    places: list[int | None]  # in each member round's own results, in member order (None: not counted)


def breakdown(view: PooledView) -> list[BreakdownRow]:
    """Each outcome's place in the pooled results beside its place in each session's own results."""
    if view.pooled is None or view.pooled.results is None:
        return []
    own = [{o.outcome: o.rank for o in m.results.results.outcomes}
           if m.round.status == RoundStatus.closed and m.results.results is not None else {} for m in view.members]
    labels = view.pooled.labels
    return [BreakdownRow(labels.get(o.outcome, o.outcome), o.rank, [ranks.get(o.outcome) for ranks in own])
            for o in view.pooled.results.outcomes]


def pooled_view(db: Session, panel_id: int, panel_round_id: int) -> PooledView:
    """The pooled round's page: its stored pooled results and each member round's own."""
    found = get_panel_round(db, panel_id, panel_round_id)
    panel = db.get(Panel, panel_id)
    assert panel is not None
    members = member_rounds(db, panel_round_id)
    document = json.loads(found.results_json) if found.results_json else None
    given = {int(k): int(v) for k, v in (document or {}).get("pooled_ballots", {}).items()}
    views = []
    for r in members:
        session = db.get(WorkshopSession, r.session_id)
        assert session is not None
        views.append(MemberView(r, session, round_results(db, r.session_id, r.id or 0),
                                given.get(r.id or 0) if document else None))
    pooled = _stored(db, members, document)
    return PooledView(panel, found, views, pooled, settings_differences(db, members))


def _stored(db: Session, members: Sequence[Round], document: Mapping[str, Any] | None) -> RoundResults | None:
    """The pooled results kept when the last member round closed, read as a round's are."""
    if document is None or not members:
        return None
    first = members[0]
    view = count_round(db, first, frame=pd.DataFrame(columns=["participant", "group", "outcome", "value"]))
    results, tables = stored.from_json(document)
    return RoundResults(first, view.outcomes, view.group_names, results, tables, view.rule, view.options,
                        {k: float(v) for k, v in document.get("weights", {}).items()})


def stored_pooled_results(db: Session, panel_round_id: int) -> RoundResults | None:
    """A pooled round's stored results, or None until every member round has closed and it was counted."""
    found = db.get(PanelRound, panel_round_id)
    if found is None or not found.results_json:
        return None
    return _stored(db, member_rounds(db, panel_round_id), json.loads(found.results_json))
