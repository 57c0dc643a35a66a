"""A closed round never changes; closing a session closes it; a key answers one question; a stale
table list never overwrites; "finished" is recorded; every ballot goes through one write path."""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from codesign import db, queries
from codesign.errors import Conflict, ValidationFailed
from codesign.export.canonical import canonical_json
from codesign.models import Ballot, BallotAnswer, BallotSubmission, Outcome, Round, SessionStatus, User, WorkshopSession
from codesign.services import ballot_sql, ballots, proposals, rounds, sessions
from tests.round_helpers import accepted_ids, open_round


def key() -> str:
    return uuid.uuid4().hex


def answer_count(session: Session) -> int:
    return len(session.exec(select(BallotAnswer)).all())


# ---- item 2: closing a session closes it ------------------------------------------------------


def test_after_close_session_nothing_is_accepted_and_open_rounds_are_counted(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 4)
    rating = open_round(session, facilitator, workshop, ids)
    ranking = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")
    pairwise = open_round(session, facilitator, workshop, ids, method="pairwise")
    person = sessions.join_session(session, workshop.id, "patient")
    ballots.answer_rating(session, rating.id, person.id, ids[0], "8", "before-close-1")  # type: ignore[arg-type]
    before = answer_count(session)

    rounds.close_session(session, facilitator, workshop.id)  # type: ignore[arg-type]
    assert session.get_one(WorkshopSession, workshop.id).status == SessionStatus.closed
    for found in (rating, ranking, pairwise):
        closed = session.get_one(Round, found.id)
        assert closed.status == "closed" and closed.results_json is not None  # counted and kept
    with pytest.raises(Conflict):
        ballots.answer_rating(session, rating.id, person.id, ids[1], "5", key())  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        ballots.set_draft(session, ranking.id, person.id, {ids[0]: 1})  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        ballots.answer_pair(session, pairwise.id, person.id, ids[0], ids[1], "left", key())  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        proposals.propose_outcome(session, workshop.id, person.id, "A late idea")  # type: ignore[arg-type]
    assert answer_count(session) == before
    assert session.exec(select(Outcome).where(Outcome.statement == "A late idea")).first() is None
    # A retry of an answer that arrived before the close is still "saved", not refused.
    assert ballots.answer_rating(session, rating.id, person.id, ids[0], "8", "before-close-1").repeated  # type: ignore[arg-type]


def test_an_open_round_in_a_closed_session_refuses_votes(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    """Belt and braces: even a round left open (a session closed before this release) takes nothing."""
    ids = accepted_ids(session, workshop, 2)
    rating = open_round(session, facilitator, workshop, ids)
    person = sessions.join_session(session, workshop.id, "carer")
    sessions.set_session_status(session, facilitator, workshop.id, SessionStatus.closed)  # the bare status
    with pytest.raises(Conflict, match="session has closed"):
        ballots.answer_rating(session, rating.id, person.id, ids[0], "7", key())  # type: ignore[arg-type]
    assert answer_count(session) == 0
    with pytest.raises(Conflict, match="session has closed"):
        rounds.open_round(session, facilitator, workshop.id,  # type: ignore[arg-type]
                          rounds.create_round(session, facilitator, workshop.id, {  # type: ignore[arg-type]
                              "title": "T", "method": "rating", "outcomes": ",".join(map(str, ids))}).id,
                          acknowledge_small=True)


# ---- item 8: one tap answers one question -------------------------------------------------------


def test_a_key_answers_one_question_for_one_participant(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    rating = open_round(session, facilitator, workshop, ids)
    amara = sessions.join_session(session, workshop.id, "patient", "Amara")
    ben = sessions.join_session(session, workshop.id, "carer", "Ben")
    first = ballots.answer_rating(session, rating.id, amara.id, ids[0], "8", "tap-key-0001")  # type: ignore[arg-type]
    assert not first.repeated
    assert ballots.answer_rating(session, rating.id, amara.id, ids[0], "8", "tap-key-0001").repeated  # type: ignore[arg-type]
    # The same key for the next question (a fast double tap), or from someone else: refused, not "saved".
    with pytest.raises(ValidationFailed, match="out of date"):
        ballots.answer_rating(session, rating.id, amara.id, ids[1], "8", "tap-key-0001")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="out of date"):
        ballots.answer_rating(session, rating.id, ben.id, ids[0], "3", "tap-key-0001")  # type: ignore[arg-type]
    # (Amara's own order decides which question is ids[1]: the key must land on another outcome.)
    place = [o.id for o in queries.get_participant_round(session, rating, amara).outcomes].index(ids[1]) + 1
    with pytest.raises(ValidationFailed, match="out of date"):
        ballots.record_rating(session, workshop.join_code, [amara.token], rating.id, place, "5", "tap-key-0001")  # type: ignore[arg-type]
    stored = {(a.outcome_id, a.value) for a in session.exec(select(BallotAnswer))}
    assert stored == {(ids[0], 8)}
    submission = session.exec(select(BallotSubmission)).one()
    assert (submission.participant_id, submission.question) == (amara.id, f"o:{ids[0]}")


# ---- item 6: table rounds never overwrite silently ------------------------------------------------


def test_a_stale_table_list_is_refused_with_the_list_as_it_is(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    a, b, c = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, [a, b, c], method="ranking", table_based="yes")
    left = sessions.join_session(session, workshop.id, "patient", "", "3")
    right = sessions.join_session(session, workshop.id, "clinician", "", "3")
    seen = queries.get_participant_round(session, found, right).draft_version  # both tablets show the empty list
    ballots.set_draft(session, found.id, left.id, {a: 1},  # type: ignore[arg-type]
                      queries.get_participant_round(session, found, left).draft_version)
    with pytest.raises(ballots.StaleDraft, match="Table 3’s list changed on another tablet"):
        ballots.set_draft(session, found.id, right.id, {b: 1}, seen)  # type: ignore[arg-type]
    with pytest.raises(ballots.StaleDraft):
        ballots.submit_draft(session, found.id, right.id, key(), seen)  # type: ignore[arg-type]
    now = queries.get_participant_round(session, found, right)
    assert now.draft == {a: 1} and not now.submitted
    # From the list as it is now, the change goes in.
    ballots.set_draft(session, found.id, right.id, {a: 1, b: 2}, now.draft_version)  # type: ignore[arg-type]
    assert queries.get_participant_round(session, found, left).draft == {a: 1, b: 2}


# ---- items 5 and 7: finished, and lists not sent ---------------------------------------------------


def test_finished_means_every_question_or_i_have_finished(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    rating = open_round(session, facilitator, workshop, ids)
    amara = sessions.join_session(session, workshop.id, "patient", "Amara", "2")
    nameless = sessions.join_session(session, workshop.id, "carer")
    ballots.answer_rating(session, rating.id, amara.id, ids[0], "8", key())  # type: ignore[arg-type]
    progress = queries.round_progress(session, rating)
    patients = progress.groups[0]
    assert (patients.joined, patients.started, patients.finished) == (1, 1, 0)
    assert [(w.label, w.group, w.table, w.started) for w in progress.waiting] == [
        ("Amara", "Patients", 2, True), (f"Participant {nameless.number}", "Carers", None, False)]
    ballots.answer_rating(session, rating.id, amara.id, ids[1], "unable", key())  # type: ignore[arg-type]
    ballots.finish(session, rating.id, nameless.id, key())  # type: ignore[arg-type]  # skips both questions
    progress = queries.round_progress(session, rating)
    assert [g.finished for g in progress.groups[:2]] == [1, 1] and progress.waiting == []


def test_close_warns_about_lists_not_sent_then_closes_anyway(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    a, b, c = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, [a, b, c], method="ranking", top_k="3")
    sent = sessions.join_session(session, workshop.id, "patient")
    unsent = sessions.join_session(session, workshop.id, "patient")
    ballots.set_draft(session, found.id, sent.id, {a: 1, b: 2})  # type: ignore[arg-type]
    ballots.submit_draft(session, found.id, sent.id, key())  # type: ignore[arg-type]
    ballots.set_draft(session, found.id, unsent.id, {c: 1})  # type: ignore[arg-type]
    assert queries.count_unsent(session, found) == 1
    with pytest.raises(rounds.UnsentLists) as warned:
        rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    assert warned.value.count == 1 and session.get_one(Round, found.id).status == "open"
    with pytest.raises(rounds.UnsentLists):
        rounds.close_session(session, facilitator, workshop.id)  # type: ignore[arg-type]
    assert session.get_one(WorkshopSession, workshop.id).status == "open"
    rounds.close_round(session, facilitator, workshop.id, found.id, confirm_unsent=True)  # type: ignore[arg-type]
    view = queries.round_results(session, workshop.id, found.id)  # type: ignore[arg-type]
    assert view.results is not None and {g: i.n for g, i in view.results.groups.items()} == {"patient": 1}


# ---- item 17: a closed round never changes ---------------------------------------------------------


def stored_equals_recount(session: Session, round_id: int) -> bool:
    found = session.get_one(Round, round_id)
    recount = canonical_json(queries.stored_document(queries.count_round(session, found))).decode()
    return found.results_json == recount


def test_results_are_stored_at_close_and_read_from_there(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    for value in ("9", "8", "2"):
        person = sessions.join_session(session, workshop.id, "patient")
        ballots.answer_rating(session, found.id, person.id, ids[0], value, key())  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    assert stored_equals_recount(session, found.id)  # type: ignore[arg-type]
    before = queries.round_results(session, workshop.id, found.id)  # type: ignore[arg-type]
    # Readers use what was stored: a ballot changed behind the app's back does not move the results
    # (codesign verify reports the difference).
    session.connection().execute(text("UPDATE ballot_answer SET value = 1"))
    session.commit()
    after = queries.round_results(session, workshop.id, found.id)  # type: ignore[arg-type]
    assert after.results == before.results and not stored_equals_recount(session, found.id)  # type: ignore[arg-type]
    rounds.reset_round(session, facilitator, workshop.id, found.id, "Started again")  # type: ignore[arg-type]
    reset = session.get_one(Round, found.id)
    assert reset.results_json is None and reset.results_sha256 is None and reset.counted_at is None


def _waiting_on_a_lock(engine: Engine, closer: threading.Thread) -> bool:
    """Whether another connection waits for a row lock (PostgreSQL), polled while `closer` runs."""
    with engine.connect() as conn:
        while closer.is_alive():
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))
            if waiting.scalar_one():
                return True
            conn.commit()
    return False


def test_close_waits_for_a_vote_in_flight_and_no_vote_lands_after(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = accepted_ids(session, workshop, 2)
    round_id = open_round(session, facilitator, workshop, ids).id
    early, late = (sessions.join_session(session, workshop.id, "patient").id for _ in range(2))
    # The in-flight vote is a second answer on an existing ballot: it inserts no row that refers
    # to the round, so only the round's share lock can make the close wait for it.
    ballots.answer_rating(session, round_id, early, ids[1], "5", "first-answer-01")  # type: ignore[arg-type]
    session_id, user_id = workshop.id, facilitator.id
    session.close()
    inside, go = threading.Event(), threading.Event()
    real = ballot_sql.finish_if_complete

    def paused(db_session: Session, round_id: int, ballot_id: int) -> None:
        real(db_session, round_id, ballot_id)
        inside.set()  # the vote has read "open" and written; it has not committed yet
        assert go.wait(30)

    monkeypatch.setattr(ballot_sql, "finish_if_complete", paused)
    outcome: dict[str, object] = {}

    def vote() -> None:
        with db.write_session(engine) as s:
            outcome["vote"] = ballots.answer_rating(s, round_id, early, ids[0], "9", "in-flight-0001")  # type: ignore[arg-type]

    def close() -> None:
        with db.write_session(engine) as s:
            outcome["close"] = rounds.close_round(s, s.get_one(User, user_id), session_id, round_id)  # type: ignore[arg-type]

    voter = threading.Thread(target=vote)
    voter.start()
    assert inside.wait(30)
    closer = threading.Thread(target=close)
    closer.start()
    if engine.dialect.name == "postgresql":
        assert _waiting_on_a_lock(engine, closer), "the close did not wait for the vote in flight"
    go.set()
    voter.join(30)
    closer.join(30)
    monkeypatch.setattr(ballot_sql, "finish_if_complete", real)
    assert isinstance(outcome.get("vote"), ballots.Saved) and isinstance(outcome.get("close"), Round)
    with db.write_session(engine) as s, pytest.raises(Conflict, match="closed"):
        ballots.answer_rating(s, round_id, late, ids[0], "1", "after-close-01")  # type: ignore[arg-type]
    with Session(engine) as s:
        view = queries.round_results(s, session_id, round_id)  # type: ignore[arg-type]
        assert view.results is not None and view.results.groups["patient"].n == 1
        assert view.results.outcome(str(ids[0])).groups["patient"].n == 1  # the vote in flight counted
        assert stored_equals_recount(s, round_id)  # type: ignore[arg-type]


def test_close_while_votes_arrive_stores_what_a_recount_gives(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 5)
    round_id = open_round(session, facilitator, workshop, ids).id
    people = [sessions.join_session(session, workshop.id, g).id for g in ("patient", "carer", "clinician") * 3]
    session_id, user_id = workshop.id, facilitator.id
    session.close()
    acknowledged: list[tuple[int, int]] = []
    refused: list[tuple[int, int]] = []
    after_close_asked: Counter[int] = Counter()  # answers acknowledged once the close was asked for
    closing = threading.Event()
    start = threading.Barrier(len(people) + 1)
    lock = threading.Lock()

    def voter(person_id: int) -> None:
        """Vote on and on (each answer replacing the last) until the close refuses one."""
        start.wait()
        for n, outcome in enumerate(itertools.islice(itertools.cycle(ids), 5000)):
            try:
                with db.write_session(engine) as s:
                    ballots.answer_rating(s, round_id, person_id, outcome, str(1 + n % 9), key())  # type: ignore[arg-type]
                with lock:
                    acknowledged.append((person_id, outcome))
                    after_close_asked[person_id] += closing.is_set()
            except Conflict:
                with lock:
                    refused.append((person_id, outcome))
                return

    threads = [threading.Thread(target=voter, args=(p,)) for p in people]
    for t in threads:
        t.start()
    start.wait()
    with Session(engine) as s:
        while not s.exec(select(BallotAnswer)).first():  # close once votes are arriving
            s.rollback()
    closing.set()
    with db.write_session(engine) as s:
        rounds.close_round(s, s.get_one(User, user_id), session_id, round_id)  # type: ignore[arg-type]
    for t in threads:
        t.join(60)
    # The close is not starved by the stream of votes: once asked for, it goes ahead of the votes
    # that come after it (a row lock let nine voters keep it waiting for thousands of votes).
    assert max(after_close_asked.values(), default=0) <= 3, after_close_asked
    with Session(engine) as s:
        closed = s.get_one(Round, round_id)
        assert closed.closed_at is not None
        late = [a for a in s.exec(select(BallotAnswer)) if a.updated_at > closed.closed_at]
        assert late == []  # nothing written after the close
        stored = {(b.participant_id, a.outcome_id) for b, a in s.exec(
            select(Ballot, BallotAnswer).join(BallotAnswer, BallotAnswer.ballot_id == Ballot.id))}  # type: ignore[arg-type]
        assert stored == set(acknowledged)  # every acknowledged answer is there, nothing else
        assert stored_equals_recount(s, round_id)  # type: ignore[arg-type]
        assert len(refused) == len(people)  # every voter was still voting when it closed, and was refused
        document = json.loads(closed.results_json or "{}")
        assert document["results"]["method"] == "rating"


# ---- item 18: one ballot write path ------------------------------------------------------------------


def test_only_the_ballot_services_write_ballots() -> None:
    """The web, the demo and the tests share services.ballots (imports share its lock and checks):
    no other module of the app inserts ballots or answers, by the ORM or by SQLAlchemy Core on the
    tables themselves (the import writes in batches that way)."""
    writers = set()
    pattern = re.compile(r"INSERT INTO ballot|(?<!class )\b(Ballot|BallotAnswer|PairwiseAnswer|BallotSubmission)"
                         r"(\(|\.__table__)")
    package = Path(__file__).resolve().parents[2] / "codesign"
    for path in package.rglob("*.py"):
        if pattern.search(path.read_text(encoding="utf-8")):
            writers.add(str(path.relative_to(package)))
    assert writers == {"services/ballots.py", "services/ballot_sql.py", "services/round_import.py"}


def test_people_joining_at_once_get_distinct_numbers(engine: Engine, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    """"Participant 12" must name one person: numbers are given in the INSERT, one join at a time
    per session (an advisory lock on PostgreSQL; SQLite's writers queue already)."""
    session_id = workshop.id
    session.close()
    start = threading.Barrier(12)
    numbers: list[int] = []
    lock = threading.Lock()

    def join() -> None:
        start.wait()
        with db.write_session(engine) as s:
            person = sessions.join_session(s, session_id, "patient")
            with lock:
                numbers.append(person.number or 0)

    threads = [threading.Thread(target=join) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(numbers) == list(range(1, 13))


def test_verify_recounts_every_closed_round(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    from codesign import integrity
    from codesign.services import proposals as moderation

    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    for value in ("9", "5", "2"):
        person = sessions.join_session(session, workshop.id, "patient")
        for outcome in ids:
            ballots.answer_rating(session, found.id, person.id, outcome, value, key())  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    # Rewording an outcome afterwards is moderation, not tampering: the recount uses the wording
    # the results were counted with.
    moderation.reword_outcome(session, facilitator, workshop.id, ids[0], "A new wording", "Clearer")  # type: ignore[arg-type]
    assert [p for p in integrity.verify(session).problems if "voting_round" in p.subject] == []

    session.connection().execute(text("UPDATE ballot_answer SET value = 1 WHERE outcome_id = :o"), {"o": ids[1]})
    session.commit()
    problems = [str(p) for p in integrity.verify(session).problems]
    assert problems == [f"voting_round {found.id} (round 1 of session {workshop.id}): its ballots no longer give "
                        "the stored results (a ballot was changed, added or removed after the close)"]
    session.connection().execute(text("UPDATE voting_round SET results_json = replace(results_json, '\"rating\"', "
                                      "'\"ranking\"')"))
    session.commit()
    problems = [str(p) for p in integrity.verify(session).problems]
    assert any("stored results do not match their SHA-256" in p for p in problems)
