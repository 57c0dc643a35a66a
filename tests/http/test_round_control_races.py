"""Reopening races votes and closes: concurrent HTTP requests to a served app (two app instances,
as two workers, on one database). Run on PostgreSQL (tests/with_postgres.sh), where requests
really run in parallel and reopen, close and votes order themselves by the round's advisory lock;
on SQLite the write lock queues them and the same checks hold.

Whatever order they land in, nothing is lost or counted wrong: every answer acknowledged is stored
and none refused is, nothing is written after the final close, and `codesign verify` finds the
stored results equal to a recount and to the SHA-256 audited at the last close."""

from __future__ import annotations

import http.client
import itertools
import re
import threading
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign import integrity
from codesign.app import SESSION_COOKIE
from codesign.config import Settings
from codesign.models import AuditEvent, Ballot, BallotAnswer, Participant, Round, User, WorkshopSession
from codesign.services import rounds
from tests.conftest import PASSWORD
from tests.live_server import LiveServer
from tests.round_helpers import accepted_ids, open_round

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Device:
    """One browser: its own connection per request and its own cookie (standard library only)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            headers = {"Cookie": f"{SESSION_COOKIE}={self.cookie}"} if self.cookie else {}
            body = urlencode(form) if form is not None else None
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for value in response.headers.get_all("set-cookie") or []:
                name, _, rest = value.partition("=")
                if name.strip() == SESSION_COOKIE:
                    self.cookie = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace"), response.headers.get("location", "")
        finally:
            conn.close()

    def token(self, path: str) -> str:
        status, page, _ = self.request("GET", path)
        match = TOKEN.search(page)
        assert status == 200 and match, (path, status, page[:300])
        return match.group(1)

    def post(self, path: str, form: dict[str, str], token_from: str) -> tuple[int, str, str]:
        return self.request("POST", path, {**form, "csrf_token": self.token(token_from)})

    def join(self, code: str, group: str) -> None:
        status, _, location = self.post(f"/j/{code}", {"code": code}, f"/j/{code}")
        assert status == 303, status
        status, _, _ = self.post(location, {"group": group, "first_name": "", "table_number": ""}, "/join")
        assert status == 303, status

    def sign_in(self, email: str) -> None:
        assert self.post("/signin", {"email": email, "password": PASSWORD}, "/signin")[0] == 303


def at_once(calls: list[Callable[[], int]]) -> list[int]:
    """Run the calls in threads released together by a barrier; their results in order."""
    start = threading.Barrier(len(calls))
    results = [0] * len(calls)

    def run(n: int) -> None:
        start.wait(30)
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _setup(session: Session, facilitator: User, workshop: WorkshopSession) -> tuple[int, list[int]]:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, order="facilitator")  # question n is ids[n - 1]
    return found.id or 0, ids


def _audited_closes(session: Session, round_id: int) -> list[str]:
    return [e.details for e in session.exec(select(AuditEvent).where(
        AuditEvent.action == "round.closed", AuditEvent.object_id == round_id).order_by(col(AuditEvent.seq)))]


def test_reopen_and_close_race_a_stream_of_votes(  # type: ignore[no-untyped-def]
        settings: Settings, engine: Engine, session: Session, facilitator: User, workshop) -> None:
    round_id, ids = _setup(session, facilitator, workshop)
    code, session_id, email = workshop.join_code, workshop.id, facilitator.email
    base = f"/sessions/{session_id}/rounds/{round_id}"
    session.close()
    with LiveServer(settings) as one, LiveServer(settings) as two:
        voters = [Device((one if n % 2 else two).port) for n in range(6)]
        for n, device in enumerate(voters):
            device.join(code, ("patient", "carer", "clinician")[n % 3])
        pages = [f"/s/{code}/rounds/{round_id}/q/{q}" for q in range(1, len(ids) + 1)]
        tokens = [device.token(pages[0]) for device in voters]
        staff = Device(one.port)
        staff.sign_in(email)
        staff_token = staff.token(base)
        stop = threading.Event()
        lock = threading.Lock()
        acknowledged: dict[tuple[int, int], int] = {}  # (voter, question) -> last value saved
        statuses: list[int] = []

        def vote(n: int) -> None:
            for i in itertools.count():
                if stop.is_set():
                    return
                question, value = i % len(ids), 1 + (i + n) % 9
                status, _, _ = voters[n].request("POST", pages[question], {
                    "csrf_token": tokens[n], "key": uuid.uuid4().hex, "value": str(value)})
                with lock:
                    statuses.append(status)
                    if status == 303:
                        acknowledged[(n, question)] = value

        threads = [threading.Thread(target=vote, args=(n,)) for n in range(len(voters))]
        for t in threads:
            t.start()
        outcomes: list[tuple[str, int]] = []
        try:
            # The facilitator closes and reopens while the votes keep coming, then closes for good.
            for action, form in [("close", {}), ("reopen", {"reopen_reason": "Late arrivals"}), ("close", {}),
                                 ("reopen", {"reopen_reason": "One more table"}), ("close", {})]:
                status, page, _ = staff.request("POST", f"{base}/{action}", {**form, "csrf_token": staff_token})
                outcomes.append((action, status))
                assert status == 303, (action, status, page[:500])
        finally:
            stop.set()
            for t in threads:
                t.join(120)
    assert set(statuses) <= {303, 409} and 303 in statuses, set(statuses)  # saved, or refused: closed
    with Session(engine) as s:
        found = s.get_one(Round, round_id)
        assert found.status == "closed" and found.closed_at is not None
        # The devices joined one after another: device n is the session's n-th participant.
        joined = list(s.exec(select(Participant.id).where(Participant.session_id == session_id)
                             .order_by(col(Participant.id))))
        stored = {(joined.index(b.participant_id), ids.index(a.outcome_id)): a.value for b, a in s.exec(
            select(Ballot, BallotAnswer).join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id)))}
        assert stored == acknowledged  # every acknowledged answer, as last acknowledged; nothing refused
        assert [a for a in s.exec(select(BallotAnswer)) if a.updated_at > found.closed_at] == []
        assert [str(p) for p in integrity.verify(s).problems] == []
        closes = _audited_closes(s, round_id)
        reopens = s.exec(select(AuditEvent).where(AuditEvent.action == "round.reopened")).all()
        assert len(closes) == 3 and len(reopens) == 2 and found.results_sha256 in closes[-1]


def test_a_reopen_and_a_close_sent_at_once_agree(  # type: ignore[no-untyped-def]
        settings: Settings, engine: Engine, session: Session, facilitator: User, workshop) -> None:
    """Two facilitators' tabs: one reopens the closed round while the other presses Close (a stale
    page). Either the close lands first (refused: already closed) and the reopen opens it, or the
    reopen lands first and the close counts it again; never both half-done."""
    round_id, _ids = _setup(session, facilitator, workshop)
    session_id, email = workshop.id, facilitator.email
    rounds.close_round(session, facilitator, session_id, round_id)  # type: ignore[arg-type]
    session.close()
    base = f"/sessions/{session_id}/rounds/{round_id}"
    seen: set[tuple[int, int]] = set()
    with LiveServer(settings) as one, LiveServer(settings) as two:
        tabs = [Device(one.port), Device(two.port)]
        for tab in tabs:
            tab.sign_in(email)
        tokens = [tab.token(base) for tab in tabs]  # a signed-in tab's token stays the same
        for _attempt in range(6):
            results = at_once([
                lambda: tabs[0].request("POST", f"{base}/reopen", {"reopen_reason": "Wrong button",
                                                                   "csrf_token": tokens[0]})[0],
                lambda: tabs[1].request("POST", f"{base}/close", {"csrf_token": tokens[1]})[0],
            ])
            reopen, close = results
            seen.add((reopen, close))
            with Session(engine) as s:
                found = s.get_one(Round, round_id)
                assert reopen == 303 and close in (303, 409), results
                if close == 303:  # reopened, then closed and counted again
                    assert found.status == "closed" and found.results_sha256 in _audited_closes(s, round_id)[-1]
                else:  # the close found it closed already; the reopen then opened it
                    assert found.status == "open" and found.results_json is None
                    rounds.close_round(s, s.get_one(User, found.created_by_id), session_id, round_id)  # type: ignore[arg-type]
                assert [str(p) for p in integrity.verify(s).problems] == []
    assert seen  # which orders happened is up to the scheduler; each was checked above
