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
