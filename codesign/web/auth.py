"""Who is asking: signed-in users (facilitator pages) and participants (their session's pages).

Both live in the signed session cookie (HttpOnly, SameSite=Lax). A participant entry names one
session and its random token; it never satisfies a user check, and it opens only its own session.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from codesign import queries
from codesign.errors import Forbidden, NotFound
from codesign.models import Participant, Role, User, WorkshopSession
from codesign.web.dbcall import read
from codesign.web.htmx import redirect

Endpoint = Callable[[Request], Awaitable[Response]]
USER_KEY = "uid"
PARTICIPANTS_KEY = "participants"

FACILITATORS = (Role.admin, Role.facilitator)
COMMISSIONERS = (Role.admin, Role.commissioner, Role.facilitator)
STAFF = (Role.admin, Role.facilitator, Role.commissioner, Role.observer)
ADMINS = (Role.admin,)


def sign_in(request: Request, user: User) -> None:
    """Start a fresh cookie session for the user (no fixation), keeping participant entries."""
    participants = request.session.get(PARTICIPANTS_KEY)
    request.session.clear()
    if participants:
        request.session[PARTICIPANTS_KEY] = participants
    request.session[USER_KEY] = user.id


def sign_out(request: Request) -> None:
    request.session.pop(USER_KEY, None)
    request.session.pop("csrf", None)


async def load_user(request: Request) -> User | None:
    uid = request.session.get(USER_KEY)
    if not isinstance(uid, int):
        return None
    user = await read(request, queries.get_user, uid)
    if user is None or not user.active:
        return None
    request.scope["codesign.user"] = user
    return user


def current_user(request: Request) -> User:
    user = request.scope.get("codesign.user")
    if not isinstance(user, User):
        raise Forbidden("Sign in to see this page.")
    return user


def requires(*roles: str) -> Callable[[Endpoint], Endpoint]:
    """Endpoint decorator: a signed-in user whose role is one of `roles`."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            user = await load_user(request)
            if user is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(request, f"{request.url_for('signin')}?next={quote(target)}")
            if user.role not in roles:
                raise Forbidden("Your account does not have access to this page.")
            return await endpoint(request)

        return wrapper

    return decorate


def remember_participant(request: Request, participant: Participant) -> None:
    entries = dict(request.session.get(PARTICIPANTS_KEY) or {})
    entries[str(participant.session_id)] = participant.token
    request.session[PARTICIPANTS_KEY] = entries


def forget_participant(request: Request, session_id: int) -> None:
    entries = dict(request.session.get(PARTICIPANTS_KEY) or {})
    entries.pop(str(session_id), None)
    request.session[PARTICIPANTS_KEY] = entries


def participant_token(request: Request, session_id: int) -> str | None:
    entries = request.session.get(PARTICIPANTS_KEY) or {}
    token = entries.get(str(session_id)) if isinstance(entries, dict) else None
    return token if isinstance(token, str) else None


def participant_tokens(request: Request) -> list[str]:
    """Every participant token this device holds (one per session it joined)."""
    entries = request.session.get(PARTICIPANTS_KEY) or {}
    return [t for t in entries.values() if isinstance(t, str)] if isinstance(entries, dict) else []


async def load_participant(request: Request, session: WorkshopSession) -> Participant | None:
    assert session.id is not None
    token = participant_token(request, session.id)
    if token is None:
        return None
    return await read(request, queries.get_participant_by_token, session.id, token)


async def session_from_code(request: Request) -> WorkshopSession:
    code = str(request.path_params["code"]).upper()
    session = await read(request, queries.get_session_by_code, code)
    if session is None:
        raise NotFound("We could not find that session. Check the code and try again.")
    return session
