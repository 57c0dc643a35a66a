"""A panel with sessions, a pooled rating round and people voting in it (shared by the panel tests)."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from codesign.models import (
    Ballot,
    BallotAnswer,
    Panel,
    Panellist,
    Participant,
    Round,
    StakeholderGroup,
    User,
    WorkshopSession,
)
from codesign.services import ballots, panel_people, panels, pooled, rounds
from tests.round_helpers import accepted_ids, round_form


@dataclass
class Study:
    panel: Panel
    sessions: list[WorkshopSession]  # two in a room, then one online
    rounds: list[Round]  # the pooled round's member in each session, in the same order
    outcomes: list[int]
    people: list[Panellist] = field(default_factory=list)

    @property
    def panel_round_id(self) -> int:
        assert self.rounds[0].panel_round_id is not None
        return self.rounds[0].panel_round_id


def make_study(db: Session, actor: User, workshop: WorkshopSession, n_outcomes: int = 4, **form: str) -> Study:
    """A panel holding `workshop`, a second room session and an online session, and a rating
    round created in the first and run in the other two ("run this round in other sessions too").
    `form`: fields of the new-round form other than round_form's."""
    panel = panels.create_panel(db, actor, workshop.population_group_id, "Diabetes study 2027")
    assert panel.id is not None and workshop.id is not None
    panel_people.attach_session(db, actor, panel.id, str(workshop.id))
    second = panel_people.create_panel_session(db, actor, panel.id, "Workshop two", "2026-04-02", "room")
    online = panel_people.create_panel_session(db, actor, panel.id, "Online round", "", "online")
    outcomes = accepted_ids(db, workshop, n_outcomes)
    first = rounds.create_round(db, actor, workshop.id, round_form(outcomes, **form))
    assert first.id is not None
    pooled.run_in_sessions(db, actor, workshop.id, first.id, [str(second.id), str(online.id)])
    members = list(db.exec(select(Round).where(Round.panel_round_id == db.get(Round, first.id).panel_round_id)
                           .order_by(col(Round.id))))
    assert [m.session_id for m in members] == [workshop.id, second.id, online.id]
    return Study(panel, [workshop, second, online], members, outcomes)


def open_all(db: Session, actor: User, study: Study) -> None:
    for r in study.rounds:
        assert r.id is not None
        rounds.open_round(db, actor, r.session_id, r.id, acknowledge_small=True)


def person_in(db: Session, session: WorkshopSession, group: str, panellist: Panellist | None = None) -> Participant:
    """A participant as joining makes one (or, online, as a personal link will: named by panellist)."""
    found = db.exec(select(StakeholderGroup).where(StakeholderGroup.population_group_id ==
                                                   session.population_group_id, StakeholderGroup.key == group)).one()
    assert found.id is not None and session.id is not None
    made = Participant(session_id=session.id, stakeholder_group_id=found.id, token=secrets.token_urlsafe(16),
                       panellist_id=None if panellist is None else panellist.id)
    db.add(made)
    db.commit()
    db.refresh(made)
    return made


def rate(db: Session, found: Round, person: Participant, outcomes: list[int], values: list[str]) -> None:
    assert found.id is not None and person.id is not None
    for outcome, value in zip(outcomes, values, strict=True):
        ballots.answer_rating(db, found.id, person.id, outcome, value, secrets.token_urlsafe(12))


def tally_csv(db: Session, round_ids: list[int], voter: dict[str, str] | None = None) -> str:
    """Ballots of these rounds, straight from the rows, in `codesign tally`'s format; `voter` renames
    voter keys (one person in two sessions is one voter in the file)."""
    groups = {g.id: g.key for g in db.exec(select(StakeholderGroup))}
    rows = db.exec(select(Ballot.voter_key, Ballot.stakeholder_group_id, BallotAnswer.outcome_id, BallotAnswer.value)
                   .join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id))
                   .where(col(Ballot.round_id).in_(round_ids))).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["participant", "group", "outcome", "value"])
    for key, group, outcome, value in rows:
        writer.writerow([(voter or {}).get(key, key), groups[group], outcome, "U" if value is None else value])
    return out.getvalue()
