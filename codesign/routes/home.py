"""The start page (staff dashboard or the way in), and a health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from codesign import queries
from codesign.web import text_size as text_size_switch
from codesign.web.auth import load_user
from codesign.web.dbcall import read
from codesign.web.htmx import is_htmx, local_path, redirect
from codesign.web.templating import render


async def home(request: Request) -> Response:
    user = await load_user(request)
    if user is None:
        return render(request, "home/welcome.html")
    groups = await read(request, queries.list_population_groups)
    sessions = await read(request, queries.list_sessions)
    return render(request, "home/dashboard.html", {"groups": groups, "sessions": sessions[:10]})


async def text_size(request: Request) -> Response:
    """The 'Larger text' switch: remembered on this device for a year (no account needed). Sent by
    static/js/text_size.js (htmx header) it answers 204, and the page changes size in place."""
    form = await request.form()
    size = text_size_switch.chosen(form) or ("large" if form.get("size") == "large" else "normal")
    if is_htmx(request):
        return text_size_switch.remember(request, Response(status_code=204), size)
    target = form.get("next")
    response = redirect(request, local_path(target) if isinstance(target, str) else "/")
    return text_size_switch.remember(request, response, size)


async def healthz(request: Request) -> Response:
    """Liveness: no database work, so the load benchmark can compare a trivial endpoint."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


routes = [
    Route("/", home, name="home"),
    Route("/healthz", healthz, name="healthz"),
    Route("/text-size", text_size, methods=["POST"], name="text_size"),
]
