"""htmx helpers. We read only the HX-Request header, so the markup keeps working on htmx 4."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

# Browsers drop tabs and newlines anywhere in a URL and control characters and spaces at its ends,
# and read "\" as "/": "/\t/evil.example" and "/\evil.example" both become "//evil.example", another
# host. So a path with any of these is refused outright rather than cleaned.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")
# What may stay unescaped in a Location header; everything else (non-ASCII) is percent-encoded.
_SAFE_CHARS = "/?#&=%:@!$'()*+,;~[]"


def local_path(url: str, *, host: str | None = None, default: str = "/") -> str:
    """`url` as a path on this site ("/..."), or `default` if it could lead anywhere else.

    An absolute URL is accepted only for `host` (the request's own, as url_for makes them) and is
    cut down to its path, query and fragment; "//host", "/\\host", "http://other", "javascript:"
    and anything with control characters or spaces give `default`.
    """
    if not isinstance(url, str) or not url or _UNSAFE.search(url):
        return default
    try:
        parts = urlsplit(url)
    except ValueError:  # "//[" and other broken hosts
        return default
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or host is None or parts.netloc.lower() != host.lower():
            return default
        url = parts.path or "/"
        url += f"?{parts.query}" if parts.query else ""
        url += f"#{parts.fragment}" if parts.fragment else ""
    if not url.startswith("/") or url.startswith("//"):
        return default
    return quote(url, safe=_SAFE_CHARS)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect(request: Request, url: str, *, fragment_url: str | None = None) -> Response:
    """After a successful POST (post/redirect/get).

    Plain requests get a 303 to `url`. An htmx request that swaps part of a page gets a 303 to
    `fragment_url`: the browser follows it with the same headers, so the GET renders the fragment.
    An htmx request with no fragment to show gets HX-Redirect, a full navigation to `url`.
    Every target becomes a local path first (see local_path): never another site.
    """
    headers = {"Vary": "HX-Request"}
    host = request.url.netloc
    url = local_path(url, host=host)
    if is_htmx(request):
        if fragment_url is not None:
            return RedirectResponse(local_path(fragment_url, host=host), status_code=303, headers=headers)
        return Response(status_code=204, headers={"HX-Redirect": url, **headers})
    return RedirectResponse(url, status_code=303, headers=headers)
