"""htmx helpers. We read only the HX-Request header, so the markup keeps working on htmx 4."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect(request: Request, url: str, *, fragment_url: str | None = None) -> Response:
    """After a successful POST (post/redirect/get).

    Plain requests get a 303 to `url`. An htmx request that swaps part of a page gets a 303 to
    `fragment_url`: the browser follows it with the same headers, so the GET renders the fragment.
    An htmx request with no fragment to show gets HX-Redirect, a full navigation to `url`.
    """
    headers = {"Vary": "HX-Request"}
    if is_htmx(request):
        if fragment_url is not None:
            return RedirectResponse(fragment_url, status_code=303, headers=headers)
        return Response(status_code=204, headers={"HX-Redirect": url, **headers})
    return RedirectResponse(url, status_code=303, headers=headers)
