"""bench_load's participants over HTTP: joining, their signed session cookies, the vote path and
the one answer sent by hand before wrk (used by bench_load, bench_crash and bench_room)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass

from load_setup import GROUPS, SMOKE_KEY, BenchError, Fixture, http_request

# ---------------------------------------------------------------------------------------------
# Participants, over HTTP


@dataclass(frozen=True)
class Participant:
    cookie: str
    csrf: str
    token: str  # the participant token inside the signed cookie


def cookie_session(cookie: str) -> dict[str, object]:
    """The JSON inside Starlette's signed session cookie (base64 payload, then timestamp and signature)."""
    payload = cookie.split(".", 1)[0]
    try:
        data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise BenchError(f"could not read the session cookie: {exc}") from exc
    if not isinstance(data, dict):
        raise BenchError("the session cookie does not hold an object")
    return data


def join_participants(port: int, fixture: Fixture, count: int, deadline: float) -> list[Participant]:
    path = f"/j/{fixture.join_code}"
    people: list[Participant] = []
    for i in range(count):
        if time.monotonic() > deadline:
            raise BenchError(f"joining took too long: {i} of {count} participants joined")
        status, headers, page = http_request(port, "GET", path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        cookie = headers.get("codesign-cookie", "")
        if status != 200 or match is None or not cookie:
            raise BenchError(f"GET {path} gave {status} without a CSRF token and cookie")
        csrf = match.group(1)
        # The code form (what the QR link's page sends), then the group: only a POST checks a code.
        status, headers, _ = http_request(port, "POST", path, cookie=cookie,
                                          form={"csrf_token": csrf, "code": fixture.join_code})
        cookie = headers.get("codesign-cookie", "")
        if status != 303 or not cookie or not headers.get("location", "").endswith(f"{path}/group"):
            raise BenchError(f"POST {path} (the code) gave {status}, expected 303 to {path}/group with a cookie")
        status, headers, _ = http_request(port, "POST", f"{path}/group", cookie=cookie,
                                          form={"csrf_token": csrf, "group": GROUPS[i % len(GROUPS)]})
        cookie = headers.get("codesign-cookie", "")
        if status != 303 or not cookie:
            raise BenchError(f"POST {path}/group (join) gave {status}, expected 303 with a new cookie")
        entries = cookie_session(cookie).get("participants")
        token = entries.get(str(fixture.session_id)) if isinstance(entries, dict) else None
        if cookie_session(cookie).get("csrf") != csrf or not isinstance(token, str):
            raise BenchError("the cookie after joining does not hold the CSRF token and the participant")
        people.append(Participant(cookie, csrf, token))
    return people


def vote_path(fixture: Fixture, n: int) -> str:
    return f"/s/{fixture.join_code}/rounds/{fixture.round_id}/q/{n}"


def smoke_vote(port: int, fixture: Fixture, person: Participant) -> None:
    """One answer by hand, so a broken setup fails here with a clear message rather than under wrk."""
    status, headers, _ = http_request(port, "POST", vote_path(fixture, 1), cookie=person.cookie,
                                      form={"csrf_token": person.csrf, "value": "5", "key": SMOKE_KEY})
    location = headers.get("location", "")
    if status != 303 or f"/rounds/{fixture.round_id}/" not in location:
        raise BenchError(f"a hand-made vote gave {status} (location {location!r}); expected a 303 to the "
                         "next question")


