"""Moderating outcomes in a session: accept, reword, merge, un-merge, withdraw, restore, domain, add."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import ValidationFailed
from codesign.services import outcome_control, proposals
from codesign.validation import first_value, parse_id
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.qr import join_context
from codesign.web.templating import render


def _ids(request: Request) -> tuple[int, int]:
    return request.path_params["session_id"], request.path_params["outcome_id"]


async def _outcome_page(request: Request, *, form: str = "", values: dict[str, object] | None = None,
                        errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    session_id, outcome_id = _ids(request)
    view = await read(request, queries.get_outcome_view, session_id, outcome_id)
    return render(request, "moderation/outcome.html",
                  {"view": view, "form": form, "values": values or {}, "errors": errors or {}},
                  status_code=status_code)


def _back_to_console(request: Request) -> Response:
    url = str(request.url_for("console", session_id=request.path_params["session_id"]))
    return redirect(request, url, fragment_url=url)


@auth.requires(*auth.STAFF)
async def outcome_detail(request: Request) -> Response:
    return await _outcome_page(request)


@auth.requires(*auth.FACILITATORS)
async def accept(request: Request) -> Response:
    session_id, outcome_id = _ids(request)
    await write(request, proposals.accept_outcome, auth.current_user(request), session_id, outcome_id)
    return _back_to_console(request)


Action = Callable[[Request, dict[str, str]], Awaitable[object]]


def _form_action(name: str, act: Action) -> auth.Endpoint:
    """A moderation form on the outcome page: on error re-render that page with the form's errors."""

    @auth.requires(*auth.FACILITATORS)
    async def handler(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
        try:
            await act(request, form)
        except ValidationFailed as exc:
            return await _outcome_page(request, form=name, values={**form, **exc.values}, errors=exc.errors,
                                       status_code=422)
        return _back_to_console(request)

    return handler


async def _reword(request: Request, form: dict[str, str]) -> object:
    session_id, outcome_id = _ids(request)
    return await write(request, proposals.reword_outcome, auth.current_user(request), session_id, outcome_id,
                       form.get("statement", ""), form.get("reason", ""), description=form.get("description"))


async def _merge(request: Request, form: dict[str, str]) -> object:
    session_id, outcome_id = _ids(request)
    raw = (await request.form()).getlist("merge")
    merged = [i for i in (parse_id(v) for v in raw) if i is not None]
    return await write(request, proposals.merge_outcomes, auth.current_user(request), session_id, outcome_id,
                       merged, form.get("reason", ""))


async def _withdraw(request: Request, form: dict[str, str]) -> object:
    session_id, outcome_id = _ids(request)
    return await write(request, proposals.withdraw_outcome, auth.current_user(request), session_id,
                       outcome_id, form.get("reason", ""))


async def _restore(request: Request, form: dict[str, str]) -> object:
    session_id, outcome_id = _ids(request)
    return await write(request, proposals.restore_outcome, auth.current_user(request), session_id,
                       outcome_id, form.get("reason", ""))


async def _unmerge(request: Request, form: dict[str, str]) -> object:
    session_id, outcome_id = _ids(request)
    return await write(request, outcome_control.unmerge_outcome, auth.current_user(request), session_id,
                       outcome_id, form.get("reason", ""))


async def _domain(request: Request, form: dict[str, str]) -> object:
    session_id, outcome_id = _ids(request)
    return await write(request, outcome_control.set_outcome_domain, auth.current_user(request), session_id,
                       outcome_id, form.get("domain", ""))


@auth.requires(*auth.FACILITATORS)
async def add(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    form = await request.form()
    try:
        await write(request, proposals.add_outcome, auth.current_user(request), session_id,
                    first_value(form, "statement"), first_value(form, "description"),
                    first_value(form, "domain"))
    except ValidationFailed as exc:
        view = await read(request, queries.get_console, session_id)
        return render(request, "sessions/console.html",
                      {"view": view, "values": exc.values, "errors": exc.errors,
                       **join_context(request, view.session.join_code)}, status_code=422)
    url = str(request.url_for("console", session_id=session_id))
    return redirect(request, url)


OUTCOME = "/sessions/{session_id:id}/outcomes/{outcome_id:id}"
routes = [
    Route("/sessions/{session_id:id}/outcomes", add, methods=["POST"], name="add_outcome"),
    Route(OUTCOME, outcome_detail, name="outcome"),
    Route(OUTCOME + "/accept", accept, methods=["POST"], name="accept_outcome"),
    Route(OUTCOME + "/reword", _form_action("reword", _reword), methods=["POST"], name="reword_outcome"),
    Route(OUTCOME + "/merge", _form_action("merge", _merge), methods=["POST"], name="merge_outcome"),
    Route(OUTCOME + "/withdraw", _form_action("withdraw", _withdraw), methods=["POST"], name="withdraw_outcome"),
    Route(OUTCOME + "/restore", _form_action("restore", _restore), methods=["POST"], name="restore_outcome"),
    Route(OUTCOME + "/unmerge", _form_action("unmerge", _unmerge), methods=["POST"], name="unmerge_outcome"),
    Route(OUTCOME + "/domain", _form_action("domain", _domain), methods=["POST"], name="outcome_domain"),
]
