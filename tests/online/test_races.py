"""Races on online rounds, run on PostgreSQL too (tests/with_postgres.sh), where requests really run
in parallel: several taps of "Start" on one personal link at once make one participant; two
"Send invitations" at once queue each message once; a claim left by a dead worker comes back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from codesign import db
from codesign.config import Settings
from codesign.mail import outbox
from codesign.models import MailStatus, OutboxMessage, Participant, User, WorkshopSession, utcnow
from codesign.services import online
from tests.http.test_round_control_races import Device
from tests.live_server import LiveServer
from tests.online.helpers import make_study


def at_once(work: list[Callable[[], object]]) -> list[object]:
    start = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)

    def run(i: int) -> None:
        start.wait(timeout=30)
        try:
            results[i] = work[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_start_pressed_on_several_devices_at_once_makes_one_participant(
        session: Session, settings: Settings, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    link = f"/take-part/{study.people[0].link_token}"
    with LiveServer(settings) as server:
        devices = [Device(server.port) for _ in range(6)]
        tokens = [d.token("/join") for d in devices]
        results = at_once([lambda d=d, t=t: d.request("POST", link, {"csrf_token": t})  # type: ignore[misc]
                           for d, t in zip(devices, tokens, strict=True)])
    assert all(isinstance(r, tuple) and r[0] == 303 for r in results), results
    made = session.exec(select(Participant)).all()
    assert len(made) == 1 and made[0].panellist_id == study.people[0].id


def test_two_send_invitations_at_once_queue_each_message_once(
        session: Session, engine: Engine, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)

    def press() -> int:
        with db.write_session(engine) as writer:
            actor = writer.get(User, facilitator.id)
            assert actor is not None
            return online.queue_invitations(writer, actor, study.session.id or 0, study.round.id or 0, "http://x")

    results = at_once([press, press, press])
    assert sorted(results) == [0, 0, 3], results  # type: ignore[type-var]
    assert len(session.exec(select(OutboxMessage)).all()) == 3


def test_a_claim_left_by_a_dead_worker_returns_to_the_queue(session: Session, engine: Engine, facilitator: User,
                                                            workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, "http://x")
    now = utcnow()
    with db.write_session(engine) as writer:
        assert len(outbox.claim(writer, now=now)) == 3  # and then the worker dies
    with db.write_session(engine) as writer:
        assert outbox.claim(writer, now=now + timedelta(minutes=5)) == []  # still being sent, perhaps
    with db.write_session(engine) as writer:
        again = outbox.claim(writer, now=now + outbox.STALE_CLAIM + timedelta(seconds=1))
    assert len(again) == 3
    assert {m.status for m in session.exec(select(OutboxMessage))} == {MailStatus.sending}
    assert {m.attempts for m in session.exec(select(OutboxMessage))} == {2}


def test_reminders_pressed_while_invitations_are_being_queued_wait_and_skip_them(
        session: Session, engine: Engine, facilitator: User, workshop: WorkshopSession) -> None:
    """PostgreSQL only (on SQLite the second writer waits for the first anyway). Invitations are
    queued in one transaction, not yet committed; "Send reminders now" pressed meanwhile waits for
    them and then reminds nobody, rather than reminding everyone from the outbox as it was."""
    import pytest

    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL race")
    from sqlalchemy import text

    study = make_study(session, facilitator, workshop)
    sid, rid = study.session.id or 0, study.round.id or 0
    inviting = db.write_session(engine).__enter__()
    actor = inviting.get(User, facilitator.id)
    found = inviting.get(type(study.round), rid)
    assert actor is not None and found is not None
    online._queue(inviting, actor, inviting.get(WorkshopSession, sid), found,  # type: ignore[arg-type]
                  "invitation", "http://x", "", utcnow())

    def remind() -> int:
        with db.write_session(engine) as writer:
            return online.queue_reminders(writer, writer.get(User, facilitator.id), sid, rid, "http://x")

    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(remind()))
    thread.start()
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND query LIKE '%pg_advisory_xact_lock(1619%'")
    with engine.connect() as watcher:  # until the reminders are seen waiting on the round's lock
        for _ in range(2000):
            if watcher.execute(waiting).scalar():
                break
            watcher.rollback()
            threading.Event().wait(0.01)
        else:
            raise AssertionError("the reminders did not wait for the invitations")
    inviting.commit()
    inviting.close()
    thread.join(timeout=60)
    assert results == [0]
    assert {m.kind for m in session.exec(select(OutboxMessage))} == {"invitation"}
