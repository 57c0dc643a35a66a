"""Devices follow the room: server-sent events, fed from a counter in the database.

How it works: the services that move the room (services/room.py) add one to the session's
`live_seq` in the same transaction as the change. Each app process runs one `RoomWatch` while
anyone is connected to it: once a second it reads `live_seq` for every session that has a device
connected to this process (one statement, however many devices), and when a number has changed it
reads that room's state (one more statement) and sends it down every open event stream of the room.
A device that reconnects says which number it last saw (`?seq=`, then EventSource's Last-Event-ID)
and is sent the current state at once if it missed anything.

Why this design:
- Conditional polling (each device asking "changed since N?" every 2 s) is simpler but costs a
  request per device per interval: 500 devices make 250 requests a second, a third of a core at
  ~1 ms each, against a budget of 10% of one core for a room at rest. A held SSE connection costs
  nothing at rest but a keep-alive comment every 20 s.
- PostgreSQL LISTEN/NOTIFY would push without the once-a-second read, but SQLite has no
  equivalent, and the read is one indexed statement per process per second. The same code then
  runs on both databases, with any number of workers or machines: no state lives in one process's
  memory except which of its own connections to write to.
- sse-starlette (a maintained library) handles the stream: pings, client disconnects and uvicorn's
  shutdown (streams end instead of holding the server open).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from sqlalchemy import Engine
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from codesign.db import read_session
from codesign.models import LiveView
from codesign.queries.room import RoomState, get_room_state, live_seqs
from codesign.web import auth
from codesign.web.dbcall import read

__all__ = ["RoomWatch", "participant_move", "room_events", "staff_room_events"]

log = logging.getLogger(__name__)

PING_SECONDS = 20  # a comment line now and then keeps proxies and mobile networks from dropping it
RETRY_MS = 2000  # how soon a dropped device tries again (EventSource's own reconnect)


def participant_move(state: RoomState) -> dict[str, Any]:
    """Where a participant's device should be for this room state, and what to tell them."""
    home = f"/s/{state.join_code}"
    label = state.round_label
    if state.view == LiveView.voting and state.round_id is not None and state.round_status == "open":
        return {"url": f"{home}/rounds/{state.round_id}", "round": state.round_id, "busy_ok": True,
                "message": f"Voting is open: {label}."}
    if state.view in (LiveView.closed, LiveView.results) and state.round_id is not None:
        revealed = state.view == LiveView.results
        return {"url": f"{home}/rounds/{state.round_id}", "round": state.round_id, "busy_ok": False,
                "message": f"The results of {label} are ready." if revealed
                else f"Voting in {label} has closed. The results will be shown soon."}
    message = {
        LiveView.proposals: "The facilitator is asking for your ideas.",
        LiveView.pause: "The facilitator has paused the session. Please wait.",
        LiveView.ended: "This session has closed. Thank you for taking part.",
    }.get(state.view, "Please wait: the facilitator will start the next part soon.")
    return {"url": home, "round": None, "busy_ok": False, "message": message}


def _event(state: RoomState) -> ServerSentEvent:
    payload = {"seq": state.seq, "view": state.view.value, **participant_move(state)}
    return ServerSentEvent(data=json.dumps(payload), event="room", id=str(state.seq), retry=RETRY_MS)


class RoomWatch:
    """One per app process: reads the counters of the rooms its devices are in, tells them of moves."""

    def __init__(self, engine: Engine, *, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self._queues: dict[int, set[asyncio.Queue[RoomState]]] = {}
        self._seen: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def listen(self, session_id: int) -> Iterator[asyncio.Queue[RoomState]]:
        """A queue that receives the room's state whenever it moves, while the block runs."""
        queue: asyncio.Queue[RoomState] = asyncio.Queue()
        self._queues.setdefault(session_id, set()).add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield queue
        finally:
            listeners = self._queues.get(session_id, set())
            listeners.discard(queue)
            if not listeners:
                self._queues.pop(session_id, None)
                self._seen.pop(session_id, None)

    @property
    def connected(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def check(self) -> list[RoomState]:
        """One look at the database (in a worker thread): the rooms that moved since the last look.
        Unchanged rooms cost one statement in all; each moved room one more."""
        watched = list(self._queues)
        if not watched:
            return []
        with read_session(self.engine) as db:
            seqs = live_seqs(db, watched)
            moved = [sid for sid, seq in seqs.items() if self._seen.get(sid) != seq]
            states = [s for s in (get_room_state(db, sid) for sid in moved) if s is not None]
        for state in states:
            self._seen[state.session_id] = state.seq
        return states

    def publish(self, states: list[RoomState]) -> None:
        for state in states:
            for queue in self._queues.get(state.session_id, ()):
                queue.put_nowait(state)

    async def _run(self) -> None:
        while self._queues:
            try:
                self.publish(await run_in_threadpool(self.check))
            except Exception:  # a database blip must not end the watch; devices catch up later
                log.exception("room watch: could not read the rooms")
            await asyncio.sleep(self.interval)  # the poll interval (this is a server loop, not a test)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _known_seq(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("seq", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


async def room_events(request: Request) -> Response:
    """GET /s/<code>/events: the participant's device's event stream (text/event-stream)."""
    joined = await auth.joined(request)
    if joined is None:  # 204 tells EventSource to stop trying (nothing about the code is revealed)
        return Response(status_code=204)
    session, _participant = joined
    assert session.id is not None
    return _stream(request, session.id)


@auth.requires(*auth.STAFF)
async def staff_room_events(request: Request) -> Response:
    """GET /sessions/<id>/events: the presenter screen's event stream (the same moves)."""
    state = await read(request, get_room_state, request.path_params["session_id"])
    if state is None:
        return Response(status_code=204)
    return _stream(request, state.session_id)


def _stream(request: Request, session_id: int) -> Response:
    known = _known_seq(request)
    watch: RoomWatch = request.app.state.room_watch

    async def stream() -> AsyncIterator[ServerSentEvent]:
        with watch.listen(session_id) as queue:
            state = await read(request, get_room_state, session_id)
            last = known
            if state is not None and state.seq != last:
                last = state.seq
                yield _event(state)
            while True:
                state = await queue.get()
                if state.seq != last:
                    last = state.seq
                    yield _event(state)

    return EventSourceResponse(stream(), ping=PING_SECONDS, headers={"Vary": "Cookie"})
