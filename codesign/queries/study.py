"""A panel's study, round by round: who took part, who stayed, and how stable the results are.

A study round is a list of member rounds: a round run in one session is a list of one; a pooled
round (`PanelRound`, the same round run in several sessions and online) lists every session's
round. So pooled rounds plug in without a second code path. Rounds never opened are left out.
Study rounds are in the order they first opened.

A person is keyed by their panellist when their participant names one (the same person across
sessions, counted once), else by their participant. Invited: for an online session, the panel's
panellists (each in their group) added before the round closed; in a room, whoever joined (and is
still in the room). Started and finished follow the console's one definition
(`queries.progress.person_state`). Results are the stored ones where a round (or a pooled round)
has them, else counted now (`queries.rounds.count_round`, through `round_results`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from codesign.errors import NotFound
from codesign.models import (
    Ballot,
    BallotAnswer,
    Panel,
    Panellist,
    PanelRound,
    Participant,
    PopulationGroup,
    Round,
    RoundStatus,
    StakeholderGroup,
    WorkshopSession,
)
from codesign.models.panels import SessionMode
from codesign.queries.basic import list_stakeholder_groups
from codesign.queries.progress import person_state, round_ballots
from codesign.queries.rounds import round_outcomes, round_results
from codesign.voting import Results, stored
from codesign.voting.attrition import OutcomeAttrition, RoundParticipation, RoundPeople, attrition_bias, participation
from codesign.voting.stability import Stability, compare_study
from codesign.voting.types import ConsensusRule

__all__ = ["StudyRound", "StudyView", "get_study", "list_group_panels", "person_key"]


@dataclass(frozen=True)
class StudyRound:
    number: int  # 1, 2, ... in study order
    label: str  # "Round 1: Priorities" (a pooled round: its title; one session's: with the session)
    members: list[Round]
    panel_round: PanelRound | None
    method: str
    open: bool  # a member round is still open: its figures may still change
    results: Results | None
    people: RoundPeople


@dataclass(frozen=True)
class StudyView:
    panel: Panel
    group: PopulationGroup
    stakeholders: list[StakeholderGroup]
    outcomes: dict[str, str]  # outcome id (text) -> wording
    rounds: list[StudyRound]
    participation: list[RoundParticipation]
    attrition: list[OutcomeAttrition]  # empty without two rounds or a rating round 1
    stability: list[Stability]  # one per pair of consecutive rounds
    min_group_size: int

    @property
    def group_names(self) -> dict[str, str]:
        return {g.key: g.name for g in self.stakeholders}

    @property
    def flagged(self) -> list[OutcomeAttrition]:
        return [a for a in self.attrition if a.flagged]


def person_key(participant: Participant) -> str:
    return f"pl:{participant.panellist_id}" if participant.panellist_id else f"p:{participant.id}"


def list_group_panels(db: Session, population_group_id: int) -> list[Panel]:
    return list(db.exec(select(Panel).where(Panel.population_group_id == population_group_id)
                        .order_by(col(Panel.id))))


def _members(db: Session, panel_id: int) -> list[tuple[PanelRound | None, list[Round]]]:
    """The panel's opened rounds grouped into study rounds, in the order they first opened."""
    session_ids = list(db.exec(select(WorkshopSession.id).where(WorkshopSession.panel_id == panel_id)))
    if not session_ids:
        return []
    found = db.exec(select(Round).where(col(Round.session_id).in_(session_ids), Round.status != RoundStatus.draft)
                    .order_by(col(Round.id))).all()
    grouped: dict[str, list[Round]] = defaultdict(list)
    for r in found:
        grouped[f"pr:{r.panel_round_id}" if r.panel_round_id else f"r:{r.id}"].append(r)
    far = datetime.max

    def first_opened(rounds: list[Round]) -> tuple[datetime, int]:
        opened = [r.opened_at.replace(tzinfo=None) for r in rounds if r.opened_at is not None]
        return (min(opened) if opened else far, min(r.id or 0 for r in rounds))

    out = []
    for key, rounds in sorted(grouped.items(), key=lambda item: first_opened(item[1])):
        pooled = db.get(PanelRound, int(key[3:])) if key.startswith("pr:") else None
        out.append((pooled, rounds))
    return out


def _results(db: Session, pooled: PanelRound | None, members: list[Round]) -> Results | None:
    if pooled is not None and pooled.results_json:
        return stored.from_json(json.loads(pooled.results_json))[0]
    if pooled is not None and len(members) > 1:
        return None  # pooled results are counted once every member has closed
    return round_results(db, members[0].session_id, members[0].id or 0).results


def _people(db: Session, members: list[Round], label: str, panellists: list[Panellist],
            group_keys: dict[int, str]) -> RoundPeople:
    groups: dict[str, str] = {}
    invited: set[str] = set()
    started: set[str] = set()
    finished: set[str] = set()
    for member in members:
        session = db.get(WorkshopSession, member.session_id)
        assert session is not None
        if session.mode == SessionMode.online:
            closed = member.closed_at.replace(tzinfo=None) if member.closed_at else None
            for p in panellists:
                if closed is None or p.created_at.replace(tzinfo=None) <= closed:
                    invited.add(f"pl:{p.id}")
                    groups[f"pl:{p.id}"] = group_keys.get(p.stakeholder_group_id, "?")
        read = round_ballots(db, member)
        people = db.exec(select(Participant).where(Participant.session_id == member.session_id,
                                                   col(Participant.removed_at).is_(None),
                                                   col(Participant.merged_into_id).is_(None))).all()
        for person in people:
            key = person_key(person)
            groups.setdefault(key, group_keys.get(person.stakeholder_group_id, "?"))
            if session.mode != SessionMode.online:
                invited.add(key)
            state = person_state(read, person)
            if state != "not started":
                started.add(key)
            if state == "finished":
                finished.add(key)
    return RoundPeople(label, groups, frozenset(invited), frozenset(started), frozenset(finished))


def _first_scores(db: Session, members: list[Round]) -> dict[str, dict[str, int | None]]:
    """Round-1 ratings by person: outcome id (text) -> score (None: unable to score)."""
    scores: dict[str, dict[str, int | None]] = {}
    ids = [m.id for m in members]
    rows = db.exec(select(Participant, BallotAnswer.outcome_id, BallotAnswer.value)
                   .join(Ballot, col(Ballot.participant_id) == col(Participant.id))
                   .join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id))
                   .where(col(Ballot.round_id).in_(ids)).order_by(col(Ballot.updated_at), col(Ballot.id))).all()
    for person, outcome_id, value in rows:
        if person.removed_at is None and person.merged_into_id is None:
            scores.setdefault(person_key(person), {})[str(outcome_id)] = value
    return scores


def get_study(db: Session, panel_id: int) -> StudyView:
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    group = db.get(PopulationGroup, panel.population_group_id)
    assert group is not None
    stakeholders = list_stakeholder_groups(db, panel.population_group_id)
    group_keys = {g.id or 0: g.key for g in stakeholders}
    panellists = list(db.exec(select(Panellist).where(Panellist.panel_id == panel_id)))
    rounds: list[StudyRound] = []
    for number, (pooled, members) in enumerate(_members(db, panel_id), start=1):
        session = db.get(WorkshopSession, members[0].session_id)
        label = f"Round {number}: {pooled.title}" if pooled is not None else (
            f"Round {number}: {members[0].title} ({session.title if session else ''})")
        rounds.append(StudyRound(number, label, members, pooled, members[0].method,
                                 any(m.status == RoundStatus.open for m in members),
                                 _results(db, pooled, members), _people(db, members, label, panellists, group_keys)))
    outcomes: dict[str, str] = {}
    for r in rounds:
        for m in r.members:
            outcomes.update({str(o.id): o.statement for o in round_outcomes(db, m.id or 0)})
    attrition: list[OutcomeAttrition] = []
    if len(rounds) >= 2 and rounds[0].method == "rating":
        first = _first_scores(db, rounds[0].members)
        order = [o.outcome for o in rounds[0].results.outcomes] if rounds[0].results else sorted(outcomes)
        last = rounds[-1].people
        # Only those asked to the latest round can have left it (see voting.attrition).
        attrition = attrition_bias(first, last.finished, order, last.invited | last.started | last.finished)
    rule = ConsensusRule.from_dict(json.loads(rounds[0].members[0].rule_json)) if rounds else ConsensusRule()
    return StudyView(panel, group, stakeholders, outcomes, rounds,
                     participation([r.people for r in rounds], [g.key for g in stakeholders]), attrition,
                     compare_study([(r.label, r.results) for r in rounds]), rule.min_group_size)
