"""Every request body is capped by its path, however its CSRF token travels; addresses with control
characters are refused before they reach the database."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign.models import User
from codesign.web.limits import IMPORT_BODY, SMALL_BODY, STAFF_BODY, body_limit
from tests.conftest import TOKEN, csrf_from, join, sign_in
from tests.live_server import LiveServer
from tests.round_helpers import accepted_ids, open_round


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


@pytest.mark.parametrize(("path", "limit"), [
    ("/join", SMALL_BODY), ("/j/ABCD2345", SMALL_BODY), ("/s/ABCD2345/proposals", SMALL_BODY),
    ("/s/ABCD2345/rounds/3/submit", SMALL_BODY), ("/signin", SMALL_BODY), ("/text-size", SMALL_BODY),
    ("/sessions/4/rounds/5/import", IMPORT_BODY), ("/sessions/4/rounds/5", STAFF_BODY),
    ("/groups/new", STAFF_BODY), ("/sessions/4/rounds/5/import/x", STAFF_BODY),
])
def test_caps_by_path(path: str, limit: int) -> None:
    assert body_limit(path) == limit
    assert SMALL_BODY <= 64 * 1024 and STAFF_BODY == 1024 * 1024 and IMPORT_BODY == 10 * 1024 * 1024


def _participant_token(client: TestClient, code: str) -> str:
    join(client, code)
    return csrf_from(client, f"/s/{code}")


def test_header_token_post_over_the_cap_is_refused(client: TestClient, engine: Engine, workshop) -> None:  # type: ignore[no-untyped-def]
    token = _participant_token(client, workshop.join_code)
    before = count(engine, "outcome")
    response = client.post(f"/s/{workshop.join_code}/proposals", data={"statement": "x" * SMALL_BODY},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 413
    assert "That upload is too large" in response.text and "32 KB at most" in response.text
    assert count(engine, "outcome") == before
    # Under the cap the same post is read and judged on its merits.
    fine = client.post(f"/s/{workshop.join_code}/proposals", data={"statement": "A nurse who knows me"},
                       headers={"X-CSRF-Token": token})
    assert fine.status_code == 303 and count(engine, "outcome") == before + 1


def test_form_token_post_over_the_cap_is_refused(client: TestClient, engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                 facilitator: User) -> None:
    sign_in(client, facilitator)
    token = csrf_from(client, "/groups/new")
    before = count(engine, "population_group")
    response = client.post("/groups/new", data={"csrf_token": token, "name": "Big", "description": "x" * STAFF_BODY})
    assert response.status_code == 413 and "1 MB at most" in response.text
    assert count(engine, "population_group") == before


def test_chunked_body_without_content_length_is_counted(client: TestClient, engine: Engine, workshop) -> None:  # type: ignore[no-untyped-def]
    token = _participant_token(client, workshop.join_code)
    before = count(engine, "outcome")

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&statement=".encode()
        for _ in range(SMALL_BODY // 1024 + 1):
            yield b"x" * 1024

    response = client.post(f"/s/{workshop.join_code}/proposals", content=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert count(engine, "outcome") == before


def _import(client: TestClient, workshop, round_id: int, size: int):  # type: ignore[no-untyped-def]
    """A multipart import whose whole body is `size` bytes: a bad row on line 2, then padding."""
    page = f"/sessions/{workshop.id}/rounds/{round_id}"
    token = csrf_from(client, page)
    boundary = "b0undary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="ballots"; filename="paper.csv"\r\n'
            "Content-Type: text/csv\r\n\r\nparticipant,group,outcome,value\nS-1,patient,1,12\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    padding = b"\n" * (size - len(head) - len(tail))  # blank lines, which the parser skips
    return client.post(f"{page}/import", content=head + padding + tail,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_import_just_under_the_cap_is_read_and_just_over_is_refused(client: TestClient, engine: Engine,  # type: ignore[no-untyped-def]
                                                                    session: Session, facilitator: User,
                                                                    workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    sign_in(client, facilitator)
    under = _import(client, workshop, found.id, IMPORT_BODY)  # type: ignore[arg-type]
    assert under.status_code == 422 and "line 2, column 4 (value): 12 is out of range" in under.text
    over = _import(client, workshop, found.id, IMPORT_BODY + 1)  # type: ignore[arg-type]
    assert over.status_code == 413 and "too large to import (10 MB at most)" in over.text
    assert count(engine, "ballot") == 0


# ---- over a real socket: refused before the body is sent, or as soon as the cap is passed ------


def _exchange(port: int, head: bytes, chunks: Iterator[bytes]) -> bytes:
    """Send the request head, then chunks for as long as the server reads them and has not
    answered; return the status line of its answer (waiting on the socket, never on a clock)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        pending = b""
        while True:
            if not pending:
                pending = next(chunks, b"")
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 30)
            if readable or not writable:
                return sock.recv(4096).split(b"\r\n", 1)[0]
            try:
                pending = pending[sock.send(pending):]
            except (BrokenPipeError, ConnectionResetError):
                return sock.recv(4096).split(b"\r\n", 1)[0]


def test_a_real_server_refuses_without_waiting_for_the_whole_body(settings, workshop) -> None:  # type: ignore[no-untyped-def]
    with LiveServer(settings) as server, httpx2.Client(base_url=server.url) as browser:
        page = browser.get(f"/j/{workshop.join_code}").text
        token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
        proved = browser.post(f"/j/{workshop.join_code}", data={"code": workshop.join_code, "csrf_token": token})
        assert proved.status_code == 303
        joined = browser.post(proved.headers["location"], data={"group": "patient", "csrf_token": token})
        assert joined.status_code == 303 and joined.headers["location"] == f"/s/{workshop.join_code}"
        cookie = f"codesign_session={browser.cookies['codesign_session']}"
        # A declared 1 GB with a good token in the header: answered from the headers alone.
        head = (f"POST /s/{workshop.join_code}/proposals HTTP/1.1\r\nHost: x\r\nX-CSRF-Token: {token}\r\n"
                f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n")
        assert _exchange(server.port, f"{head}Content-Length: 1073741824\r\n\r\n".encode(), iter(())).startswith(
            b"HTTP/1.1 413 ")
        # Chunked, no length: the server answers once the cap is passed, and most of the 64 MB offered is
        # never sent (before, the handler read all of it).
        chunk = b"2000\r\n" + b"x" * 0x2000 + b"\r\n"
        sent = (chunk for _ in range(64 * 1024 * 1024 // 0x2000))
        assert _exchange(server.port, f"{head}Transfer-Encoding: chunked\r\n\r\n".encode(), sent).startswith(
            b"HTTP/1.1 413 ")
        assert sum(1 for _ in sent) > 64 * 1024 * 1024 // 0x2000 // 2


# ---- control characters in addresses -------------------------------------------------------------


@pytest.mark.parametrize("url", ["/p/%00", "/j/AB%00CD", "/s/%00/proposals", "/groups/1%00"])
def test_a_nul_in_the_path_is_no_such_page(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404 and "Page not found" in response.text


@pytest.mark.parametrize("url", ["/signin?next=/%00", "/join?code=%00", "/?x=%1b"])
def test_a_control_character_in_the_query_is_refused(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400 and "cannot be part of a web address" in response.text
