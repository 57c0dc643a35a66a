"""Framework versions: list, start a draft, shortlist, freeze, approve, new draft, compare."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import integrity, queries
from codesign.contract.diff import compare, target_table
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.services import framework_versions as versions
from codesign.services import shortlist
from codesign.validation import first_value, parse_id
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.exports import prepare_all
from codesign.web.htmx import redirect
from codesign.web.templating import render


def _vid(request: Request) -> int:
    return int(request.path_params["version_id"])


def _url(request: Request, version_id: int | None = None) -> str:
    return str(request.url_for("framework_version", version_id=version_id or _vid(request)))


@auth.requires(*auth.STAFF)
async def versions_page(request: Request) -> Response:
    group_id = request.path_params["group_id"]
    group = await read(request, queries.get_population_group, group_id)
    if group is None:
        raise NotFound("No such population group")
    found = await read(request, queries.list_versions, group_id)
    return render(request, "framework/versions.html", {"group": group, "versions": found})


@auth.requires(*auth.COMMISSIONERS)
async def start(request: Request) -> Response:
    version = await write(request, versions.start_draft, auth.current_user(request), request.path_params["group_id"])
    return redirect(request, _url(request, version.id))


async def _version_page(request: Request, *, errors: dict[str, str] | None = None,
                        values: dict[str, object] | None = None, status_code: int = 200) -> Response:
    view = await read(request, queries.get_version_view, _vid(request))
    context = {"view": view, "errors": errors or {}, "values": values or {},
               "checklist": view.checklist() if view.version.status == "draft" else [],
               "warnings": view.warnings(request.app.state.settings.min_outcome_stake_pence)
               + await read(request, queries.evidence_warnings, _vid(request)),
               "accepted": await read(request, queries.list_outcomes, view.group.id or 0),
               "integrity": await read(request, integrity.verify_version, _vid(request)),
               "flash": request.session.pop("flash", None)}
    return render(request, "framework/version.html", context, status_code=status_code)


@auth.requires(*auth.STAFF)
async def version_page(request: Request) -> Response:
    return await _version_page(request)


def _form_action(act: Callable[[Request, dict[str, str]], Awaitable[None]]) -> auth.Endpoint:
    """A POST on the version page; validation errors re-render the page with them (422)."""

    @auth.requires(*auth.COMMISSIONERS)
    async def handler(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await act(request, form)
        except ValidationFailed as exc:
            return await _version_page(request, errors=exc.errors, values={**form, **exc.values}, status_code=422)
        anchor = form.get("anchor", "")
        return redirect(request, _url(request) + (f"#{anchor}" if anchor.isidentifier() else ""))

    return handler


POOLED = "pooled:"  # the build form's value for a pooled round


def _int(form: dict[str, str], key: str) -> int:
    value = parse_id(form.get(key, ""))
    if value is None:  # not an id at all ("²", 12 digits...): nothing this page offered
        raise ValidationFailed({key: "Choose one of the options"})
    return value


async def _build(request: Request, form: dict[str, str]) -> None:
    chosen = form.get("round", "")
    if chosen.startswith(POOLED):  # a pooled round: one round run in several of a panel's sessions
        added = await write(request, shortlist.build_from_panel_round, auth.current_user(request), _vid(request),
                            _int({"round": chosen.removeprefix(POOLED)}, "round"))
    else:
        added = await write(request, shortlist.build_from_round, auth.current_user(request), _vid(request),
                            _int(form, "round"))
    request.session["flash"] = f"{added} outcomes added to the shortlist from that round."


async def _include(request: Request, form: dict[str, str]) -> None:
    await write(request, shortlist.set_included, auth.current_user(request), _vid(request), _int(form, "item"),
                form.get("include") == "yes", form.get("reason", ""))


async def _add(request: Request, form: dict[str, str]) -> None:
    await write(request, shortlist.add_outcome, auth.current_user(request), _vid(request), _int(form, "outcome"),
                form.get("reason", ""))


async def _move(request: Request, form: dict[str, str]) -> None:
    await write(request, shortlist.move, auth.current_user(request), _vid(request), _int(form, "item"),
                form.get("direction", ""))


@auth.requires(*auth.COMMISSIONERS)
async def freeze(request: Request) -> Response:
    try:
        await write(request, versions.freeze, auth.current_user(request), _vid(request))
    except ValidationFailed as exc:
        return await _version_page(request, errors=exc.errors, values=exc.values, status_code=422)
    request.session["flash"] = "Frozen. This version can no longer change; its SHA-256 identifies it."
    response = redirect(request, _url(request) + "#sign-off")
    # Render the five exports now, after the response, so the first download does not wait.
    response.background = BackgroundTask(prepare_all, request, _vid(request))
    return response


@auth.requires(*auth.COMMISSIONERS)
async def approve(request: Request) -> Response:
    form = await request.form()
    try:
        await write(request, versions.approve, auth.current_user(request), _vid(request), first_value(form, "note"))
    except Conflict as exc:
        return await _version_page(request, errors={"approve": str(exc)}, status_code=409)
    request.session["flash"] = ("Approved. Every download of this version now names you as an approver; "
                                "copies saved before now do not.")
    response = redirect(request, _url(request) + "#sign-off")
    # The exports made at the freeze said "not yet approved": store the edition that names the approver.
    response.background = BackgroundTask(prepare_all, request, _vid(request))
    return response


@auth.requires(*auth.COMMISSIONERS)
async def new_draft(request: Request) -> Response:
    try:
        draft = await write(request, versions.new_draft_from, auth.current_user(request), _vid(request))
    except Conflict as exc:
        return await _version_page(request, errors={"new_draft": str(exc)}, status_code=409)
    return redirect(request, _url(request, draft.id))


@auth.requires(*auth.STAFF)
async def compare_page(request: Request) -> Response:
    other = parse_id(request.query_params.get("with", ""))
    if other is None:
        raise NotFound("Choose a version to compare with")
    left, old = await read(request, queries.get_snapshot, other)
    right, new = await read(request, queries.get_snapshot, _vid(request))
    if left.population_group_id != right.population_group_id:
        raise NotFound("Those versions belong to different population groups")
    return render(request, "framework/compare.html",
                  {"left": left, "right": right, "changes": compare(old, new), "targets": target_table(old, new)})


VERSION = "/frameworks/{version_id:id}"
routes = [
    Route("/groups/{group_id:id}/framework", versions_page, name="framework_versions"),
    Route("/groups/{group_id:id}/framework/start", start, methods=["POST"], name="start_framework"),
    Route(VERSION, version_page, name="framework_version"),
    Route(VERSION + "/shortlist/build", _form_action(_build), methods=["POST"], name="build_shortlist"),
    Route(VERSION + "/shortlist/include", _form_action(_include), methods=["POST"], name="include_outcome"),
    Route(VERSION + "/shortlist/add", _form_action(_add), methods=["POST"], name="add_to_shortlist"),
    Route(VERSION + "/shortlist/move", _form_action(_move), methods=["POST"], name="move_outcome"),
    Route(VERSION + "/freeze", freeze, methods=["POST"], name="freeze_framework"),
    Route(VERSION + "/approve", approve, methods=["POST"], name="approve_framework"),
    Route(VERSION + "/new-draft", new_draft, methods=["POST"], name="new_framework_draft"),
    Route(VERSION + "/compare", compare_page, name="compare_framework"),
]
