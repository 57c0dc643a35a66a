"""Downloads of a frozen version (signed-in users) and its public "you said, we did" page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import export, queries
from codesign.errors import NotFound
from codesign.web import auth
from codesign.web.dbcall import read
from codesign.web.exports import export_bytes
from codesign.web.templating import render


@auth.requires(*auth.STAFF)
async def download(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in export.FORMATS:
        raise NotFound("No such format")
    content, filename = await export_bytes(request, int(request.path_params["version_id"]), fmt)
    return Response(content, media_type=export.FORMATS[fmt].media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, max-age=0"})


async def public_page(request: Request) -> Response:
    """Reachable by the unguessable link alone: no sign-in, no participant identities, small groups hidden."""
    view = await read(request, queries.get_public_view, str(request.path_params["token"]))
    return render(request, "public/framework.html", {"snapshot": view.snapshot, "sha256": view.version.sha256,
                                                     "version": view.version, "library": view.library_wording},
                  headers={"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})


routes = [
    Route("/frameworks/{version_id:id}/export/{fmt}", download, name="export_framework"),
    Route("/p/{token}", public_page, name="public_framework"),
]
