"""Panels (issue 14): a population group's panels, a panel's people, sessions and pooled rounds,
the panel list upload, matching room participants to panellists, erasure, and a pooled round's
results. Facilitators and admins only (permissions.Action.manage_panels): the pages show emails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign.errors import ValidationFailed
from codesign.export.ballots_csv import pseudonym_key
from codesign.export.tally_ballots import pooled_voter, recount_command
from codesign.panel_list import PanelListError
from codesign.permissions import Action, roles
from codesign.queries import panels as q
from codesign.queries.pooled import breakdown, pooled_view
from codesign.queries.tally_files import pooled_file_name, pooled_tally_file
from codesign.routes.rounds import tally_ballots_download
from codesign.services import panel_people, panels, pooled
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.paging import page_number, search_text
from codesign.web.results_view import results_context
from codesign.web.templating import render

PANELS = roles(Action.manage_panels)
FLASH = "panel_flash"
NOT_IMPORTED = "The file was not imported, so nobody was added. Correct the problems listed and upload it again"


async def _form(request: Request) -> dict[str, Any]:
    """The form's fields: single values as text, repeated ones (checkboxes) as lists."""
    form = await request.form()
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return {k: v if len(v) > 1 or k in ("sessions", "rounds") else v[0] for k, v in out.items()}


def _one(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


def _many(form: dict[str, Any], key: str) -> list[str]:
    value = form.get(key, [])
    return [value] if isinstance(value, str) else list(value)


async def _list_page(request: Request, *, values: dict[str, Any] | None = None,
                     errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    view = await read(request, q.list_panels, request.path_params["group_id"])
    return render(request, "panels/list.html", {"view": view, "values": values or {}, "errors": errors or {}},
                  status_code=status_code)


@auth.requires(*PANELS)
async def panel_list(request: Request) -> Response:
    return await _list_page(request)


@auth.requires(*PANELS)
async def create_panel(request: Request) -> Response:
    form = await _form(request)
    try:
        made = await write(request, panels.create_panel, auth.current_user(request), request.path_params["group_id"],
                           _one(form, "name"), _one(form, "description"))
    except ValidationFailed as exc:
        return await _list_page(request, values={**form, **exc.values}, errors=exc.errors, status_code=422)
    return redirect(request, str(request.url_for("panel", panel_id=made.id)))


def _people_query(request: Request) -> dict[str, Any]:
    """The people list's page and search from the query string (?page=2&q=patel). A page that is not
    a number is page 1; one past the end is the last (the query clamps it)."""
    return {"search": search_text(request), "page": page_number(request)}


async def _panel_page(request: Request, *, form: str = "", values: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None, problems: list[str] | None = None,
                      status_code: int = 200) -> Response:
    view = await read(request, q.get_panel_view, request.path_params["panel_id"], **_people_query(request))
    return render(request, "panels/panel.html",
                  {"view": view, "form": form, "values": values or {}, "errors": errors or {},
                   "problems": problems or [], "flash": request.session.pop(FLASH, None)}, status_code=status_code)


@auth.requires(*PANELS)
async def panel(request: Request) -> Response:
    return await _panel_page(request)


Act = Callable[[Request, dict[str, Any]], Awaitable[str]]


def _panel_action(name: str, act: Act) -> auth.Endpoint:
    """A form on the panel page: on error the page again with that form's errors (422, nothing
    changed); on success back to the page (303), which says what happened."""

    @auth.requires(*PANELS)
    async def handler(request: Request) -> Response:
        form = await _form(request)
        try:
            request.session[FLASH] = await act(request, form)
        except ValidationFailed as exc:
            return await _panel_page(request, form=name, values={**form, **exc.values}, errors=exc.errors,
                                     status_code=422)
        return redirect(request, str(request.url_for("panel", panel_id=request.path_params["panel_id"])))

    return handler


def _pid(request: Request) -> int:
    return int(request.path_params["panel_id"])


async def _add(request: Request, form: dict[str, Any]) -> str:
    person = await write(request, panels.add_panellist, auth.current_user(request), _pid(request), _one(form, "name"),
                         _one(form, "email"), _one(form, "group"), _one(form, "organisation"))
    return f"Added panellist {person.number}."


async def _attach(request: Request, form: dict[str, Any]) -> str:
    found = await write(request, panel_people.attach_session, auth.current_user(request), _pid(request),
                        _one(form, "session"))
    return f"“{found.title}” is now one of this panel’s sessions."


async def _new_session(request: Request, form: dict[str, Any]) -> str:
    found = await write(request, panel_people.create_panel_session, auth.current_user(request), _pid(request),
                        _one(form, "title"), _one(form, "held_on"), _one(form, "mode"))
    return f"Created the session “{found.title}”."


async def _link(request: Request, form: dict[str, Any]) -> str:
    made = await write(request, pooled.link_rounds, auth.current_user(request), _pid(request), _many(form, "rounds"))
    return f"Pooled round {made.number} “{made.title}” made: its results will pool every session’s ballots."


async def _match(request: Request, form: dict[str, Any]) -> str:
    by_number = "panellist_number" in form  # the page's field; "panellist" (an id) still works
    found = await write(request, panel_people.match_participant, auth.current_user(request), _pid(request),
                        _one(form, "participant"), _one(form, "panellist_number" if by_number else "panellist"),
                        by_number=by_number)
    return found.message


async def _upload_file(request: Request) -> dict[str, Any]:
    """The uploaded CSV as text (or why it cannot be read) in the form's place."""
    async with request.form() as form:  # closes the uploaded file's temporary copy
        upload = form.get("file")
        raw = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    if not raw:
        raise ValidationFailed({"file": "Choose a CSV file of the panel list to upload"})
    try:
        return {"text": raw.decode("utf-8-sig")}
    except UnicodeDecodeError:
        raise ValidationFailed({"file": "The file is not UTF-8 text. Save it as CSV UTF-8 and upload it again"}) \
            from None


@auth.requires(*PANELS)
async def upload_list(request: Request) -> Response:
    try:
        form = await _upload_file(request)
        added = await write(request, panel_people.upload_panel_list, auth.current_user(request), _pid(request),
                            form["text"])
    except ValidationFailed as exc:
        return await _panel_page(request, form="upload", errors=exc.errors, status_code=422)
    except PanelListError as exc:
        return await _panel_page(request, form="upload", errors={"file": NOT_IMPORTED},
                                 problems=[p.describe() for p in exc.problems], status_code=422)
    request.session[FLASH] = f"Added {added} people from the panel list."
    return redirect(request, str(request.url_for("panel", panel_id=_pid(request))))


async def _person_page(request: Request, template: str) -> Response:
    person = await read(request, q.get_panellist, _pid(request), request.path_params["panellist_id"])
    panel = await read(request, q.get_panel, _pid(request))
    return render(request, template, {"panel": panel, "person": person})


@auth.requires(*PANELS)
async def erase_page(request: Request) -> Response:
    return await _person_page(request, "panels/erase.html")


@auth.requires(*PANELS)
async def erase(request: Request) -> Response:
    person = await write(request, panel_people.erase_panellist, auth.current_user(request), _pid(request),
                         request.path_params["panellist_id"])
    request.session[FLASH] = f"Panellist {person.number}’s personal data has been erased. Their answers stay, unnamed."
    return redirect(request, str(request.url_for("panel", panel_id=_pid(request))))


@auth.requires(*PANELS)
async def revoke(request: Request) -> Response:
    person = await write(request, panel_people.revoke_link, auth.current_user(request), _pid(request),
                         request.path_params["panellist_id"])
    request.session[FLASH] = f"Panellist {person.number}’s personal link no longer works."
    return redirect(request, str(request.url_for("panel", panel_id=_pid(request))))


@auth.requires(*PANELS)
async def pooled_results(request: Request) -> Response:
    view = await read(request, pooled_view, _pid(request), request.path_params["panel_round_id"])
    pooled_context = results_context(view.pooled, public=True) if view.pooled is not None else None
    members = [(m, results_context(m.results, public=True)) for m in view.members]
    recount = (recount_command(view.pooled, pooled_file_name(_pid(request), view.panel_round.number))
               if view.pooled is not None and not view.members[0].round.table_based else None)
    return render(request, "panels/pooled.html", {"view": view, "pooled": pooled_context, "members": members,
                                                  "places": breakdown(view), "recount": recount})


@auth.requires(*PANELS)
async def pooled_ballots(request: Request) -> Response:
    """The pooled ballots in `codesign tally`'s format, each person once, with a pseudonym per pool."""
    found = await read(request, pooled_tally_file, _pid(request), request.path_params["panel_round_id"])
    return tally_ballots_download(found, pooled_voter(pseudonym_key(request.app.state.settings.secret_key), found.id))


async def _pool_page(request: Request, *, values: dict[str, Any] | None = None,
                     errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    found, session, others = await read(request, q.other_panel_sessions, request.path_params["session_id"],
                                        request.path_params["round_id"])
    return render(request, "panels/run_elsewhere.html",
                  {"round": found, "session": session, "others": others, "values": values or {},
                   "errors": errors or {}}, status_code=status_code)


@auth.requires(*PANELS)
async def run_elsewhere_page(request: Request) -> Response:
    return await _pool_page(request)


@auth.requires(*PANELS)
async def run_elsewhere(request: Request) -> Response:
    form = await _form(request)
    try:
        made = await write(request, pooled.run_in_sessions, auth.current_user(request),
                           request.path_params["session_id"], request.path_params["round_id"],
                           _many(form, "sessions"))
    except ValidationFailed as exc:
        return await _pool_page(request, values=form, errors=exc.errors, status_code=422)
    request.session[FLASH] = f"Pooled round {made.number} “{made.title}” now runs in the sessions you chose."
    return redirect(request, str(request.url_for("panel", panel_id=made.panel_id)))


PANEL = "/panels/{panel_id:id}"
PERSON = PANEL + "/people/{panellist_id:id}"
routes = [
    Route("/groups/{group_id:id}/panels", panel_list, name="panels"),
    Route("/groups/{group_id:id}/panels", create_panel, methods=["POST"], name="create_panel"),
    Route(PANEL, panel, name="panel"),
    Route(PANEL + "/people", _panel_action("add", _add), methods=["POST"], name="add_panellist"),
    Route(PANEL + "/upload", upload_list, methods=["POST"], name="upload_panel_list"),
    Route(PANEL + "/sessions", _panel_action("attach", _attach), methods=["POST"], name="attach_panel_session"),
    Route(PANEL + "/sessions/new", _panel_action("new_session", _new_session), methods=["POST"],
          name="new_panel_session"),
    Route(PANEL + "/link", _panel_action("link", _link), methods=["POST"], name="link_rounds"),
    Route(PANEL + "/match", _panel_action("match", _match), methods=["POST"], name="match_participant"),
    Route(PERSON + "/erase", erase_page, name="erase_panellist"),
    Route(PERSON + "/erase", erase, methods=["POST"], name="erase_panellist_confirmed"),
    Route(PERSON + "/revoke", revoke, methods=["POST"], name="revoke_link"),
    Route(PANEL + "/rounds/{panel_round_id:id}", pooled_results, name="pooled_round"),
    Route(PANEL + "/rounds/{panel_round_id:id}/ballots.csv", pooled_ballots, name="pooled_round_ballots"),
    Route("/sessions/{session_id:id}/rounds/{round_id:id}/elsewhere", run_elsewhere_page, name="run_elsewhere"),
    Route("/sessions/{session_id:id}/rounds/{round_id:id}/elsewhere", run_elsewhere, methods=["POST"],
          name="run_elsewhere_post"),
]
