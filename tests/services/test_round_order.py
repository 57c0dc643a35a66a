"""The order a round shows its outcomes in: chosen on the form, seeded when the round opens,
recorded in the audit log, and followed by every page and the rating tap's hot path."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign import db, queries
from codesign.errors import ValidationFailed
from codesign.models import AuditEvent, Ballot, BallotAnswer, Participant, Round, RoundOutcome, User
from codesign.services import ballots, rounds, sessions
from codesign.voting.order import split_options, voter_order
from tests.round_helpers import accepted_ids, open_round, round_form

SEED = "5eed" * 16


def key() -> str:
    return uuid.uuid4().hex


def presentation(found: Round):  # type: ignore[no-untyped-def]
    return split_options(json.loads(found.options_json))[1]


def opened_events(session: Session, round_id: int) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "round.opened",
                                                      AuditEvent.object_id == round_id).order_by(col(AuditEvent.id))))


def test_rating_defaults_to_random_and_the_seed_is_drawn_at_opening(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 4)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    # No seed while a draft: it can still be edited, and nobody can be shown anything yet.
    assert presentation(draft).order == "random" and presentation(draft).seed is None
    opened = rounds.open_round(session, facilitator, workshop.id, draft.id, acknowledge_small=True)  # type: ignore[arg-type]
    seed = presentation(opened).seed
    assert seed is not None and len(seed) == 64 and int(seed, 16) >= 0
    (event,) = opened_events(session, opened.id or 0)
    details = json.loads(event.details)
    assert details["options"]["order_seed"] == seed and details["options"]["order"] == "random"
    assert "random order for each person (seed drawn and recorded)" in event.summary
    # Counting never sees the order: the method options are as before.
    assert queries.round_results(session, workshop.id, opened.id).options.budget == 10  # type: ignore[arg-type]


def test_ranking_and_points_default_to_the_facilitators_order_and_pairwise_has_none(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 4)
    for method in ("ranking", "points", "pairwise"):
        found = open_round(session, facilitator, workshop, ids, method=method, title=method)
        assert presentation(found).order == "facilitator" and presentation(found).seed is None, method
    chosen = open_round(session, facilitator, workshop, ids, method="ranking", order="random", title="r")
    assert presentation(chosen).seed is not None
    forced = open_round(session, facilitator, workshop, ids, method="pairwise", order="random", title="p")
    assert presentation(forced).order == "facilitator"  # pairs are drawn per person anyway


def test_an_unknown_order_is_refused_and_nothing_is_made(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        rounds.create_round(session, facilitator, workshop.id, round_form(accepted_ids(session, workshop, 3),
                                                                         order="alphabetical"))
    assert refused.value.errors == {"order": "Choose the order people see the outcomes in"}
    assert session.exec(select(Round)).all() == []


def test_the_facilitators_order_is_the_arrangement_on_the_form(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    a, b, c, d = accepted_ids(session, workshop, 4)
    found = rounds.create_round(session, facilitator, workshop.id, round_form(
        [a, c, d], order="facilitator", arrangement=f"{d},{b},{a},{c}"))
    positions = session.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == found.id)
                             .order_by(col(RoundOutcome.position))).all()
    assert list(positions) == [d, a, c]  # b was listed but not ticked


def test_move_outcome_swaps_neighbours_and_keeps_focus_where_it_can() -> None:
    assert rounds.move_outcome([1, 2, 3], "up:3") == ([1, 3, 2], "up:3")
    assert rounds.move_outcome([1, 3, 2], "up:3") == ([3, 1, 2], "down:3")  # at the top: focus Move down
    assert rounds.move_outcome([1, 2, 3], "down:2") == ([1, 3, 2], "up:2")
    assert rounds.move_outcome([1, 2, 3], "sideways:2") == ([1, 2, 3], None)
    assert rounds.move_outcome([1, 2, 3], "up:9") == ([1, 2, 3], None)
    assert rounds.arrange([1, 2, 3, 4], "4,x,2,99,4") == [4, 2, 1, 3]  # unknown and repeated ids ignored


def test_each_person_is_asked_in_their_own_order_on_every_path(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds.secrets, "token_hex", lambda n: SEED)
    ids = accepted_ids(session, workshop, 6)
    found = open_round(session, facilitator, workshop, ids)
    assert presentation(found).seed == SEED
    people = [sessions.join_session(session, workshop.id, "patient") for _ in range(3)]
    orders = [voter_order(ids, SEED, f"p:{p.id}") for p in people]
    assert len({tuple(o) for o in orders}) == 3  # with this seed, three different orders
    for person, order in zip(people, orders, strict=True):
        view = queries.get_participant_round(session, found, person)
        assert [o.id for o in view.outcomes] == order
        # The web's tap names the question by its place: question 3 is this person's third outcome.
        tokens = [person.token]
        saved = ballots.record_rating(session, workshop.join_code, tokens, found.id, 3, "8", key())  # type: ignore[arg-type]
        assert saved.next_position == 4
        stored = session.exec(select(BallotAnswer).join(Ballot, col(Ballot.id) == col(BallotAnswer.ballot_id))
                              .where(Ballot.participant_id == person.id)).all()
        assert [(a.outcome_id, a.value) for a in stored] == [(order[2], 8)]
        # The next unanswered after the last question is none; skipping back finds question 1.
        assert ballots.record_rating(session, workshop.join_code, tokens, found.id, 6, "5", key()).next_position is None  # type: ignore[arg-type]
        assert ballots.record_rating(session, workshop.join_code, tokens, found.id, 1, "5", key()).next_position == 2  # type: ignore[arg-type]
        assert ballots.record_rating(session, workshop.join_code, tokens, found.id, 2, "5", key()).next_position == 4  # type: ignore[arg-type]
        assert queries.get_participant_round(session, found, person).outcomes == view.outcomes  # the same on reload


def test_a_delphi_round_2_keeps_each_persons_order_and_feedback_follows_the_outcome(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds.secrets, "token_hex", lambda n: SEED)
    ids = accepted_ids(session, workshop, 5)
    first = open_round(session, facilitator, workshop, ids)
    person = sessions.join_session(session, workshop.id, "patient")
    for outcome_id, value in zip(ids, "12345", strict=True):
        ballots.answer_rating(session, first.id, person.id, outcome_id, value, key())  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    monkeypatch.setattr(rounds.secrets, "token_hex", lambda n: "other" * 8)
    second = open_round(session, facilitator, workshop, ids[1:], feedback_round_id=str(first.id), title="Round 2")
    assert presentation(second).seed == SEED  # reused, not drawn: the same order as round 1
    (event,) = opened_events(session, second.id or 0)
    assert "seed reused from round 1" in event.summary and json.loads(event.details)["order_seed_from"] == "round 1"
    before = [o.id for o in queries.get_participant_round(session, first, person).outcomes]
    view = queries.get_participant_round(session, second, person)
    assert [o.id for o in view.outcomes] == [i for i in before if i in ids[1:]]
    for outcome in view.outcomes:  # "you said" is the answer given to that outcome, wherever it is asked
        assert view.feedback[outcome.id].mine == ids.index(outcome.id) + 1  # type: ignore[index]


def test_reset_drops_the_seed_and_opening_again_draws_a_new_one(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    seed = presentation(found).seed
    rounds.reset_round(session, facilitator, workshop.id, found.id, "Started too early")  # type: ignore[arg-type]
    assert presentation(session.get_one(Round, found.id)) == presentation(found).__class__("random", None)
    again = rounds.open_round(session, facilitator, workshop.id, found.id, acknowledge_small=True)  # type: ignore[arg-type]
    assert presentation(again).seed not in (None, seed)
    assert [json.loads(e.details)["options"]["order_seed"] for e in opened_events(session, found.id or 0)] == [
        seed, presentation(again).seed]


def test_the_snapshot_and_results_leave_the_order_out(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    results = queries.round_results(session, workshop.id, found.id)  # type: ignore[arg-type]
    assert "order" not in results.options.to_dict() and "order_seed" not in results.options.to_dict()


def test_two_facilitators_opening_at_once_draw_one_seed(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    """Opening twice at once (two laptops, a double click): one seed, one "round opened" event,
    and it is the seed people's orders come from (on PostgreSQL the open takes the round's lock)."""
    made = rounds.create_round(session, facilitator, workshop.id, round_form(accepted_ids(session, workshop, 4)))
    session_id, round_id, actor_id = workshop.id, made.id, facilitator.id
    session.close()
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            with db.write_session(engine) as s:
                rounds.open_round(s, s.get_one(User, actor_id), session_id, round_id, acknowledge_small=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with db.write_session(engine) as s:
        found = s.get_one(Round, round_id)
        (event,) = opened_events(s, round_id or 0)
        seed = presentation(found).seed
        assert seed is not None and json.loads(event.details)["options"]["order_seed"] == seed
        person = sessions.join_session(s, session_id, "carer")
        participant = s.get_one(Participant, person.id)
        shown = [o.id for o in queries.get_participant_round(s, found, participant).outcomes]
        assert shown == voter_order(shown, seed, f"p:{person.id}")
