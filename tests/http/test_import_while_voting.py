"""A ballot file is read and checked before anything is locked: on SQLite a writer holds up every
vote in the room, and a large file takes a while to read, so the room votes on meanwhile."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import BallotAnswer, User
from codesign.services import round_import, rounds
from tests.conftest import csrf_from, join, sign_in
from tests.http.test_voting import answer_every_question
from tests.round_helpers import accepted_ids, open_round


def test_the_room_votes_on_while_an_imported_file_is_read(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    join(other_client, workshop.join_code)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    voted: list[str] = []
    read = round_import.parse_ballots_csv

    def reading(*args: Any, **kwargs: Any) -> Any:
        # While the file is read, someone in the room answers every question (in another thread,
        # as another request would; if the import held the write lock now, they would wait on it).
        person = threading.Thread(target=lambda: voted.append(answer_every_question(
            other_client, session, workshop.join_code, found.id or 0, dict.fromkeys(ids, "7"))))
        person.start()
        person.join(timeout=60)
        assert not person.is_alive(), "a vote waited for the import to finish reading its file"
        return read(*args, **kwargs)

    monkeypatch.setattr(round_import, "parse_ballots_csv", reading)
    paper = f"participant,group,outcome,value\nP-1,carer,{ids[0]},9\nP-1,carer,{ids[1]},8\n"
    response = client.post(f"{page}/import", data={"csrf_token": csrf_from(client, page)},
                           files={"ballots": ("paper.csv", paper.encode(), "text/csv")})
    assert response.status_code == 303, response.text[:500]
    assert len(voted) == 1  # the room's vote was saved ...
    values = sorted(a.value or 0 for a in session.exec(select(BallotAnswer)))
    assert values == [7, 7, 8, 9]  # ... and so was the file


def test_a_refused_import_offers_the_way_back_to_the_round(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    # From a user trial: the 409 (round closed) and 413 (file too large) pages offered only "Go to
    # the start page", far from the round the facilitator was working on.
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    token = csrf_from(client, page)
    rounds.close_round(session, facilitator, workshop.id or 0, found.id or 0)
    paper = f"participant,group,outcome,value\nP-1,carer,{ids[0]},9\n".encode()
    for referer, back in ((f"http://testserver{page}", True), ("https://elsewhere.example/x", False), ("", False)):
        refused = client.post(f"{page}/import", data={"csrf_token": token},
                              files={"ballots": ("late.csv", paper, "text/csv")},
                              headers={"Referer": referer} if referer else {})
        assert refused.status_code == 409 and "This round has closed" in refused.text
        assert (f'<a href="{page}">Go back to the page you were on</a>' in refused.text) is back, referer
        assert "Go to the start page" in refused.text
    too_big = client.post(f"{page}/import", content=b"x" * (11 * 1024 * 1024),
                          headers={"Content-Type": "multipart/form-data; boundary=b",
                                   "Referer": f"http://testserver{page}"})
    assert too_big.status_code == 413 and f'<a href="{page}">Go back to the page you were on</a>' in too_big.text
