"""The presenter screen: one URL per session for the big screen, showing whatever the room is doing.

GET /sessions/<id>/present picks the screen from the room's live view (services/room.py): the
lobby (code, QR, who has joined) while people join or propose, a round's voting progress, "results
soon" after it closes, its results once revealed, a pause screen, or "closed". The screen follows the
room through the same event stream as participants' devices (GET /sessions/<id>/events), so it
reloads itself only when the room moves; within a screen, the lobby and round views refresh their
own figures as before. The join code and QR stay in a corner of every screen but the lobby.
POST /sessions/<id>/pause and /resume: the facilitator pauses and resumes the room; POST
/sessions/<id>/rounds/<id>/countdown starts or stops a round's countdown.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import NotFound, ValidationFailed
from codesign.models import LiveView
from codesign.routes.rounds import round_page
from codesign.services import room
from codesign.validation import first_value, parse_id
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.qr import join_context
from codesign.web.results_view import PROJECTOR_PAGE_SIZE, paginate, results_context
from codesign.web.room_events import staff_room_events
from codesign.web.templating import render


@auth.requires(*auth.STAFF)
async def present(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    state = await read(request, queries.get_room_state, session_id)
    if state is None:
        raise NotFound("No such session")
    context: dict[str, object] = {"state": state, "screen": "lobby", **join_context(request, state.join_code)}
    if state.view in (LiveView.voting, LiveView.closed, LiveView.results) and state.round_id is not None:
        found = await read(request, queries.get_round, session_id, state.round_id)
        session, _group = await read(request, queries.get_session_and_group, session_id)
        progress = await read(request, queries.round_progress, found)
        shown: dict[str, object] = {}
        if found.revealed:
            results = await read(request, queries.round_results, session_id, state.round_id)
            page = parse_id(request.query_params.get("page", "")) or 1
            # The room is a public audience: groups under the minimum size are not shown.
            shown = paginate(results_context(results, public=True), page, PROJECTOR_PAGE_SIZE)
        fingerprint = await read(request, queries.round_fingerprint, found)
        context.update(screen="round", session=session, round=found, progress=progress, fingerprint=fingerprint,
                       **shown)
    elif state.view == LiveView.pause:
        session, _group = await read(request, queries.get_session_and_group, session_id)
        context.update(screen="pause", session=session)
    else:
        view = await read(request, queries.get_console, session_id)
        context.update(screen="lobby", view=view, session=view.session,
                       fingerprint=await read(request, queries.console_fingerprint, session_id))
    return render(request, "sessions/present.html", context)


def _pause(paused: bool) -> auth.Endpoint:
    @auth.requires(*auth.FACILITATORS)
    async def action(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        await write(request, room.set_paused, auth.current_user(request), session_id, paused)
        return redirect(request, str(request.url_for("console", session_id=session_id)))

    return action


@auth.requires(*auth.FACILITATORS)
async def countdown(request: Request) -> Response:
    session_id, round_id = request.path_params["session_id"], request.path_params["round_id"]
    form = await request.form()
    try:
        await write(request, room.set_countdown, auth.current_user(request), session_id, round_id,
                    first_value(form, "minutes"))
    except ValidationFailed as exc:
        typed = {"minutes": str(exc.values.get("minutes", ""))}
        return await round_page(request, errors=exc.errors, values=typed, status_code=422)
    return redirect(request, str(request.url_for("round", session_id=session_id, round_id=round_id)))


routes = [
    Route("/sessions/{session_id:id}/present", present, name="present"),
    Route("/sessions/{session_id:id}/events", staff_room_events, name="staff_room_events"),
    Route("/sessions/{session_id:id}/pause", _pause(True), methods=["POST"], name="pause_room"),
    Route("/sessions/{session_id:id}/resume", _pause(False), methods=["POST"], name="resume_room"),
    Route("/sessions/{session_id:id}/rounds/{round_id:id}/countdown", countdown, methods=["POST"],
          name="round_countdown"),
]
