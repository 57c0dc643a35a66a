"""Argon2 (tens of milliseconds of CPU on purpose) never runs while the write lock is held: on
SQLite one write transaction holds the database's only write lock, and every other writer, every
vote in the room, would wait behind the hash."""

from __future__ import annotations

import sqlite3

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import db
from codesign.models import Role
from tests.conftest import PASSWORD, make_user, post_form, sign_in


def test_hashing_and_verifying_run_outside_the_write_lock(client: TestClient, session: Session, settings,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite's write lock (PostgreSQL has no database-wide one)")
    admin = make_user(session, Role.admin)
    path = settings.database_url.removeprefix("sqlite:///")
    engine = client.app.state.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, bool, bool]] = []

    def probe(step: str) -> None:
        """While Argon2 runs: is the app's in-process write lock free, and can another connection
        take SQLite's write lock at once (no waiting)?"""
        lock = db._write_locks[id(engine)]
        in_process_free = lock.acquire(blocking=False)
        if in_process_free:
            lock.release()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            sqlite_free = True
        except sqlite3.OperationalError:
            sqlite_free = False
        finally:
            other.close()
        seen.append((step, in_process_free, sqlite_free))

    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        probe("verify")
        return real_verify(self, hash, password)

    def hash_(self: PasswordHasher, password: str | bytes, *, salt: bytes | None = None) -> str:
        probe("hash")
        return real_hash(self, password, salt=salt)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(PasswordHasher, "hash", hash_)

    wrong = post_form(client, "/signin", {"email": admin.email, "password": "not it"}, token_from="/signin")
    assert wrong.status_code == 422
    sign_in(client, admin)
    created = post_form(client, "/users", {"email": "new@example.nhs.uk", "role": "observer",
                                           "password": "long enough pw"}, token_from="/users")
    assert created.status_code == 303
    changed = post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "new long pw!",
                                                      "confirm_password": "new long pw!"}, token_from="/account/password")
    assert changed.status_code == 303
    assert [step for step, _, _ in seen] == ["verify", "verify", "hash", "verify", "hash"]
    assert all(in_process and sqlite for _, in_process, sqlite in seen), seen
