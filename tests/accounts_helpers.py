"""Helpers for the sign-in and joining tests: cheap password hashes, a clock that moves on
without sleeping, and counting which passwords were really checked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from codesign.models import utcnow
from codesign.services import passwords, ratelimit


def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small costs: the default costs take 0.2 s (over half a second on a busy 2-core
    machine) a hash, and what the tests check is what is done with the hash, not its cost."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "DUMMY_HASH", cheap.hash("not a real password, only for timing"))


@pytest.fixture
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap hashes (every test has them already, see conftest; kept for the tests that ask)."""
    cheap_hasher(monkeypatch)
    yield


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    """Move the limiter's time on without sleeping: append a timedelta to the list."""
    offsets = [timedelta(0)]
    start = utcnow()
    monkeypatch.setattr(ratelimit, "clock", lambda: start + sum(offsets, timedelta(0)))
    return offsets


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password actually verified (a refused attempt must not be)."""
    seen: list[str] = []
    real = passwords.verify_password

    def counting(password_hash: str, password: str) -> bool:
        seen.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return seen
