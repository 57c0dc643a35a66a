"""The room moves with every facilitator action that changes what devices should show, and the
watch that tells devices costs one statement per look when nothing moved."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import Engine, event
from sqlmodel import Session

from codesign.models import LiveView, User, WorkshopSession
from codesign.queries.room import RoomState, get_room_state
from codesign.services import rounds, sessions
from codesign.web.room_events import RoomWatch, participant_move
from tests.round_helpers import accepted_ids, open_round


def state(session: Session, workshop: WorkshopSession) -> RoomState:
    found = get_room_state(session, workshop.id or 0)
    assert found is not None
    return found


def test_every_room_changing_action_moves_the_room_once(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    sid = workshop.id
    start = state(session, workshop)
    assert start.view == LiveView.lobby and start.round_id is None

    sessions.set_proposals_open(session, facilitator, sid, False)  # the room was not taking ideas
    assert state(session, workshop).seq == start.seq
    sessions.set_proposals_open(session, facilitator, sid, True)
    now = state(session, workshop)
    assert (now.seq, now.view) == (start.seq + 1, LiveView.proposals)
    sessions.set_proposals_open(session, facilitator, sid, False)
    assert state(session, workshop).view == LiveView.lobby

    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3), title="Rate these")
    opened = state(session, workshop)
    assert (opened.view, opened.round_id, opened.round_status) == (LiveView.voting, found.id, "open")
    assert opened.round_label == "Round 1: Rate these"

    rounds.close_round(session, facilitator, sid, found.id or 0)
    closed = state(session, workshop)
    assert (closed.seq, closed.view, closed.round_id) == (opened.seq + 1, LiveView.closed, found.id)
    rounds.set_revealed(session, facilitator, sid, found.id or 0, True)
    assert state(session, workshop).view == LiveView.results
    rounds.set_revealed(session, facilitator, sid, found.id or 0, True)  # no change, no move
    assert state(session, workshop).seq == closed.seq + 1
    rounds.set_revealed(session, facilitator, sid, found.id or 0, False)
    assert state(session, workshop).view == LiveView.closed

    rounds.reset_round(session, facilitator, sid, found.id or 0, "Wrong outcomes")
    reset = state(session, workshop)
    assert (reset.view, reset.round_id) == (LiveView.lobby, None)

    again = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    assert state(session, workshop).round_id == again.id
    rounds.close_session(session, facilitator, sid)
    ended = state(session, workshop)
    assert ended.view == LiveView.ended
    sessions.set_session_status(session, facilitator, sid, sessions.SessionStatus.open)
    assert state(session, workshop).view == LiveView.lobby


def test_where_a_participant_is_sent_for_each_view() -> None:
    base = {"session_id": 1, "join_code": "ABC123", "seq": 4}
    voting = participant_move(RoomState(**base, view=LiveView.voting, round_id=7, round_label="Round 2: Rate",
                                        round_status="open"))
    assert voting["url"] == "/s/ABC123/rounds/7" and voting["busy_ok"]
    assert voting["message"] == "Voting is open: Round 2: Rate."
    closed = participant_move(RoomState(**base, view=LiveView.closed, round_id=7, round_label="Round 2: Rate",
                                        round_status="closed"))
    assert closed["url"] == "/s/ABC123/rounds/7" and not closed["busy_ok"]
    assert "has closed" in closed["message"]
    results = participant_move(RoomState(**base, view=LiveView.results, round_id=7, round_label="Round 2",
                                         round_status="closed"))
    assert results["message"] == "The results of Round 2 are ready."
    # A "voting" room whose round is no longer open (reset under it) sends people to the session page.
    stale = participant_move(RoomState(**base, view=LiveView.voting, round_id=7, round_status="draft"))
    assert stale["url"] == "/s/ABC123"
    for view in (LiveView.lobby, LiveView.proposals, LiveView.pause, LiveView.ended):
        assert participant_move(RoomState(**base, view=view))["url"] == "/s/ABC123"


def _count_statements(engine: Engine) -> tuple[list[str], object]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if threading.current_thread() is counting_thread:
            seen.append(statement)

    counting_thread = threading.current_thread()
    event.listen(engine, "before_cursor_execute", count)
    return seen, count


def test_an_unchanged_look_is_one_statement_and_a_move_reaches_every_listener(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    async def scenario() -> None:
        watch = RoomWatch(engine, interval=3600)  # looks only when the test asks
        with watch.listen(workshop.id) as first, watch.listen(workshop.id) as second:
            assert watch.connected == 2
            watch.publish(watch.check())  # the first look reports the room as it is
            assert first.get_nowait().seq == second.get_nowait().seq == state(session, workshop).seq

            seen, listener = _count_statements(engine)
            try:
                for look in range(1, 4):
                    assert watch.check() == []
                    # One read of the counters; SQLite's read session also sends its BEGIN.
                    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == look
                    assert len(seen) <= 2 * look
            finally:
                event.remove(engine, "before_cursor_execute", listener)

            sessions.set_proposals_open(session, facilitator, workshop.id, False)  # the room was
            sessions.set_proposals_open(session, facilitator, workshop.id, True)  # not taking ideas
            watch.publish(watch.check())
            moved = first.get_nowait()
            assert moved.view == LiveView.proposals and second.get_nowait() == moved
            assert first.empty() and watch.check() == []
        assert watch.connected == 0 and watch.check() == []  # nobody listening: no look at all
        await watch.stop()

    # In a thread of its own: an earlier test in this worker (Playwright's sync API) may have left
    # an event loop running in the main thread, where asyncio.run() refuses to start another.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # handed back to the test below
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the scenario did not finish"
    if failure:
        raise failure[0]


def test_reopening_a_round_sends_the_room_back_to_the_vote(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    from codesign.services import round_control

    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    rounds.close_round(session, facilitator, workshop.id, found.id or 0)
    assert state(session, workshop).view == LiveView.closed
    round_control.reopen_round(session, facilitator, workshop.id, found.id or 0, "Two people were still voting")
    reopened = state(session, workshop)
    assert (reopened.view, reopened.round_id, reopened.round_status) == (LiveView.voting, found.id, "open")
