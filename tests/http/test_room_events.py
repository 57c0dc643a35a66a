"""The event stream a participant's device listens to: only for someone who joined this session;
a move reaches it; a device that reconnects having missed a move is told at once."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx2
from sqlmodel import Session

from codesign.config import Settings
from codesign.models import User
from codesign.services import sessions
from tests.live_server import LiveServer

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _join(browser: httpx2.Client, code: str) -> None:
    token = TOKEN.search(browser.get(f"/j/{code}").text).group(1)  # type: ignore[union-attr]
    proved = browser.post(f"/j/{code}", data={"code": code, "csrf_token": token})
    assert proved.status_code == 303
    assert browser.post(proved.headers["location"], data={"group": "carer", "csrf_token": token}).status_code == 303


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The `room` events of a text/event-stream, as they arrive (pings are comments and skipped)."""
    name, data = "", ""
    for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = line.split(":", 1)[1].strip()
        elif line == "" and data:
            if name == "room":
                yield json.loads(data)
            name, data = "", ""


def test_only_a_joined_device_listens_and_every_move_reaches_it(  # type: ignore[no-untyped-def]
        settings: Settings, session: Session, facilitator: User, workshop) -> None:
    quick = dataclasses.replace(settings, room_check_ms=50)
    code, sid = workshop.join_code, workshop.id
    with LiveServer(quick) as server, httpx2.Client(base_url=server.url, timeout=10) as device:
        # Not joined (or another session's device): 204, which tells EventSource to stop, and no stream.
        refused = device.get(f"/s/{code}/events")
        assert refused.status_code == 204 and refused.content == b""
        _join(device, code)
        seq = int(re.search(r'data-live-seq="(\d+)"', device.get(f"/s/{code}").text).group(1))  # type: ignore[union-attr]
        with httpx2.Client(base_url=server.url, timeout=10) as other:
            assert other.get(f"/s/{code}/events").status_code == 204

        with device.stream("GET", f"/s/{code}/events", params={"seq": seq}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"
            events = _events(stream.iter_lines())
            sessions.set_proposals_open(session, facilitator, sid, False)
            sessions.set_proposals_open(session, facilitator, sid, True)  # the room now takes ideas
            moved = next(events)
            assert moved["view"] == "proposals" and moved["url"] == f"/s/{code}"
            assert moved["message"] == "The facilitator is asking for your ideas."
            assert moved["seq"] > seq

        # The device was away while the session closed: on reconnecting with the number it last saw
        # (EventSource sends it as Last-Event-ID) it is told at once.
        sessions.set_session_status(session, facilitator, sid, sessions.SessionStatus.closed)
        with device.stream("GET", f"/s/{code}/events",
                           headers={"Last-Event-ID": str(moved["seq"])}) as stream:
            caught_up = next(_events(stream.iter_lines()))
        assert caught_up["view"] == "ended" and caught_up["message"].startswith("This session has closed")


def test_pages_a_device_follows_from_carry_the_room_number(client, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import join

    join(client, workshop.join_code)
    page = client.get(f"/s/{workshop.join_code}").text
    assert f'data-live-events="/s/{workshop.join_code}/events"' in page
    assert re.search(r'<p class="app-live__message" role="status"[^>]*data-live-status', page)
    assert "data-live-busy" not in page  # the session page: nobody is mid-answer there
    assert "data-live-events" not in client.get("/join").text  # not joined yet: nothing to follow
