"""The participant pages' "Larger text" switch, remembered on this device (a cookie, no account).

It never loses what was typed. With JavaScript the switch is sent in the background and the page
changes size in place (static/js/text_size.js). Without it, on a page with something to type (the
join code, first name and table, an idea), the switch is a second submit button of that page's own
form: the page's POST handler sees `text_size`, remembers the choice and shows the same form again
with what was typed, and changes nothing else (no code checked, no join, no idea sent).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "codesign_text"
FIELD = "text_size"
_SCOPE_KEY = "codesign.text_size"
_YEAR = 365 * 24 * 3600


def chosen(form: FormData) -> str | None:
    """The size asked for by the switch's button ("large" or "normal"), or None for any other submit."""
    value = form.get(FIELD)
    if not isinstance(value, str):
        return None
    return "large" if value == "large" else "normal"


def is_large(request: Request) -> bool:
    """Larger text on this page: as just chosen in this request, else as remembered on the device."""
    size = request.scope.get(_SCOPE_KEY) or request.cookies.get(COOKIE)
    return size == "large"


def choose(request: Request, size: str) -> None:
    """This request switched the size: the page rendered in answer shows the new size already."""
    request.scope[_SCOPE_KEY] = size


def remember(request: Request, response: Response, size: str) -> Response:
    response.set_cookie(COOKIE, size, max_age=_YEAR, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies)
    return response
