"""The indicator data upload and the peer page over HTTP: staff only, CSRF, 422 with line and column."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import IndicatorValue, PeerLink, Role
from tests.conftest import csrf_from, join, make_user, sign_in
from tests.evidence_helpers import data_file, figure, peer_file


def rows(session: Session, table: type) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def upload(client: TestClient, url: str, text: str | bytes, name: str = "data.csv", page: str = "/evidence"):  # type: ignore[no-untyped-def]
    body = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(url, data={"csrf_token": csrf_from(client, page)}, files={"file": (name, body, "text/csv")})


@pytest.fixture
def commissioner(client: TestClient, session: Session):  # type: ignore[no-untyped-def]
    user = make_user(session, Role.commissioner)
    sign_in(client, user)
    return user


def test_upload_imports_and_reimport_updates(client: TestClient, session: Session, commissioner) -> None:  # type: ignore[no-untyped-def]
    response = upload(client, "/evidence/import", data_file())
    assert response.status_code == 303 and response.headers["location"].endswith("/evidence")
    page = client.get("/evidence")
    assert "Imported 12 figures from data.csv: 12 new, 0 updated." in page.text
    assert "90001" in page.text
    again = upload(client, "/evidence/import", data_file())
    assert again.status_code == 303
    assert "0 new, 12 updated" in client.get("/evidence").text
    assert rows(session, IndicatorValue) == 12


def test_a_bad_upload_is_422_with_line_and_column_and_stores_nothing(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                      commissioner) -> None:
    bad = data_file() + figure("90001", "<b>Z</b>", "2024", 1.0, denominator="-5") + "\n"
    response = upload(client, "/evidence/import", bad, name="bad.csv")
    assert response.status_code == 422
    assert "bad.csv, line 14, column 15 (denominator): &#39;-5&#39; is negative" in response.text
    assert "<b>Z</b>" not in response.text
    assert rows(session, IndicatorValue) == 0
    not_utf8 = upload(client, "/evidence/import", "Area Code\nCaf\xe9\n".encode("latin-1"), name="x.csv")
    assert not_utf8.status_code == 422 and "x.csv is not UTF-8 text" in not_utf8.text
    empty = upload(client, "/evidence/import", "")
    assert empty.status_code == 422 and "Choose a CSV file" in empty.text


def test_peer_page_edits_and_imports(client: TestClient, session: Session, commissioner) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client, "/evidence/peers")
    saved = client.post("/evidence/peers", data={"csrf_token": token, "area": "A", "peers": "P1\nP2, P3"})
    assert saved.status_code == 303
    page = client.get("/evidence/peers?area=A")
    assert "Saved 3 peers for A." in page.text and ">P1\nP2\nP3</textarea>" in page.text
    refused = client.post("/evidence/peers", data={"csrf_token": token, "area": "A", "peers": "A"})
    assert refused.status_code == 422 and "A cannot be its own peer" in refused.text
    assert rows(session, PeerLink) == 3
    imported = upload(client, "/evidence/peers/import", peer_file("A", ["P9"]), page="/evidence/peers")
    assert imported.status_code == 303
    assert [link.peer_code for link in session.exec(select(PeerLink))] == ["P9"]
    bad = upload(client, "/evidence/peers/import", "area_code,peer_code\nB,B\n", name="p.csv", page="/evidence/peers")
    assert bad.status_code == 422 and "p.csv, line 2, column 2 (peer code): an area cannot be its own peer" in bad.text
    assert rows(session, PeerLink) == 1


def test_peer_posts_need_the_csrf_token(client: TestClient, session: Session, commissioner) -> None:  # type: ignore[no-untyped-def]
    for url in ("/evidence/peers", "/evidence/import", "/evidence/peers/import"):
        assert client.post(url, data={"area": "A", "peers": "P1"}).status_code == 403
        assert client.post(url, data={"area": "A", "peers": "P1", "csrf_token": "forged"}).status_code == 403
    assert rows(session, PeerLink) == 0


@pytest.mark.parametrize("role", [Role.facilitator, Role.admin])
def test_other_staff_may_use_the_pages(client: TestClient, session: Session, role: str) -> None:
    sign_in(client, make_user(session, role))
    assert client.get("/evidence").status_code == 200
    assert client.get("/evidence/peers").status_code == 200


def test_observers_and_participants_are_refused(client: TestClient, other_client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                 workshop) -> None:
    sign_in(client, make_user(session, Role.observer))
    assert client.get("/evidence/peers").status_code == 403
    token = csrf_from(client, "/")
    assert client.post("/evidence/peers", data={"csrf_token": token, "area": "A", "peers": "P1"}).status_code == 403
    join(other_client, workshop.join_code)  # a participant device: no account
    for url in ("/evidence", "/evidence/peers"):
        response = other_client.get(url)
        assert response.status_code == 303 and "/signin" in response.headers["location"]
    token = csrf_from(other_client, f"/s/{workshop.join_code}")
    refused = other_client.post("/evidence/peers", data={"csrf_token": token, "area": "A", "peers": "P1"})
    assert refused.status_code == 303 and "/signin" in refused.headers["location"]
    assert rows(session, PeerLink) == 0
