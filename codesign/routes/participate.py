"""Participant pages: join with a code or QR, choose a group, propose outcomes.

A participant cookie entry opens only its own session's /s/<code> pages; no facilitator page
accepts it. A wrong code is recorded against the device's address and limited (security telemetry,
like an access log, even on GET: the QR link is a GET).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import Conflict, RateLimited, ValidationFailed
from codesign.models import Participant, WorkshopSession
from codesign.services import proposals, sessions
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.templating import render

FLASH = "flash"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _find(request: Request, raw_code: str) -> WorkshopSession:
    settings = request.app.state.settings
    return await write(request, sessions.find_session_for_join, raw_code, address=_address(request),
                       max_failures=settings.join_max_failures, window_seconds=settings.join_window_seconds)


async def join(request: Request) -> Response:
    """The page where people type the code from the screen."""
    if request.method == "GET":
        return render(request, "participate/join.html",
                      {"values": {"code": request.query_params.get("code", "")}, "errors": {}})
    form = await request.form()
    try:
        session = await _find(request, first_value(form, "code"))
    except ValidationFailed as exc:
        return render(request, "participate/join.html", {"values": exc.values, "errors": exc.errors},
                      status_code=422)
    except RateLimited as exc:
        return render(request, "participate/join.html",
                      {"values": {"code": first_value(form, "code")}, "errors": {"code": str(exc)}},
                      status_code=429)
    return redirect(request, str(request.url_for("join_code", code=session.join_code)))


async def join_code(request: Request) -> Response:
    """Where the QR code points: choose your group (or go straight back in if this device joined)."""
    raw = str(request.path_params["code"])
    try:
        session = await _find(request, raw)
    except ValidationFailed as exc:
        return render(request, "participate/join.html", {"values": exc.values, "errors": exc.errors},
                      status_code=404)
    except RateLimited as exc:
        return render(request, "participate/join.html", {"values": {"code": raw}, "errors": {"code": str(exc)}},
                      status_code=429)
    if raw != session.join_code:
        return redirect(request, str(request.url_for("join_code", code=session.join_code)))
    if await auth.load_participant(request, session) is not None:
        return redirect(request, str(request.url_for("participant_home", code=session.join_code)))
    assert session.id is not None
    groups = await read(request, queries.list_stakeholder_groups, session.population_group_id)
    context = {"session": session, "groups": groups, "values": {}, "errors": {}}
    if request.method == "GET":
        return render(request, "participate/choose_group.html", context)
    form = await request.form()
    try:
        participant = await write(request, sessions.join_session, session.id, first_value(form, "group"),
                                  first_value(form, "first_name"), first_value(form, "table_number"))
    except ValidationFailed as exc:
        context.update(values=exc.values, errors=exc.errors)
        return render(request, "participate/choose_group.html", context, status_code=422)
    auth.remember_participant(request, participant)
    return redirect(request, str(request.url_for("participant_home", code=session.join_code)))


async def _participant(request: Request) -> tuple[WorkshopSession, Participant | None]:
    session = await auth.session_from_code(request)
    return session, await auth.load_participant(request, session)


async def home(request: Request) -> Response:
    session, participant = await _participant(request)
    if participant is None:
        return redirect(request, str(request.url_for("join_code", code=session.join_code)))
    return await _home_page(request, session, participant)


async def _home_page(request: Request, session: WorkshopSession, participant: Participant, *,
                     values: dict[str, object] | None = None, errors: dict[str, str] | None = None,
                     status_code: int = 200) -> Response:
    assert session.id is not None and participant.id is not None
    view = await read(request, queries.get_participant_home, session.id, participant.id)
    flash = request.session.pop(FLASH, None)
    return render(request, "participate/home.html",
                  {"view": view, "values": values or {}, "errors": errors or {}, "flash": flash},
                  fragment="participate/_accepted.html" if request.query_params.get("part") == "accepted" else None,
                  status_code=status_code)


async def propose(request: Request) -> Response:
    session, participant = await _participant(request)
    if participant is None:
        return redirect(request, str(request.url_for("join_code", code=session.join_code)))
    form = await request.form()
    statement, description = first_value(form, "statement"), first_value(form, "description")
    assert session.id is not None and participant.id is not None
    try:
        await write(request, proposals.propose_outcome, session.id, participant.id, statement, description)
    except ValidationFailed as exc:
        return await _home_page(request, session, participant, values=exc.values, errors=exc.errors,
                                status_code=422)
    except Conflict as exc:
        return await _home_page(request, session, participant,
                                values={"statement": statement, "description": description},
                                errors={"statement": str(exc)}, status_code=409)
    request.session[FLASH] = "Thank you. Your idea has been sent to the facilitator."
    url = str(request.url_for("participant_home", code=session.join_code))
    return redirect(request, url + "#your-ideas")


async def leave(request: Request) -> Response:
    """'Not you?': forget this device's participant so the next person can join afresh."""
    session = await auth.session_from_code(request)
    assert session.id is not None
    auth.forget_participant(request, session.id)
    request.session.pop(FLASH, None)
    return redirect(request, str(request.url_for("join_code", code=session.join_code)))


routes = [
    Route("/join", join, methods=["GET", "POST"], name="join"),
    Route("/j/{code}", join_code, methods=["GET", "POST"], name="join_code"),
    Route("/s/{code}", home, name="participant_home"),
    Route("/s/{code}/proposals", propose, methods=["POST"], name="propose"),
    Route("/s/{code}/leave", leave, methods=["POST"], name="leave"),
]
