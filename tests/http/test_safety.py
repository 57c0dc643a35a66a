"""CSRF on every state change, GET never changes state, headers every page carries."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from starlette.routing import Route
from starlette.testclient import TestClient

from codesign.models import Role
from tests.conftest import join, make_user, sign_in

TABLES = ("user", "population_group", "stakeholder_group", "workshop_session", "participant", "outcome",
          "outcome_source", "outcome_revision", "audit_event")


def snapshot(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in TABLES}


def post_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or set())]


def concrete(path: str, workshop) -> str:  # type: ignore[no-untyped-def]
    return (path.replace("{session_id:id}", str(workshop.id)).replace("{outcome_id:id}", "1")
            .replace("{group_id:id}", str(workshop.population_group_id)).replace("{code}", workshop.join_code))


def test_every_post_without_csrf_token_is_refused_and_changes_nothing(app, client: TestClient, engine: Engine,  # type: ignore[no-untyped-def]
                                                                      session, workshop) -> None:
    admin = make_user(session, Role.admin)
    sign_in(client, admin)
    join(client, workshop.join_code)
    before = snapshot(engine)
    paths = post_routes(app)
    assert len(paths) >= 15
    for path in paths:
        url = concrete(path, workshop)
        for data in ({"statement": "x", "reason": "y", "csrf_token": "forged"}, {"statement": "x"}):
            response = client.post(url, data=data)
            assert response.status_code == 403, url
            assert "security token" in response.text
        assert client.post(url, data={"statement": "x"}, headers={"HX-Request": "true"}).status_code == 403
    assert snapshot(engine) == before


def test_csrf_token_accepted_from_header(client: TestClient, workshop) -> None:  # type: ignore[no-untyped-def]
    join(client, workshop.join_code)
    page = client.get(f"/s/{workshop.join_code}").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/s/{workshop.join_code}/proposals", data={"statement": "Via header"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 303


def test_get_never_changes_state(app, client: TestClient, engine: Engine, session, workshop) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(session, Role.admin)
    sign_in(client, admin)
    join(client, workshop.join_code)
    before = snapshot(engine)
    for route in app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            response = client.get(concrete(route.path, workshop))
            assert response.status_code < 500, route.path
    assert snapshot(engine) == before


@pytest.mark.parametrize("url", ["/", "/join", "/signin"])
def test_pages_carry_security_headers(client: TestClient, url: str) -> None:
    response = client.get(url)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "HX-Request" in response.headers["vary"]


def test_session_cookie_is_httponly_and_samesite_lax(client: TestClient) -> None:
    response = client.get("/join")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
