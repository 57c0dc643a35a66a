"""Response headers every page gets: a strict Content-Security-Policy with a per-request nonce, and
a Location that is always a path on this site (Starlette's own trailing-slash redirect builds an
absolute URL from the request's Host header, which the client chooses)."""

from __future__ import annotations

import secrets

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codesign.web.htmx import local_path


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope["codesign.csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault(
                    "Content-Security-Policy",
                    "default-src 'self'; "
                    f"script-src 'self' 'nonce-{nonce}'; "
                    # Inline style attributes only (server-drawn bar widths); no inline <style>.
                    "style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'",
                )
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if "location" in headers:
                    headers["Location"] = local_path(headers["location"], host=Headers(scope=scope).get("host"))
            await send(message)

        await self.app(scope, receive, send_with_headers)
