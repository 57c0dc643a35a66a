"""Sign in and out, change your own password; administrators manage accounts."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import RateLimited, ValidationFailed
from codesign.models import Role
from codesign.services import accounts, passwords, signin
from codesign.validation import first_value
from codesign.web import auth, client
from codesign.web.dbcall import read, transactions, write
from codesign.web.htmx import redirect
from codesign.web.templating import render

CHANGED_FLASH = "password_changed"


def _safe_next(raw: str) -> str:
    # Only same-site paths: never redirect a signed-in user off to another host.
    from codesign.web.htmx import local_path  # the one helper every redirect uses

    return local_path(raw)


def _login_limits(request: Request) -> signin.LoginLimits:
    return signin.LoginLimits.from_settings(request.app.state.settings)


async def signin_page(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next", "/"))
    if request.method == "GET":
        return render(request, "accounts/signin.html", {"next": next_url, "values": {}, "errors": {}})
    form = await request.form()
    try:
        signed_in = await transactions(request, signin.sign_in, first_value(form, "email"),
                                       first_value(form, "password"), address=client.address(request),
                                       limits=_login_limits(request))
    except ValidationFailed as exc:
        return render(request, "accounts/signin.html",
                      {"next": next_url, "values": exc.values, "errors": exc.errors}, status_code=422)
    except RateLimited as exc:
        return render(request, "accounts/signin.html",
                      {"next": next_url, "values": {"email": first_value(form, "email")[:254]},
                       "errors": {"email": str(exc)}}, status_code=429)
    auth.sign_in(request, signed_in.token)
    return redirect(request, _safe_next(first_value(form, "next") or next_url))


async def signout(request: Request) -> Response:
    token = auth.login_token(request)
    if token is not None:
        await write(request, signin.sign_out, token)
    auth.sign_out(request)
    return redirect(request, str(request.url_for("home")))


@auth.requires(*auth.STAFF)
async def change_password(request: Request) -> Response:
    """Every signed-in person can change their own password; every sign-in of theirs ends, and
    this device carries on in a new one."""
    if request.method == "GET":
        changed = bool(request.session.pop(CHANGED_FLASH, False))
        return render(request, "accounts/password.html", {"errors": {}, "changed": changed})
    form = await request.form()
    user = auth.current_user(request)
    assert user.id is not None
    try:
        token = await transactions(request, accounts.change_password, user.id, first_value(form, "current_password"),
                                   first_value(form, "new_password"), first_value(form, "confirm_password"),
                                   address=client.address(request), limits=_login_limits(request))
    except ValidationFailed as exc:
        return render(request, "accounts/password.html", {"errors": exc.errors, "changed": False}, status_code=422)
    except RateLimited as exc:
        return render(request, "accounts/password.html", {"errors": {"current_password": str(exc)}, "changed": False},
                      status_code=429)
    auth.sign_in(request, token)  # every earlier sign-in ended, this device's too: carry on in a new one
    request.session[CHANGED_FLASH] = True
    return redirect(request, str(request.url_for("change_password")))


async def _users_page(request: Request, *, values: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    context = {"users": await read(request, queries.list_users), "roles": list(Role), "values": values or {},
               "errors": errors or {}}
    return render(request, "accounts/users.html", context, status_code=status_code)


@auth.requires(*auth.ADMINS)
async def users(request: Request) -> Response:
    if request.method == "GET":
        return await _users_page(request)
    form = await request.form()
    # Hashed here, before the write transaction, so no other writer waits for Argon2.
    prepared = await run_in_threadpool(passwords.new_password, first_value(form, "password"))
    try:
        await write(request, accounts.create_user, first_value(form, "email"), first_value(form, "role"),
                    prepared, name=first_value(form, "name"), actor=auth.current_user(request))
    except ValidationFailed as exc:
        return await _users_page(request, values=exc.values, errors=exc.errors, status_code=422)
    return redirect(request, str(request.url_for("users")))


@auth.requires(*auth.ADMINS)
async def user_role(request: Request) -> Response:
    form = await request.form()
    try:
        await write(request, accounts.set_role, auth.current_user(request), request.path_params["user_id"],
                    first_value(form, "role"))
    except ValidationFailed as exc:
        return await _users_page(request, errors=exc.errors, status_code=422)
    return redirect(request, str(request.url_for("users")))


@auth.requires(*auth.ADMINS)
async def user_active(request: Request) -> Response:
    form = await request.form()
    try:
        await write(request, accounts.set_active, auth.current_user(request), request.path_params["user_id"],
                    first_value(form, "active") == "yes")
    except ValidationFailed as exc:
        return await _users_page(request, errors=exc.errors, status_code=422)
    return redirect(request, str(request.url_for("users")))


routes = [
    Route("/signin", signin_page, methods=["GET", "POST"], name="signin"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/account/password", change_password, methods=["GET", "POST"], name="change_password"),
    Route("/users", users, methods=["GET", "POST"], name="users"),
    Route("/users/{user_id:id}/role", user_role, methods=["POST"], name="user_role"),
    Route("/users/{user_id:id}/active", user_active, methods=["POST"], name="user_active"),
]
