"""Online rounds: a panellist's personal link (/take-part/<token>), unsubscribing (/unsubscribe/<token>), and the
facilitator's page for an online round (its window, invitations, reminders and their schedule).

GET never changes anything: a personal link's first visit shows a "Start" button (a POST makes the
participant); a return visit finds that participant and only puts it back in this device's signed
cookie. From there the panellist is on the room's own participant and voting pages (routes.vote).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import Participant, WorkshopSession
from codesign.queries import online as queries
from codesign.services import online
from codesign.uk_time import form_value
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.templating import render

FLASH = "online_flash"
TOKEN_MAX = 64


def _token(request: Request) -> str:
    token = str(request.path_params["token"])
    return token if len(token) <= TOKEN_MAX else ""


def _landing(request: Request, session: WorkshopSession, round_id: int | None) -> str:
    if round_id is not None:
        return str(request.url_for("vote_round", code=session.join_code, round_id=round_id))
    return str(request.url_for("participant_home", code=session.join_code))


def _enter(request: Request, session: WorkshopSession, participant: Participant, round_id: int | None) -> Response:
    auth.remember_participant(request, participant)
    return redirect(request, _landing(request, session, round_id))


async def personal_link(request: Request) -> Response:
    token = _token(request)
    view = await read(request, queries.personal_link, token)
    if view.problem is not None:
        return render(request, "online/link_gone.html", {"message": view.problem}, status_code=410)
    if request.method == "POST":
        await request.form()  # only the CSRF token, which the middleware has checked
        try:
            session, participant = await write(request, online.start_link, token)
        except Conflict as exc:
            return render(request, "online/link_gone.html", {"message": str(exc)}, status_code=409)
        return _enter(request, session, participant, view.open_round.id if view.open_round else None)
    if view.session is not None and view.participant is not None:  # a return visit: the cookie again
        return _enter(request, view.session, view.participant, view.open_round.id if view.open_round else None)
    return render(request, "online/start.html", {"view": view})


async def unsubscribe(request: Request) -> Response:
    token = _token(request)
    target = await read(request, queries.unsubscribe_target, token)
    if target is None:
        return render(request, "online/link_gone.html", {"message": "This unsubscribe link does not work. "
                      "Please check you copied all of it from the email."}, status_code=404)
    if request.method == "POST":
        try:
            await write(request, online.unsubscribe, token)
        except NotFound as exc:
            return render(request, "online/link_gone.html", {"message": str(exc)}, status_code=404)
        return redirect(request, str(request.url_for("unsubscribe", token=token)))
    person, study = target
    return render(request, "online/unsubscribe.html", {"done": person.unsubscribed_at is not None, "study": study})


async def one_click(request: Request) -> Response:
    """RFC 8058 one-click unsubscribe (the List-Unsubscribe header's address). A mail client POSTs
    here with no CSRF token (codesign.web.csrf lets this one path through): the token in the URL is
    the authority, and this only ever unsubscribes. A GET (a client without one-click) is the
    ordinary page, which asks first."""
    token = _token(request)
    if request.method != "POST":
        return redirect(request, str(request.url_for("unsubscribe", token=token)))
    try:
        await write(request, online.unsubscribe, token)
    except NotFound:
        return PlainTextResponse("This unsubscribe link does not work.", status_code=404)
    return PlainTextResponse("You will get no more emails from this study.")


# ---- the facilitator's page for an online round ------------------------------------------------

def _ids(request: Request) -> tuple[int, int]:
    return request.path_params["session_id"], request.path_params["round_id"]


def _base_url(request: Request) -> str:
    public = request.app.state.settings.public_url
    return str(public or str(request.base_url).rstrip("/"))


async def _round_page(request: Request, *, form: str = "", values: dict[str, object] | None = None,
                      errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    view = await read(request, queries.online_round_page, *_ids(request))
    shown = {"opens_at": form_value(view.round.opens_at), "closes_at": form_value(view.round.closes_at),
             "days": ", ".join(str(s.days_after_open) for s in view.schedule), **(values or {})}
    return render(request, "online/round.html", {"view": view, "form": form, "values": shown, "errors": errors or {},
                                                 "flash": request.session.pop(FLASH, None)}, status_code=status_code)


@auth.requires(*auth.STAFF)
async def online_round(request: Request) -> Response:
    return await _round_page(request)


@auth.requires(*auth.FACILITATORS)
async def round_action(request: Request) -> Response:
    action = str(request.path_params["action"])
    form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
    user, (session_id, round_id) = auth.current_user(request), _ids(request)
    try:
        if action == "window":
            await write(request, online.set_window, user, session_id, round_id, form.get("opens_at", ""),
                        form.get("closes_at", ""))
            done = "Saved when the round opens and closes."
        elif action == "invitations":
            added = await write(request, online.queue_invitations, user, session_id, round_id, _base_url(request))
            done = f"{added} invitations are on their way." if added else "Everyone has been invited already."
        elif action == "reminders":
            added = await write(request, online.queue_reminders, user, session_id, round_id, _base_url(request))
            done = (f"{added} reminders are on their way." if added
                    else "Nobody to remind: everyone has finished, unsubscribed or was reminded today.")
        elif action == "schedule":
            days = await write(request, online.set_reminder_days, user, session_id, round_id, first_value(form, "days"))
            done = ("Reminders will go " + ", ".join(f"{d} days" for d in days) + " after the round opens."
                    if days else "No reminders are scheduled.")
        else:
            raise NotFound("No such action")
    except ValidationFailed as exc:
        return await _round_page(request, form=action, values=dict(exc.values), errors=exc.errors, status_code=422)
    request.session[FLASH] = done
    return redirect(request, str(request.url_for("online_round", session_id=session_id, round_id=round_id)))


ROUND = "/sessions/{session_id:id}/rounds/{round_id:id}/online"
routes = [
    Route("/take-part/{token}", personal_link, methods=["GET", "POST"], name="personal_link"),
    Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"], name="unsubscribe"),
    Route("/unsubscribe/{token}/one-click", one_click, methods=["GET", "POST"], name="unsubscribe_one_click"),
    Route(ROUND, online_round, name="online_round"),
    Route(ROUND + "/{action:str}", round_action, methods=["POST"], name="online_round_action"),
]
