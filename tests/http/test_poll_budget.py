"""The pages the room polls every 2 s answer an unchanged refresh with one read of a change
fingerprint (plus the sign-in check): counted with SQLAlchemy events, over HTTP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign.models import User
from codesign.services import ballots, sessions
from tests.conftest import sign_in
from tests.round_helpers import accepted_ids, open_round

FINGERPRINT = re.compile(r'\?fp=([0-9a-f]+)')
HTMX = {"HX-Request": "true"}


def _statements(engine: Engine, client: TestClient, url: str) -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        status = client.get(url, headers=HTMX).status_code
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return status, seen


@pytest.mark.parametrize("page", ["console", "projector", "round", "round_projector"])
def test_an_unchanged_refresh_is_one_read(page: str, app, client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                          facilitator: User, workshop) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    sign_in(client, facilitator)
    url = {"console": f"/sessions/{workshop.id}", "projector": f"/sessions/{workshop.id}/projector",
           "round": f"/sessions/{workshop.id}/rounds/{found.id}",
           "round_projector": f"/sessions/{workshop.id}/rounds/{found.id}/projector"}[page]
    fingerprint = FINGERPRINT.search(client.get(url, headers=HTMX).text).group(1)  # type: ignore[union-attr]
    engine = app.state.engine
    status, seen = _statements(engine, client, f"{url}?fp={fingerprint}")
    assert status == 204
    # The sign-in check (the server-side login session and its user) and the fingerprint.
    assert len(seen) <= 2, seen
    # Anything the page shows changes the fingerprint, so the next refresh is a full one.
    voter = sessions.join_session(session, workshop.id, "carer")
    ballots.answer_rating(session, found.id, voter.id, accepted_ids(session, workshop, 1)[0], "7", "budget-1")  # type: ignore[arg-type]
    assert client.get(f"{url}?fp={fingerprint}", headers=HTMX).status_code == 200
