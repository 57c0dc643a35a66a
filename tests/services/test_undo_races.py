"""Undo actions sent twice at once (a double click, two facilitators): each in its own transaction in
its own thread. Meaningful on PostgreSQL (tests/with_postgres.sh), where they really overlap; on
SQLite the write lock queues them and the same results must hold."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from codesign import db
from codesign.errors import Conflict
from codesign.models import Outcome, OutcomeSource, Round, User
from codesign.services import outcome_control, proposals, round_control, rounds, sessions
from tests.round_helpers import accepted_ids, round_form


def at_once(count: int, attempt: Callable[[Session], Any], engine: Engine) -> list[Any]:
    """attempt(session) in `count` threads released together; each result or the exception raised."""
    return all_at_once([attempt] * count, engine)


def all_at_once(attempts: list[Callable[[Session], Any]], engine: Engine) -> list[Any]:
    """Each attempt in its own thread and transaction, released together; results or exceptions."""
    start = threading.Barrier(len(attempts))
    results: list[Any] = [None] * len(attempts)

    def run(n: int) -> None:
        start.wait(30)
        try:
            with db.write_session(engine) as s:
                results[n] = attempts[n](s)
        except Exception as exc:  # reported by the assertions
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(attempts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_copies_made_at_once_get_their_own_numbers(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    found = rounds.create_round(session, facilitator, workshop.id, round_form(accepted_ids(session, workshop, 3)))
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Workshop two", "2026-04-01")
    source_session, round_id, target, user_id = workshop.id, found.id, str(other.id), facilitator.id
    session.close()

    def copy(s: Session) -> int:
        return round_control.duplicate_round(s, s.get_one(User, user_id), source_session, round_id, target).number

    numbers = at_once(6, copy, engine)
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6], numbers  # no copy lost to a duplicate number
    with Session(engine) as s:
        assert len(s.exec(select(Round).where(Round.session_id == other.id)).all()) == 6


def test_an_unmerge_sent_twice_at_once_happens_once(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    a, b = accepted_ids(session, workshop, 2)
    before = len(session.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == a)).all())
    proposals.merge_outcomes(session, facilitator, workshop.id, a, [b], "Duplicates")
    session_id, user_id = workshop.id, facilitator.id
    session.close()

    def unmerge(s: Session) -> str:
        return outcome_control.unmerge_outcome(s, s.get_one(User, user_id), session_id, b, "Not duplicates").status

    results = at_once(2, unmerge, engine)
    assert sorted(map(str, results)) == ["This outcome is not merged into another, so there is nothing to un-merge.",
                                         "accepted"], results
    assert sum(isinstance(r, Conflict) for r in results) == 1
    with Session(engine) as s:
        assert len(s.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == a)).all()) == before
        assert s.get_one(Outcome, b).status == "accepted"


def test_opening_a_draft_while_it_is_edited_or_deleted(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    """Open and edit, then open and delete, at once: whichever lands second sees the first's result
    (the round's lock), so an open round is never edited or deleted, and opening a deleted one is
    refused."""
    ids = accepted_ids(session, workshop, 3)
    edited = rounds.create_round(session, facilitator, workshop.id, round_form(ids)).id
    deleted = rounds.create_round(session, facilitator, workshop.id, round_form(ids)).id
    session_id, user_id = workshop.id, facilitator.id
    session.close()

    def opener(round_id: int) -> Callable[[Session], Any]:
        return lambda s: rounds.open_round(s, s.get_one(User, user_id), session_id, round_id,
                                           acknowledge_small=True).status

    opened, edit = all_at_once([opener(edited), lambda s: round_control.update_round(
        s, s.get_one(User, user_id), session_id, edited, round_form(ids[:2], title="Edited")).title], engine)
    assert opened == "open" and (edit == "Edited" or isinstance(edit, Conflict)), (opened, edit)
    with Session(engine) as s:
        found = s.get_one(Round, edited)
        # Edited first and opened as edited, or opened first and left as it was.
        expected = ("Edited", 2) if edit == "Edited" else (round_form(ids)["title"], 3)
        assert (found.status, found.title, len(rounds.round_outcome_ids(s, edited))) == ("open", *expected)

    opened, gone = all_at_once([opener(deleted), lambda s: round_control.delete_round(
        s, s.get_one(User, user_id), session_id, deleted)], engine)
    with Session(engine) as s:
        if opened == "open":  # opened first: the delete was refused
            assert isinstance(gone, Conflict) and s.get_one(Round, deleted).status == "open"
        else:  # deleted first: opening found no round
            assert gone == session_id and type(opened).__name__ == "NotFound" and s.get(Round, deleted) is None


def test_reopening_a_round_while_its_feedback_round_opens(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    """Never both: either the reopen wins (and the feedback round waits for the close) or the
    feedback round opens (and the reopen is refused, its voters having seen these results)."""
    ids = accepted_ids(session, workshop, 2)
    first = rounds.create_round(session, facilitator, workshop.id, round_form(ids)).id
    rounds.open_round(session, facilitator, workshop.id, first, acknowledge_small=True)  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, first)  # type: ignore[arg-type]
    second = rounds.create_round(session, facilitator, workshop.id, round_form(ids, feedback_round_id=str(first))).id
    session_id, user_id = workshop.id, facilitator.id
    session.close()
    seen = set()
    for _attempt in range(4):
        reopened, opened = all_at_once([
            lambda s: round_control.reopen_round(s, s.get_one(User, user_id), session_id, first, "Late").status,
            lambda s: rounds.open_round(s, s.get_one(User, user_id), session_id, second,
                                        acknowledge_small=True).status], engine)
        assert [reopened, opened].count("open") == 1, (reopened, opened)
        assert isinstance(opened if reopened == "open" else reopened, Conflict)
        seen.add(reopened == "open")
        with db.write_session(engine) as s:  # back to the start: round 1 closed, round 2 a draft
            actor = s.get_one(User, user_id)
            if reopened == "open":
                rounds.close_round(s, actor, session_id, first)
            else:
                rounds.reset_round(s, actor, session_id, second, "Try again")
    assert seen  # which one wins is up to the scheduler; both outcomes are checked above
