"""A populated world for the page sweeps: the demo (a finished workshop with a frozen, approved
framework version 1 and a draft version 2), plus what the demo does not show on its own: rounds open
for each voting method, and revealed rounds of 15 and 20 outcomes for the projector's paging.

Everything goes through the real services, in one write session per step (as `codesign seed-demo`
does), so seeding takes a second or two.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign import db, queries
from codesign.models import (
    FrameworkVersion,
    Outcome,
    OutcomeStatus,
    Round,
    User,
    VersionStatus,
    WorkshopSession,
)
from codesign.services import ballots, demo, people, rounds, sessions

FACILITATOR = demo.DEMO_USERS[0][0]
COMMISSIONER = demo.DEMO_USERS[1][0]
ADMIN = demo.DEMO_USERS[2][0]
PASSWORD = demo.DEMO_PASSWORD


@dataclass(frozen=True)
class World:
    code: str
    session_id: int
    group_id: int
    rating_closed: int  # demo round 1, closed and revealed
    ranking_closed: int  # demo round 3
    rating_feedback: int  # open rating round with feedback from round 1 (Delphi round 2)
    ranking_open: int
    points_open: int
    pairwise_open: int
    big_round: int  # closed, revealed, 20 outcomes: two projector screens (15 + 5)
    full_round: int  # closed, revealed, exactly 15 outcomes: one screen
    pending_outcome: int  # a proposal waiting for moderation
    frozen_version: int
    draft_version: int
    draft_item: int
    gap_item: int  # a shortlisted outcome with no routine data (a measurability gap)
    public_token: str
    draft_round: int  # not opened yet; every group in the room is under its minimum size (40)
    person: int  # Ola, a carer in the room (the people list links to her page)
    merged_outcome: int  # the demo's duplicate, merged into another (its page offers un-merge)
    other_session: int  # a second session of the group: rounds can be copied into it


def _user(s: Session, email: str) -> User:
    return s.exec(select(User).where(User.email == email)).one()


def _accepted(s: Session, group_id: int) -> list[int]:
    return [o.id for o in s.exec(select(Outcome).where(
        Outcome.population_group_id == group_id, Outcome.status == OutcomeStatus.accepted)
        .order_by(col(Outcome.id))) if o.id is not None]


def _round(s: Session, actor: User, session_id: int, outcome_ids: list[int], **form: str) -> int:
    """A round open for voting over the outcomes, with the usual options unless `form` says otherwise."""
    made = rounds.create_round(s, actor, session_id, {
        "title": "Round", "method": "rating", "combine": "weighted", "in_min": "70", "in_max_low": "15",
        "out_min": "70", "out_max_high": "15", "min_group_size": "5", "budget": "10", "top_k": "5",
        "max_per_outcome": "", "outcomes": ",".join(map(str, outcome_ids)), **form})
    assert made.id is not None
    rounds.open_round(s, actor, session_id, made.id, acknowledge_small=True)
    return made.id


def _rated_round(s: Session, actor: User, session_id: int, outcome_ids: list[int], title: str) -> int:
    """A closed, revealed rating round: two new people in each group rate every outcome (the round
    reports groups of two, so the projector shows every group)."""
    round_id = _round(s, actor, session_id, outcome_ids, title=title, min_group_size="2")
    keys = itertools.count()
    for group_index, group in enumerate(("patient", "carer", "clinician", "commissioner")):
        for person in range(2):
            voter = sessions.join_session(s, session_id, group)
            assert voter.id is not None
            for position, outcome_id in enumerate(outcome_ids):
                value = 1 + (position * 7 + person * 3 + group_index * 2) % 9
                ballots.answer_rating(s, round_id, voter.id, outcome_id, str(value),
                                      f"world-{round_id}-{next(keys):05d}")
    rounds.close_round(s, actor, session_id, round_id)
    rounds.set_revealed(s, actor, session_id, round_id, True)
    return round_id


def seed_world(engine: Engine) -> World:
    with db.write_session(engine) as s:
        info = demo.seed_demo(s)
    with db.write_session(engine) as s:
        facilitator = _user(s, FACILITATOR)
        sid, gid = info.session_id, info.population_group_id
        demo_rounds = s.exec(select(Round).where(Round.session_id == sid).order_by(col(Round.number))).all()
        rating_closed = next(r.id for r in demo_rounds if r.method == "rating" and r.feedback_round_id is None)
        ranking_closed = next(r.id for r in demo_rounds if r.method == "ranking")
        assert rating_closed is not None and ranking_closed is not None
        in_demo = list(rounds.round_outcome_ids(s, rating_closed))
        accepted = _accepted(s, gid)
        pending = s.exec(select(Outcome).where(Outcome.session_id == sid,
                                               Outcome.status == OutcomeStatus.proposed)).first()
        assert pending is not None and pending.id is not None
        five = in_demo[:5]
        rating_feedback = _round(s, facilitator, sid, five, title="Round 2: how important, now you have seen "
                                 "everyone's answers?", feedback_round_id=str(rating_closed))
        ranking_open = _round(s, facilitator, sid, five, title="Your top three", method="ranking", top_k="3")
        points_open = _round(s, facilitator, sid, five, title="Share out your dots", method="points",
                             budget="10", max_per_outcome="5")
        pairwise_open = _round(s, facilitator, sid, five, title="Which matters more?", method="pairwise")
        draft_round = rounds.create_round(s, facilitator, sid, {
            "title": "Round 4: a last look", "method": "rating", "min_group_size": "40",
            "outcomes": ",".join(map(str, five))}).id
        assert draft_round is not None
        # Someone at the back has a list they have not sent yet: the round's page counts it.
        unsent = sessions.join_session(s, sid, "carer", "Ola")
        assert unsent.id is not None
        ballots.set_draft(s, ranking_open, unsent.id, {five[0]: 1})
        # Someone removed by the facilitator: listed apart on the people page, counted nowhere.
        removed = sessions.join_session(s, sid, "patient", "Rey")
        people.remove_person(s, facilitator, sid, removed.id or 0, "Joined the wrong workshop", "keep")
        big_round = _rated_round(s, facilitator, sid, accepted[:20], "Every outcome in the library")
        full_round = _rated_round(s, facilitator, sid, accepted[:15], "Fifteen outcomes")
        merged = s.exec(select(Outcome).where(Outcome.population_group_id == gid,
                                              Outcome.status == OutcomeStatus.merged)).first()
        assert merged is not None and merged.id is not None
        merged_outcome = merged.id
        other_session = sessions.create_session(s, facilitator, gid, "Follow-up workshop, Islington", "2026-06-02").id
        assert other_session is not None
    with db.write_session(engine) as s:
        versions = s.exec(select(FrameworkVersion).where(FrameworkVersion.population_group_id == gid)
                          .order_by(col(FrameworkVersion.number))).all()
        frozen = next(v for v in versions if v.status == VersionStatus.frozen)
        draft = next(v for v in versions if v.status == VersionStatus.draft)
        assert frozen.id is not None and draft.id is not None and frozen.public_token
        items = queries.get_version_view(s, draft.id).items
        session = s.get(WorkshopSession, sid)
        assert session is not None
        return World(
            code=session.join_code, session_id=sid, group_id=gid, rating_closed=rating_closed,
            ranking_closed=ranking_closed, rating_feedback=rating_feedback, ranking_open=ranking_open,
            points_open=points_open, pairwise_open=pairwise_open, big_round=big_round, full_round=full_round,
            pending_outcome=pending.id, frozen_version=frozen.id, draft_version=draft.id,
            draft_item=items[0].item.id or 0, gap_item=next(i.item.id or 0 for i in items if i.gap),
            public_token=frozen.public_token, draft_round=draft_round, person=unsent.id,
            merged_outcome=merged_outcome, other_session=other_session)
