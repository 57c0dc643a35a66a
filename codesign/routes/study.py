"""A panel's study across its rounds: participation, attrition and stability (issue 14, section 3).
Staff only: it shows per-group figures that the public appendix leaves out for small groups."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign.queries.study import get_study
from codesign.web import auth
from codesign.web.dbcall import read
from codesign.web.study_view import study_context
from codesign.web.templating import render


@auth.requires(*auth.STAFF)
async def stability(request: Request) -> Response:
    view = await read(request, get_study, request.path_params["panel_id"])
    return render(request, "study/stability.html", study_context(view))


routes = [
    Route("/panels/{panel_id:id}/stability", stability, name="panel_stability"),
]
