"""Who is asking: signed-in users (facilitator pages) and participants (their session's pages).

Both live in the signed session cookie (HttpOnly, SameSite=Lax). A signed-in user's entry is the
token of a sign-in session kept in the database (services.signin): signing out, a password change
or a role change ends it there, so a copy of the cookie made before opens nothing afterwards.
A participant entry names one session and its random token; it never satisfies a user check, and
it opens only its own session.

/s/<code> pages (and every participant page under them) answer a device that has not joined that
session exactly as they answer a code that does not exist: a redirect to the code form. So they
reveal nothing about which codes exist, and need no limit of their own; only a POST of the code
form checks a code, and that is limited (services.joining).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from codesign import permissions, queries
from codesign.errors import Forbidden, LeftSession
from codesign.models import Participant, User, WorkshopSession
from codesign.services.sessions import canonical_join_code
from codesign.services.signin import token_digest
from codesign.web.client import DEVICE_KEY
from codesign.web.dbcall import read
from codesign.web.htmx import is_htmx, redirect

Endpoint = Callable[[Request], Awaitable[Response]]
LOGIN_KEY = "login"
PARTICIPANTS_KEY = "participants"
PROVED_KEY = "proved"
MAX_PROOFS = 10
# What a device keeps across signing in (a fresh cookie session, against fixation).
KEPT_ON_SIGN_IN = (PARTICIPANTS_KEY, PROVED_KEY, DEVICE_KEY)

# The roles each kind of page requires, from the one table of who may do what (codesign.permissions).
FACILITATORS = permissions.roles(permissions.Action.run_workshop)
COMMISSIONERS = permissions.roles(permissions.Action.edit_framework)
STAFF = permissions.roles(permissions.Action.read)
ADMINS = permissions.roles(permissions.Action.manage_accounts)
EVIDENCE = permissions.roles(permissions.Action.manage_evidence)


def sign_in(request: Request, token: str) -> None:
    """Start a fresh cookie session holding the sign-in token, keeping the device's participant
    entries and join proofs."""
    kept = {key: request.session[key] for key in KEPT_ON_SIGN_IN if key in request.session}
    request.session.clear()
    request.session.update(kept)
    request.session[LOGIN_KEY] = token


def login_token(request: Request) -> str | None:
    token = request.session.get(LOGIN_KEY)
    return token if isinstance(token, str) and 0 < len(token) <= 100 else None


def sign_out(request: Request) -> None:
    request.session.pop(LOGIN_KEY, None)
    request.session.pop("csrf", None)


async def load_user(request: Request) -> User | None:
    """The signed-in user: the cookie's token must name a live sign-in session of an active account."""
    token = login_token(request)
    if token is None:
        return None
    user = await read(request, queries.get_signed_in_user, token_digest(token))
    if user is None:
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
            refreshing = is_htmx(request) and "fp" in request.query_params  # a polled fragment
            if user is None and request.method == "GET" and (
                    refreshing or "text/event-stream" in request.headers.get("accept", "")):
                # A screen refreshing itself (the console, presenter or projector) after its user
                # signed out elsewhere: refuse without replacing the screen by a sign-in form; it
                # says so, and carries on by itself once someone signs in again in this browser.
                return Response("Signed out", status_code=401, headers={"Vary": "HX-Request"})
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


def participant_tokens(request: Request) -> list[str]:
    """Every participant token this device holds (one per session it joined)."""
    entries = request.session.get(PARTICIPANTS_KEY) or {}
    return [t for t in entries.values() if isinstance(t, str)] if isinstance(entries, dict) else []


def remember_proof(request: Request, code: str) -> None:
    """This device typed (or scanned) `code` and it was right: it may choose a group there, and
    hand over to the next person, without typing the code again."""
    proofs = [c for c in proved_codes(request) if c != code][-(MAX_PROOFS - 1):]
    request.session[PROVED_KEY] = [*proofs, code]


def proved_codes(request: Request) -> list[str]:
    proofs = request.session.get(PROVED_KEY) or []
    return [c for c in proofs if isinstance(c, str)] if isinstance(proofs, list) else []


def path_code(request: Request) -> str | None:
    """The join code in the path, as stored; None when it cannot be a code (never looked up)."""
    return canonical_join_code(str(request.path_params.get("code", "")))


def code_form_url(request: Request) -> str:
    """Where a device that has not joined is sent: the code form, the same for every code."""
    code = path_code(request)
    return str(request.url_for("join_code", code=code)) if code else str(request.url_for("join"))


REMOVED = ("The facilitator has taken this place out of the session, so this device can no longer vote or "
           "propose ideas here. If you think this is a mistake, ask the facilitator.")
MERGED = ("You joined this session twice, so the facilitator has made your two places into one. Your answers "
          "were kept there. Carry on from the device you joined on first, or ask the facilitator.")


async def joined(request: Request, *, even_if_left: bool = False) -> tuple[WorkshopSession, Participant] | None:
    """The session in the path and this device's participant in it; None when this device has not
    joined it, whether or not the code exists (read-only: the code is never counted here).
    A participant the facilitator removed or merged gets a page saying so (LeftSession), unless
    `even_if_left` (handing the device over to the next person still works)."""
    code, tokens = path_code(request), participant_tokens(request)
    if code is None or not tokens:
        return None
    found = await read(request, queries.get_joined_participant, code, tokens)
    if found is not None and not found[1].in_room and not even_if_left:
        raise LeftSession(REMOVED if found[1].removed_at is not None else MERGED, found[0].join_code)
    return found
