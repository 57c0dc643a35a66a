"""Limits every request meets before any handler, session or CSRF check runs.

Body size: each request body is capped by what its path can need, however its CSRF token travels
(the CSRF check reads the body only when the token is not in the X-CSRF-Token header, so a cap
there let a header-token post of 1 GB through). A declared Content-Length over the cap is refused
at once; a body without one (chunked) is counted as it arrives and refused at the cap, so no more
than the cap (plus the chunk that crossed it) is ever held.

- Participants' and anonymous posts (`/join`, `/j/...`, `/s/...`, `/signin`, `/text-size`):
  SMALL_BODY (32 KB). The longest thing a participant types is a 200-character idea.
- The facilitator's ballot import (`/sessions/<id>/rounds/<id>/import`): IMPORT_BODY (10 MB),
  enough for about 200,000 ballot lines.
- Every other staff form: STAFF_BODY (1 MB).

Addresses: no page has a control character (a NUL, say) in its address, and none belongs in a query
string, so such requests are refused here rather than reaching the database (PostgreSQL refuses NUL
in text: a 500).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
SMALL_BODY = 32 * KB
STAFF_BODY = 1024 * KB
IMPORT_BODY = 10 * 1024 * KB
_SMALL_PATHS = re.compile(r"^/(join|j/|s/|signin|text-size)")
_IMPORT_PATH = re.compile(r"^/sessions/[0-9]+/rounds/[0-9]+/import$")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    if _IMPORT_PATH.match(path):
        return IMPORT_BODY
    if _SMALL_PATHS.match(path):
        return SMALL_BODY
    return STAFF_BODY


def _describe(limit: int) -> str:
    return f"{limit // (1024 * KB)} MB" if limit >= 1024 * KB else f"{limit // KB} KB"


class _TooLarge(Exception):
    """Raised from receive() when the body passes the cap; caught by the middleware below."""


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _CONTROL.search(path.encode("utf-8", "surrogateescape")):
            await _refuse(scope, send, 404, "We could not find that page. Check the address, or go back to the start.")
            return
        if _CONTROL.search(unquote_to_bytes(scope.get("query_string", b""))):
            await _refuse(scope, send, 400, "The address has a character in it that cannot be part of a web address. "
                                            "Go back and try again.")
            return
        limit = body_limit(path)
        too_large = (f"That is more than this page accepts ({_describe(limit)} at most), so nothing was saved."
                     if limit != IMPORT_BODY else
                     f"That file is too large to import ({_describe(limit)} at most), so nothing was saved. "
                     "Split it into smaller files.")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isascii() or not declared.isdecimal() or int(declared) > limit):
            await _refuse(scope, send, 413 if declared.isascii() and declared.isdecimal() else 400, too_large)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if started:  # pragma: no cover - every handler reads its body before it answers
                raise
            await _refuse(scope, send, 413, too_large)


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    """A short error page, without reading the body (outside the session: no user, no token)."""
    app = scope.get("app")
    templates = getattr(getattr(app, "state", None), "templates", None)
    response: Response
    if templates is not None:
        response = templates.TemplateResponse(Request(scope), "errors/error.html",
                                              {"status": status, "message": message}, status_code=status)
        response.headers["Cache-Control"] = "no-store"
    else:  # pragma: no cover - only when mounted without the app
        response = HTMLResponse(message, status_code=status)
    # The body was not read: tell the client not to send the rest on this connection.
    response.headers["Connection"] = "close"

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
