"""Facilitator pages for a session: create, console, lobby, projector, open/close, audit log."""

from __future__ import annotations

import io

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.export.join_cards import write_join_cards
from codesign.models import SessionMode, SessionStatus
from codesign.services import rounds, sessions
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import is_htmx, redirect
from codesign.web.qr import join_context, join_url, qr_svg
from codesign.web.templating import render


@auth.requires(*auth.FACILITATORS)
async def new_session(request: Request) -> Response:
    group_id = request.path_params["group_id"]
    view = await read(request, queries.get_population_overview, group_id)
    context = {"view": view, "values": {}, "errors": {}}
    if request.method == "GET":
        return render(request, "sessions/new.html", context)
    form = await request.form()
    try:
        session = await write(request, sessions.create_session, auth.current_user(request), group_id,
                              first_value(form, "title"), first_value(form, "held_on"))
    except ValidationFailed as exc:
        context.update(values=exc.values, errors=exc.errors)
        return render(request, "sessions/new.html", context, status_code=422)
    return redirect(request, str(request.url_for("console", session_id=session.id)))


async def _fingerprint(request: Request) -> tuple[str, bool]:
    """The console's change fingerprint, read first and alone (one statement), and whether the
    self-refreshing fragment that asked (?fp=) already shows it: then the answer is a 204 and htmx
    keeps the page as it is, so an unchanged refresh costs one read."""
    fingerprint = await read(request, queries.console_fingerprint, request.path_params["session_id"])
    if fingerprint is None:
        raise NotFound("No such session")
    return fingerprint, is_htmx(request) and request.query_params.get("fp") == fingerprint


@auth.requires(*auth.STAFF)
async def console(request: Request) -> Response:
    fingerprint, unchanged = await _fingerprint(request)
    if unchanged:
        return Response(status_code=204, headers={"Vary": "HX-Request"})
    view = await read(request, queries.get_console, request.path_params["session_id"])
    return render(request, "sessions/console.html",
                  {"view": view, "fingerprint": fingerprint, **join_context(request, view.session.join_code)},
                  fragment="sessions/_console_live.html")


@auth.requires(*auth.STAFF)
async def projector(request: Request) -> Response:
    fingerprint, unchanged = await _fingerprint(request)
    if unchanged:
        return Response(status_code=204, headers={"Vary": "HX-Request"})
    view = await read(request, queries.get_console, request.path_params["session_id"])
    return render(request, "sessions/projector.html",
                  {"view": view, "fingerprint": fingerprint, **join_context(request, view.session.join_code)},
                  fragment="sessions/_projector_live.html")


def _status_action(status: SessionStatus | None = None, proposals_open: bool | None = None) -> auth.Endpoint:
    @auth.requires(*auth.FACILITATORS)
    async def action(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        user = auth.current_user(request)
        if status is not None:
            await write(request, sessions.set_session_status, user, session_id, status)
        if proposals_open is not None:
            await write(request, sessions.set_proposals_open, user, session_id, proposals_open)
        return redirect(request, str(request.url_for("console", session_id=session_id)))

    return action


@auth.requires(*auth.FACILITATORS)
async def close_session(request: Request) -> Response:
    """Close the session and every open round in it; if lists are unsent, say how many and ask again."""
    session_id = request.path_params["session_id"]
    form = await request.form()
    try:
        await write(request, rounds.close_session, auth.current_user(request), session_id,
                    confirm_unsent=first_value(form, "confirm_unsent") == "yes")
    except rounds.UnsentLists as exc:
        view = await read(request, queries.get_console, session_id)
        return render(request, "sessions/console.html",
                      {"view": view, "unsent_warning": exc.count, **join_context(request, view.session.join_code)},
                      status_code=409)
    return redirect(request, str(request.url_for("console", session_id=session_id)))


@auth.requires(*auth.STAFF)
async def join_cards(request: Request) -> Response:
    """One A4 page of cards with the code, the URL and the QR code, to print for the tables."""
    session, _group = await read(request, queries.get_session_and_group, request.path_params["session_id"])
    if session.mode == SessionMode.online:  # nobody joins an online session by a code (services.joining)
        raise Conflict("This is an online session: panellists take part by the personal link in their email, "
                       "so there are no join cards.")
    url = join_url(request, session.join_code)
    half = len(session.join_code) // 2
    buffer = io.BytesIO()
    await run_in_threadpool(write_join_cards, session.title, f"{session.join_code[:half]} {session.join_code[half:]}",
                            url, url.rsplit("/j/", 1)[0] + "/join", qr_svg(url), buffer)
    return Response(buffer.getvalue(), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="join-cards-{session.join_code}.pdf"'})


@auth.requires(*auth.STAFF)
async def session_audit(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    session, group = await read(request, queries.get_session_and_group, session_id)
    events = await read(request, queries.list_audit_events, session_id=session_id, limit=500)
    return render(request, "audit/log.html", {"events": events, "group": group, "session": session})


routes = [
    Route("/groups/{group_id:id}/sessions/new", new_session, methods=["GET", "POST"], name="new_session"),
    Route("/sessions/{session_id:id}", console, name="console"),
    Route("/sessions/{session_id:id}/projector", projector, name="projector"),
    Route("/sessions/{session_id:id}/close", close_session, methods=["POST"], name="close_session"),
    Route("/sessions/{session_id:id}/reopen", _status_action(status=SessionStatus.open),
          methods=["POST"], name="reopen_session"),
    Route("/sessions/{session_id:id}/proposals/open", _status_action(proposals_open=True),
          methods=["POST"], name="open_proposals"),
    Route("/sessions/{session_id:id}/proposals/close", _status_action(proposals_open=False),
          methods=["POST"], name="close_proposals"),
    Route("/sessions/{session_id:id}/audit", session_audit, name="session_audit"),
    Route("/sessions/{session_id:id}/cards.pdf", join_cards, name="join_cards"),
]
