"""Population groups: list, create (blank or from a template), detail, stakeholder weights."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import NotFound, ValidationFailed
from codesign.library import population_templates
from codesign.services import population
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.templating import render


@auth.requires(*auth.FACILITATORS)
async def new_group(request: Request) -> Response:
    templates = population_templates()
    context = {"templates": templates, "values": {"template": request.query_params.get("template", "")},
               "errors": {}}
    if request.method == "GET":
        return render(request, "population/new.html", context)
    form = await request.form()
    try:
        group = await write(request, population.create_population_group, auth.current_user(request),
                            first_value(form, "name"), first_value(form, "description"),
                            first_value(form, "template"))
    except ValidationFailed as exc:
        context.update(values=exc.values, errors=exc.errors)
        return render(request, "population/new.html", context, status_code=422)
    return redirect(request, str(request.url_for("population_group", group_id=group.id)))


@auth.requires(*auth.STAFF)
async def group_detail(request: Request) -> Response:
    view = await read(request, queries.get_population_overview, request.path_params["group_id"])
    return render(request, "population/detail.html", {"view": view, "values": {}, "errors": {}})


@auth.requires(*auth.FACILITATORS)
async def set_weights(request: Request) -> Response:
    group_id = request.path_params["group_id"]
    form = await request.form()
    weights = {key[len("weight-"):]: value for key, value in form.items()
               if key.startswith("weight-") and isinstance(value, str)}
    try:
        await write(request, population.set_stakeholder_weights, auth.current_user(request), group_id, weights)
    except ValidationFailed as exc:
        view = await read(request, queries.get_population_overview, group_id)
        return render(request, "population/detail.html",
                      {"view": view, "values": exc.values, "errors": exc.errors}, status_code=422)
    return redirect(request, str(request.url_for("population_group", group_id=group_id)))


@auth.requires(*auth.STAFF)
async def group_audit(request: Request) -> Response:
    group_id = request.path_params["group_id"]
    group = await read(request, queries.get_population_group, group_id)
    if group is None:
        raise NotFound("No such population group")
    events = await read(request, queries.list_audit_events, population_group_id=group_id, limit=500)
    return render(request, "audit/log.html", {"events": events, "group": group, "session": None})


routes = [
    Route("/groups/new", new_group, methods=["GET", "POST"], name="new_population_group"),
    Route("/groups/{group_id:id}", group_detail, name="population_group"),
    Route("/groups/{group_id:id}/weights", set_weights, methods=["POST"], name="stakeholder_weights"),
    Route("/groups/{group_id:id}/audit", group_audit, name="population_group_audit"),
]
