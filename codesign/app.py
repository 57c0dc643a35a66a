"""create_app(settings): routes, middleware and lifespan. The engine is made in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from codesign import db, paths
from codesign.config import Settings
from codesign.errors import Conflict, Forbidden, LeftSession, NotFound, RateLimited, TamperingDetected
from codesign.routes import all_routes
from codesign.web.csrf import CSRFMiddleware
from codesign.web.limits import RequestLimitsMiddleware
from codesign.web.middleware import SecurityHeadersMiddleware
from codesign.web.room_events import RoomWatch
from codesign.web.staticfiles import CachedStaticFiles
from codesign.web.templating import make_templates, render

log = logging.getLogger("codesign")
SESSION_COOKIE = "codesign_session"
SESSION_MAX_AGE = 30 * 24 * 3600  # a tablet reopened next week still knows its participant


class SchemaOutOfDate(RuntimeError):
    pass


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = db.make_engine(settings)
        current, head = db.current_revision(engine), db.head_revision(engine)
        if current != head:
            engine.dispose()
            raise SchemaOutOfDate(
                f"The database is at schema {current or 'none'} but this code needs {head}. "
                "Run `codesign migrate` first."
            )
        app.state.engine = engine
        # Start-up writes nothing (old attempt buckets are forgotten by `codesign worker`): with
        # several workers, one may still be starting while another serves, and on SQLite a write
        # then breaks another process's read-then-write transaction at once ("database is locked").
        app.state.room_watch = RoomWatch(engine, interval=settings.room_check_ms / 1000)
        try:
            yield
        finally:
            await app.state.room_watch.stop()
            engine.dispose()

    middleware = [
        Middleware(GZipMiddleware, minimum_size=600),
        Middleware(SecurityHeadersMiddleware),
        # Before the session and CSRF checks: a body is capped however its token travels.
        Middleware(RequestLimitsMiddleware),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
        Middleware(CSRFMiddleware),
    ]
    routes = [
        *all_routes,
        Mount("/static", CachedStaticFiles(directory=paths.STATIC), name="static"),
        Mount("/assets", CachedStaticFiles(directory=paths.NHSUK_ASSETS, max_age=86400, immutable=False),
              name="assets"),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            NotFound: _error_page(404),
            Forbidden: _error_page(403),
            LeftSession: _left_session,
            Conflict: _error_page(409),
            RateLimited: _error_page(429),
            TamperingDetected: _tampered,
            HTTPException: _http_error,
        },
    )
    app.state.settings = settings
    app.state.templates = make_templates(auto_reload=settings.env == "development")
    return app


def _error_page(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        return render(request, "errors/error.html", {"status": status, "message": str(exc)}, status_code=status)

    return handler


async def _left_session(request: Request, exc: Exception) -> Response:
    """A device whose participant was removed or merged: say so plainly, and let it be handed on."""
    assert isinstance(exc, LeftSession)
    return render(request, "participate/left.html", {"message": str(exc), "join_code": exc.join_code},
                  status_code=403)


async def _tampered(request: Request, exc: Exception) -> Response:
    """A stored file or snapshot no longer matches its fingerprint: say so, serve nothing (409: the
    stored state conflicts with its record; not a 500, since nothing failed)."""
    assert isinstance(exc, TamperingDetected)
    log.error("integrity check failed for %s: %s", request.url.path, exc)
    return render(request, "errors/tampered.html", {"problems": exc.problems}, status_code=409)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {
        404: "We could not find that page. Check the address, or go back to the start.",
        405: "That action is not available here.",
    }
    message = messages.get(exc.status_code, exc.detail)
    return render(request, "errors/error.html", {"status": exc.status_code, "message": message},
                  status_code=exc.status_code)
