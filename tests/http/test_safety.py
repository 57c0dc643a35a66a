"""CSRF on every state change, GET never changes state, headers every page carries."""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, select
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from codesign import export
from codesign.models import (
    FrameworkVersion,
    Outcome,
    OutcomeStatus,
    Participant,
    Role,
    Round,
    RoundOutcome,
    ShortlistItem,
    User,
)
from codesign.services import panel_people, panels, pooled, rounds, sessions
from codesign.services.exports import store_export
from codesign.web.exports import render_export
from tests.conftest import join, make_user, sign_in
from tests.round_helpers import load_demo, round_form


def snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table in the database, counted and hashed by content (rows in a stable order), so a
    changed value shows as well as an added or removed row."""
    state: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            rows = sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
            state[table] = (len(rows), hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest())
    return state


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


@dataclass(frozen=True)
class World:
    """Real ids for every path parameter, from the demo plus one round of each kind left open."""

    group: int
    session: int
    code: str
    outcomes: list[int]
    rounds: dict[int, int]  # round id -> number of outcomes (a rating round's questions)
    versions: dict[int, list[int]]  # version id -> its shortlist item ids
    tokens: list[str]
    frozen: int
    participants: list[int]  # everyone who joined the demo session
    panel: tuple[int, int, int] = (0, 0, 0)  # a panel holding the demo session: its id, a panellist, a pooled round
    online_panel: int = 0  # a panel with an online session, a round in it, and a panellist whose link it opens
    online: tuple[int, int] = (0, 0)  # that online session and its (draft) round


def world(engine: Engine, session: Session) -> World:
    info = load_demo(engine)
    facilitator = session.exec(select(User).where(User.email == info.facilitator_email)).one()
    ids = [o.id or 0 for o in session.exec(select(Outcome).where(
        Outcome.population_group_id == info.population_group_id, Outcome.status == OutcomeStatus.accepted))][:6]
    for method in ("rating", "ranking", "points", "pairwise"):
        rounds.create_round(session, facilitator, info.session_id, round_form(ids, method=method, top_k="3"))
        made = session.exec(select(Round).where(Round.session_id == info.session_id)
                            .order_by(col(Round.id).desc())).first()
        assert made is not None and made.id is not None
        rounds.open_round(session, facilitator, info.session_id, made.id, acknowledge_small=True)
    rounds.create_round(session, facilitator, info.session_id, round_form(ids, title="Not open yet"))
    # A panel whose personal link (a token, below) a GET opens, and its online session's round.
    panel = panels.create_panel(session, facilitator, info.population_group_id, "Online panel")
    person = panels.add_panellist(session, facilitator, panel.id or 0, "Asha Patel", "asha@example.com", "patient")
    online_session = sessions.create_session(session, facilitator, info.population_group_id, "Online", "2026-03-20")
    online_session.mode, online_session.panel_id = "online", panel.id
    session.add(online_session)
    session.commit()
    online_round = rounds.create_round(session, facilitator, online_session.id or 0,
                                       round_form(ids, title="Online round"))
    versions = list(session.exec(select(FrameworkVersion).where(
        FrameworkVersion.population_group_id == info.population_group_id)))
    frozen = next(v for v in versions if v.status == "frozen")
    # One format stored as the freeze would have; the others are rendered when asked for.
    store_export(session, frozen.id or 0, "csv",
                 render_export(json.loads(frozen.snapshot_json or ""), frozen.sha256 or "", "csv"))
    # A panel (study) holding the demo session, with a pooled round across it and an online session.
    study = panels.create_panel(session, facilitator, info.population_group_id, "Diabetes study")
    assert study.id is not None
    panel_people.attach_session(session, facilitator, study.id, str(info.session_id))
    online = panel_people.create_panel_session(session, facilitator, study.id, "Online round", "", "online")
    draft = session.exec(select(Round).where(Round.title == "Not open yet")).one()
    pooled_round = pooled.run_in_sessions(session, facilitator, info.session_id, draft.id or 0, [str(online.id)])
    member = panels.add_panellist(session, facilitator, study.id, "Asha Patel", "asha@example.com", "patient")
    return World(
        panel=(study.id, member.id or 0, pooled_round.id or 0),
        group=info.population_group_id, session=info.session_id, code=info.join_code,
        outcomes=[o.id or 0 for o in session.exec(select(Outcome).where(
            Outcome.population_group_id == info.population_group_id))],
        rounds={r.id or 0: len(session.exec(select(RoundOutcome).where(RoundOutcome.round_id == r.id)).all())
                for r in session.exec(select(Round).where(Round.session_id == info.session_id))},
        versions={v.id or 0: [i.id or 0 for i in session.exec(select(ShortlistItem).where(
            ShortlistItem.version_id == v.id))] for v in versions},
        tokens=[*(v.public_token for v in versions if v.public_token), person.link_token or "",
                person.unsubscribe_token], frozen=frozen.id or 0,
        participants=[p.id or 0 for p in session.exec(select(Participant).where(
            Participant.session_id == info.session_id))], online_panel=panel.id or 0,
        online=(online_session.id or 0, online_round.id or 0))


def path_values(params: set[str], w: World) -> list[dict[str, Any]]:
    """Every real combination of values for a route's path parameters (ids that belong together)."""
    rounds_ = [{"round_id": r} for r in w.rounds]
    table: dict[frozenset[str], list[dict[str, Any]]] = {
        frozenset(): [{}],
        frozenset({"group_id"}): [{"group_id": w.group}],
        frozenset({"session_id"}): [{"session_id": w.session}],
        frozenset({"session_id", "outcome_id"}): [{"session_id": w.session, "outcome_id": o} for o in w.outcomes],
        frozenset({"session_id", "round_id"}): [{"session_id": w.session, **r} for r in rounds_]
        + [{"session_id": w.online[0], "round_id": w.online[1]}],
        frozenset({"session_id", "participant_id"}): [{"session_id": w.session, "participant_id": p}
                                                      for p in w.participants],
        frozenset({"code"}): [{"code": w.code}],
        frozenset({"code", "round_id"}): [{"code": w.code, **r} for r in rounds_],
        frozenset({"code", "round_id", "n"}): [{"code": w.code, "round_id": r, "n": n}
                                               for r, count in w.rounds.items() for n in sorted({1, count})],
        frozenset({"version_id"}): [{"version_id": v} for v in w.versions],
        frozenset({"version_id", "item_id"}): [{"version_id": v, "item_id": i}
                                               for v, items in w.versions.items() for i in items],
        frozenset({"version_id", "fmt"}): [{"version_id": v, "fmt": f} for v in w.versions for f in export.FORMATS],
        frozenset({"token"}): [{"token": t} for t in w.tokens],
        frozenset({"panel_id"}): [{"panel_id": w.panel[0]}, {"panel_id": w.online_panel}],
        frozenset({"panel_id", "panellist_id"}): [{"panel_id": w.panel[0], "panellist_id": w.panel[1]}],
        frozenset({"panel_id", "panel_round_id"}): [{"panel_id": w.panel[0], "panel_round_id": w.panel[2]}],
    }
    assert frozenset(params) in table, f"no real values for path parameters {sorted(params)}: add them here"
    return table[frozenset(params)]


def get_urls(app, w: World) -> list[str]:  # type: ignore[no-untyped-def]
    urls: list[str] = []
    for route in app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            urls += [route.url_path_for(route.name, **values)
                     for values in path_values(set(route.param_convertors), w)]
        elif isinstance(route, Mount):  # static files: one real file from each
            first = next(p for p in sorted(Path(route.app.directory).rglob("*.*")) if p.is_file())  # type: ignore[attr-defined]
            urls.append(route.url_path_for(route.name, path="/" + str(first.relative_to(route.app.directory))))  # type: ignore[attr-defined]
    return urls


HX = {"HX-Request": "true"}
HX_GET = re.compile(r'hx-get="([^"]+)"')


def test_get_never_changes_state(app, client: TestClient, other_client: TestClient, engine: Engine,  # type: ignore[no-untyped-def]
                                 session: Session) -> None:
    """Every GET route, with every path parameter filled with real ids (the demo, open rounds of
    each kind, a draft round, frozen and draft versions, a stored and unstored exports), plain and
    as htmx asks (the route itself with HX-Request, and each hx-get URL its page polls), with the
    query parameters the routes read, by a signed-in admin who has also joined as a participant
    and by a stranger: afterwards every table holds exactly what it held before."""
    w = world(engine, session)
    sign_in(client, make_user(session, Role.admin))
    join(client, w.code)
    query = urlencode({"with": w.frozen, "feedback": next(iter(w.rounds)), "page": 2, "part": "accepted",
                       "level": 75, "template": "adults-with-diabetes", "code": w.code, "next": "/"})
    urls = get_urls(app, w)
    session.close()
    before = snapshot(engine)
    seen: dict[str, int] = {}
    for url in urls:
        for who, c in (("admin", client), ("stranger", other_client)):
            if url.endswith("/events"):  # an endless event stream: its headers, as HEAD answers
                streamed = c.head(url)
                assert streamed.status_code in (200, 204, 303) and streamed.content == b"", (who, url)
                seen[f"{who} {url}"] = streamed.status_code
                continue
            page = c.get(url)
            seen[f"{who} {url}"] = page.status_code
            polled = [html.unescape(u) for u in HX_GET.findall(page.text)] if page.status_code == 200 else []
            variants = [(url, HX), (f"{url}?{query}", {}), (f"{url}?{query}", HX),
                        *((u, HX) for u in polled if u.startswith("/"))]
            if page.status_code == 200 and not page.headers.get("content-type", "").startswith("text/html"):
                # A download (CSV, DOCX, PDF, QR code...): htmx never asks for one, and making it
                # three more times is most of this test's time; the query parameters still might matter.
                variants = [(f"{url}?{query}", {})]
            for target, headers in variants:
                response = c.get(target, headers=headers)
                assert response.status_code < 500, (who, target, headers)
            assert page.status_code < 500, (who, url)
    assert snapshot(engine) == before
    # The fill-in reached the pages it meant to: the frozen version's downloads, stored or not.
    for fmt in export.FORMATS:
        assert seen[f"admin /frameworks/{w.frozen}/export/{fmt}"] == 200
    assert sum(status == 200 for status in seen.values()) > 100
    # ...and the online pages: the round's online page, a panellist's link (its Start page) and the panel's mail.
    assert seen[f"admin /sessions/{w.online[0]}/rounds/{w.online[1]}/online"] == 200
    assert seen[f"stranger /take-part/{w.tokens[-2]}"] == 200 and seen[f"admin /panels/{w.online_panel}/mail"] == 200


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
