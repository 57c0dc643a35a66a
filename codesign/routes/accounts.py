"""Sign in and out; administrators manage accounts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import RateLimited, ValidationFailed
from codesign.models import Role
from codesign.services import accounts
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.templating import render


def _safe_next(raw: str) -> str:
    # Only same-site paths: never redirect a signed-in user off to another host.
    from codesign.web.htmx import local_path  # the one helper every redirect uses

    return local_path(raw)


async def signin(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next", "/"))
    if request.method == "GET":
        return render(request, "accounts/signin.html", {"next": next_url, "values": {}, "errors": {}})
    form = await request.form()
    settings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    try:
        user = await write(
            request, accounts.sign_in, first_value(form, "email"), first_value(form, "password"),
            address=address, max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        )
    except ValidationFailed as exc:
        return render(request, "accounts/signin.html",
                      {"next": next_url, "values": exc.values, "errors": exc.errors}, status_code=422)
    except RateLimited as exc:
        return render(request, "accounts/signin.html",
                      {"next": next_url, "values": {}, "errors": {"email": str(exc)}}, status_code=429)
    auth.sign_in(request, user)
    return redirect(request, _safe_next(first_value(form, "next") or next_url))


async def signout(request: Request) -> Response:
    auth.sign_out(request)
    return redirect(request, str(request.url_for("home")))


@auth.requires(*auth.ADMINS)
async def users(request: Request) -> Response:
    context = {"users": await read(request, queries.list_users), "roles": list(Role), "values": {}, "errors": {}}
    if request.method == "GET":
        return render(request, "accounts/users.html", context)
    form = await request.form()
    try:
        await write(request, accounts.create_user, first_value(form, "email"), first_value(form, "role"),
                    first_value(form, "password"), name=first_value(form, "name"),
                    actor=auth.current_user(request))
    except ValidationFailed as exc:
        context.update(values=exc.values, errors=exc.errors)
        return render(request, "accounts/users.html", context, status_code=422)
    return redirect(request, str(request.url_for("users")))


routes = [
    Route("/signin", signin, methods=["GET", "POST"], name="signin"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/users", users, methods=["GET", "POST"], name="users"),
]
