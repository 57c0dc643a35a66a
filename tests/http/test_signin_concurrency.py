"""Fifty simultaneous wrong passwords against a limit of 5 check at most 5, across two app
instances (as two workers) sharing one database; the real user at another address still signs in.
Run on PostgreSQL (tests/with_postgres.sh), where requests really do run in parallel; on SQLite
the write lock queues them."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlmodel import Session

from codesign.app import SESSION_COOKIE
from codesign.config import Settings
from codesign.services import signin
from tests.conftest import PASSWORD, make_user
from tests.live_server import LiveServer

ATTACKERS = 50
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password Argon2 really verified, from any thread."""
    seen: list[str] = []
    real = PasswordHasher.verify

    def verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        seen.append(str(password))
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return seen


def all_at_once(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run attempt(0..count-1) in threads released together by a barrier; return the results."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        start.wait(timeout=60)
        try:
            results[n] = attempt(n)
        except BaseException as exc:  # reported by the assertions
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


class Browser:
    """One browser: its own connection and cookie (the standard library: nothing to install)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                address: str = "127.0.0.1") -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            headers = {"X-Forwarded-For": address}
            if self.cookie:
                headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
            body = urlencode(form) if form is not None else None
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for value in response.headers.get_all("set-cookie") or []:
                name, _, rest = value.partition("=")
                if name.strip() == SESSION_COOKIE:
                    self.cookie = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()

    def csrf(self) -> str:
        status, page = self.request("GET", "/signin")
        match = TOKEN.search(page)
        assert status == 200 and match
        return match.group(1)


def test_fifty_simultaneous_wrong_passwords_over_http_on_two_workers_check_at_most_five(
        settings: Settings, session: Session, checked: list[str]) -> None:
    email = make_user(session).email  # read once: the test's session is not for threads
    proxied = {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"}
    with LiveServer(settings, **proxied) as one, LiveServer(settings, **proxied) as two:
        browsers = [Browser((one if n % 2 else two).port) for n in range(ATTACKERS + 1)]
        tokens = [browser.csrf() for browser in browsers]

        def guess(n: int) -> int:
            return browsers[n].request("POST", "/signin", {"email": email, "password": f"guess {n}",
                                                           "csrf_token": tokens[n]}, address=ATTACKER)[0]

        statuses = all_at_once(ATTACKERS, guess)
        assert sorted(statuses) == [422] * settings.login_max_failures + [429] * (
            ATTACKERS - settings.login_max_failures), statuses
        assert len(checked) == settings.login_max_failures
        owner, _ = browsers[ATTACKERS].request("POST", "/signin", {"email": email, "password": PASSWORD,
                                                                   "csrf_token": tokens[ATTACKERS]}, address=OWNER)
        assert owner == 303


def test_fifty_threads_each_with_its_own_database_session_check_at_most_five(
        engine: Engine, session: Session, checked: list[str]) -> None:
    user = make_user(session)
    email, user_id = user.email, user.id  # read once: the test's session is not for threads
    limits = signin.LoginLimits.from_settings(Settings(env="test"))

    def guess(n: int) -> str:
        try:
            signin.sign_in(engine, email, f"guess {n}", address=ATTACKER, limits=limits)
        except Exception as exc:
            return type(exc).__name__
        return "signed in"

    outcomes = all_at_once(ATTACKERS, guess)
    assert sorted(outcomes) == ["Slowed"] * (ATTACKERS - limits.pair.free) + ["ValidationFailed"] * limits.pair.free
    assert len(checked) == limits.pair.free
    assert signin.sign_in(engine, email, PASSWORD, address=OWNER, limits=limits).user.id == user_id
