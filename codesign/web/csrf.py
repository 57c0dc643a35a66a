"""CSRF protection: a per-visitor token kept in the signed session cookie.

Every POST/PUT/PATCH/DELETE must carry the token, in the form field `csrf_token` or the
`X-CSRF-Token` header (our retrying ballot script uses the header). Otherwise the request is refused
with 403 before any handler runs, so nothing changes. Runs inside SessionMiddleware.

Bodies are capped before this runs (codesign/web/limits.py), by path, whichever way the token
comes; the cap here only bounds what this middleware itself holds while it looks for the token.

Hand-written rather than asgi-csrf or starlette-csrf: both skip the check for requests that carry no
cookie at all, and we want every state-changing request checked, whoever sends it.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codesign.web.limits import IMPORT_BODY

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SESSION_KEY = "csrf"
MAX_BODY_BYTES = IMPORT_BODY


def csrf_token(request: Request) -> str:
    """The visitor's token, made on first use ("" outside the session middleware, e.g. a 500 page)."""
    if "session" not in request.scope:
        return ""
    session = request.session
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


# The one path a POST needs no token on: RFC 8058 one-click unsubscribe, which a mail client sends
# with no page and no cookie. The unguessable token in the URL is the authority, and the endpoint
# only ever unsubscribes (routes.online.one_click), so a forged request can do nothing worse.
NO_TOKEN_PATH = re.compile(r"^/unsubscribe/[A-Za-z0-9_-]{1,64}/one-click$")


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or (
                scope["method"] == "POST" and NO_TOKEN_PATH.match(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get(SESSION_KEY)
        headers = Headers(scope=scope)
        supplied = headers.get(HEADER)
        body: bytes | None = None
        if supplied is None:
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:
                await _refuse(scope, receive, send, 413, "That upload is too large (10 MB at most).")
                return
            supplied = await _token_from_body(scope, body, headers.get("content-type", ""))
        if not (
            isinstance(expected, str) and supplied and secrets.compare_digest(expected, supplied)
        ):
            await _refuse(
                scope,
                receive,
                send,
                403,
                "Nothing was saved: this page's security token was missing or out of date. "
                "Go back, reload the page and try again.",
            )
            return
        await self.app(scope, _replay(body, receive) if body is not None else receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _token_from_body(scope: Scope, body: bytes, content_type: str) -> str | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD, [])
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        request = Request(scope, _replay(body, _no_more))
        try:
            form = await request.form()
        except Exception:
            return None
        try:
            value = form.get(FIELD)
            return value if isinstance(value, str) else None
        finally:
            await form.close()
    return None


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    app = scope.get("app")
    templates = getattr(getattr(app, "state", None), "templates", None)
    if templates is not None:
        request = Request(scope, receive)
        response = templates.TemplateResponse(
            request, "errors/error.html", {"status": status, "message": message}, status_code=status
        )
    else:  # pragma: no cover - only when mounted without the app
        response = HTMLResponse(message, status_code=status)
    await response(scope, receive, send)
