"""The start page (staff dashboard or the way in), and a health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from codesign import queries
from codesign.web.auth import load_user
from codesign.web.dbcall import read
from codesign.web.templating import render


async def home(request: Request) -> Response:
    user = await load_user(request)
    if user is None:
        return render(request, "home/welcome.html")
    groups = await read(request, queries.list_population_groups)
    sessions = await read(request, queries.list_sessions)
    return render(request, "home/dashboard.html", {"groups": groups, "sessions": sessions[:10]})


async def healthz(request: Request) -> Response:
    """Liveness: no database work, so the load benchmark can compare a trivial endpoint."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


routes = [
    Route("/", home, name="home"),
    Route("/healthz", healthz, name="healthz"),
]
