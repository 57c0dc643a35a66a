"""Participant pages: join with a code or QR, choose a group, propose outcomes.

Only a POST checks a join code, and every check counts against the limits (services.joining):
- GET /join and GET /j/<code> show the code form (prefilled from the path for the QR link; a
  small script submits it once by itself) and never look the code up. The one exception: a
  device that already joined that session goes straight back in, which is a read-only lookup of
  its own participant and answers every other device as it answers a wrong code.
- POST /join and POST /j/<code> check the code; the right one is remembered in the device's
  signed cookie, and GET /j/<code>/group (choose a group) opens only for a device that proved it.
- /s/<code> pages answer a device that has not joined as they answer a wrong code: nothing to
  guess there (web.auth).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import Conflict, RateLimited, ValidationFailed
from codesign.models import Participant, SessionStatus, WorkshopSession
from codesign.services import joining, proposals, sessions
from codesign.validation import first_value
from codesign.web import auth, client, text_size
from codesign.web.dbcall import read, write
from codesign.web.htmx import is_htmx, redirect
from codesign.web.room_events import room_events
from codesign.web.templating import render

FLASH = "flash"
ACCEPTED = "accepted"  # ?part=accepted: the polled "on the list so far" section (participate/_accepted.html)


def _code_form(request: Request, code: str = "", *, errors: dict[str, str] | None = None, autosubmit: bool = False,
               status_code: int = 200) -> Response:
    return render(request, "participate/join.html",
                  {"values": {"code": code}, "errors": errors or {}, "autosubmit": autosubmit},
                  status_code=status_code)


async def _prove(request: Request, raw_code: str) -> Response:
    """Check a typed or scanned code under the limits; on success, on to choosing a group."""
    settings = request.app.state.settings
    try:
        session = await write(request, joining.prove_join_code, raw_code, device=client.device_id(request),
                              address=client.address(request), limits=joining.JoinLimits.from_settings(settings))
    except ValidationFailed as exc:
        return _code_form(request, str(exc.values.get("code", "")), errors=exc.errors, status_code=422)
    except RateLimited as exc:
        return _code_form(request, raw_code[:40], errors={"code": str(exc)}, status_code=429)
    auth.remember_proof(request, session.join_code)
    return redirect(request, str(request.url_for("choose_group", code=session.join_code)))


async def join(request: Request) -> Response:
    """The page where people type the code from the screen."""
    if request.method == "GET":
        return _code_form(request, request.query_params.get("code", "")[:40])
    form = await request.form()
    if (size := text_size.chosen(form)) is not None:  # "Larger text" (no JavaScript): keep the code typed
        text_size.choose(request, size)
        return text_size.remember(request, _code_form(request, first_value(form, "code")[:40]), size)
    return await _prove(request, first_value(form, "code"))


async def join_code(request: Request) -> Response:
    """Where the QR code points: the code form, filled in (or straight back in if this device joined)."""
    if request.method == "POST":
        form = await request.form()
        return await _prove(request, first_value(form, "code") or str(request.path_params["code"]))
    code = auth.path_code(request)
    if code is None:
        return _code_form(request)
    if await auth.joined(request) is not None:
        return redirect(request, str(request.url_for("participant_home", code=code)))
    return _code_form(request, code, autosubmit=True)


async def choose_group(request: Request) -> Response:
    """Which group are you in? Only for a device that proved this code; its POST joins."""
    code = auth.path_code(request)
    if code is None or code not in auth.proved_codes(request):
        return redirect(request, auth.code_form_url(request))
    if await auth.joined(request) is not None:
        return redirect(request, str(request.url_for("participant_home", code=code)))
    session = await read(request, queries.get_session_by_code, code)
    if session is None:  # proved, then deleted: as for any code that does not match
        return redirect(request, auth.code_form_url(request))
    if session.status != SessionStatus.open:
        raise Conflict("This session has closed, so nobody new can join it.")
    assert session.id is not None
    groups = await read(request, queries.list_stakeholder_groups, session.population_group_id)
    context = {"session": session, "groups": groups, "values": {}, "errors": {}}
    if request.method == "GET":
        return render(request, "participate/choose_group.html", context)
    form = await request.form()
    if (size := text_size.chosen(form)) is not None:  # "Larger text" (no JavaScript): keep what was typed
        text_size.choose(request, size)
        context.update(values={"first_name": first_value(form, "first_name"),
                               "table_number": first_value(form, "table_number")})
        return text_size.remember(request, render(request, "participate/choose_group.html", context), size)
    try:
        participant = await write(request, sessions.join_session, session.id, first_value(form, "group"),
                                  first_value(form, "first_name"), first_value(form, "table_number"))
    except ValidationFailed as exc:
        context.update(values=exc.values, errors=exc.errors)
        return render(request, "participate/choose_group.html", context, status_code=422)
    auth.remember_participant(request, participant)
    return redirect(request, str(request.url_for("participant_home", code=code)))


async def home(request: Request) -> Response:
    found = await auth.joined(request)
    if found is None:
        return redirect(request, auth.code_form_url(request))
    if request.query_params.get("part") == ACCEPTED and is_htmx(request):
        # The "on the list so far" poll: 204 when the list it shows (?fp=) is still the list, so htmx
        # leaves it alone and nothing moves under a reader's eyes; one read either way.
        fingerprint = await read(request, queries.accepted_fingerprint, found[0].id or 0)
        if fingerprint is not None and request.query_params.get("fp") == fingerprint:
            return Response(status_code=204, headers={"Vary": "HX-Request"})
        return await _home_page(request, *found, fingerprint=fingerprint)
    return await _home_page(request, *found)


async def _home_page(request: Request, session: WorkshopSession, participant: Participant, *,
                     values: dict[str, object] | None = None, errors: dict[str, str] | None = None,
                     status_code: int = 200, fingerprint: str | None = None) -> Response:
    assert session.id is not None and participant.id is not None
    # The fingerprint first: a change landing between the two reads makes the next poll fetch again.
    if fingerprint is None:
        fingerprint = await read(request, queries.accepted_fingerprint, session.id)
    view = await read(request, queries.get_participant_home, session.id, participant.id)
    flash = request.session.pop(FLASH, None)
    return render(request, "participate/home.html",
                  {"view": view, "values": values or {}, "errors": errors or {}, "flash": flash,
                   "accepted_fp": fingerprint or ""},
                  fragment="participate/_accepted.html" if request.query_params.get("part") == ACCEPTED else None,
                  status_code=status_code)


async def propose(request: Request) -> Response:
    found = await auth.joined(request)
    if found is None:
        return redirect(request, auth.code_form_url(request))
    session, participant = found
    form = await request.form()
    statement, description = first_value(form, "statement"), first_value(form, "description")
    assert session.id is not None and participant.id is not None
    if (size := text_size.chosen(form)) is not None:  # "Larger text" (no JavaScript): keep the idea, send nothing
        text_size.choose(request, size)
        page = await _home_page(request, session, participant,
                                values={"statement": statement, "description": description})
        return text_size.remember(request, page, size)
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
    """'Not you?': forget this device's participant so the next person can join afresh. The device
    proved the code, so the next person goes straight to choosing a group."""
    found = await auth.joined(request, even_if_left=True)
    if found is None:
        return redirect(request, auth.code_form_url(request))
    session, _participant = found
    assert session.id is not None
    auth.forget_participant(request, session.id)
    auth.remember_proof(request, session.join_code)
    request.session.pop(FLASH, None)
    return redirect(request, str(request.url_for("choose_group", code=session.join_code)))


routes = [
    Route("/join", join, methods=["GET", "POST"], name="join"),
    Route("/j/{code}", join_code, methods=["GET", "POST"], name="join_code"),
    Route("/j/{code}/group", choose_group, methods=["GET", "POST"], name="choose_group"),
    Route("/s/{code}", home, name="participant_home"),
    Route("/s/{code}/events", room_events, name="room_events"),
    Route("/s/{code}/proposals", propose, methods=["POST"], name="propose"),
    Route("/s/{code}/leave", leave, methods=["POST"], name="leave"),
]
