"""Shared fixtures: a fresh database per test (SQLite by default, PostgreSQL when
CODESIGN_TEST_DATABASE_URL names a throwaway server), an app, a client, and small helpers.

Tests never read CODESIGN_DATABASE_URL, so they cannot touch a configured database.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import db
from codesign.app import create_app
from codesign.config import Settings
from codesign.models import Role, User
from codesign.services import accounts, population, sessions
from tests.accounts_helpers import cheap_hasher, checks, clock, fast_hashes  # noqa: F401  (fixtures for sign-in and joining)

PG_URL = os.environ.get("CODESIGN_TEST_DATABASE_URL", "")
SECRET = secrets.token_urlsafe(48)  # a served test app never signs cookies with a constant
PASSWORD = "correct horse battery"


def _admin_url(url: str, database: str) -> str:
    """The same server URL with another database name."""
    return url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """Argon2 with small costs in every test: the same code path, but a hash takes a millisecond
    instead of 0.2 s of CPU (hundreds of tests make a user or sign in). Production, and the app a
    browser test serves, keep argon2-cffi's defaults; a hash records its costs, so either verifies."""
    with pytest.MonkeyPatch.context() as patch:
        cheap_hasher(patch)
        yield


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database that each test copies (SQLite file copy, or PostgreSQL TEMPLATE)."""
    if PG_URL:
        name = f"codesign_tmpl_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = db.make_engine(Settings(database_url=_admin_url(PG_URL, name), env="test"))
        db.migrate(engine)
        engine.dispose()
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = db.make_engine(Settings(database_url=f"sqlite:///{path}", env="test"))
        db.migrate(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)


@contextmanager
def copy_of_database(template: str, folder: Path) -> Iterator[str]:
    """A throwaway copy of a template database (a PostgreSQL database name, or a SQLite file path
    copied into `folder`); yields its URL and drops it afterwards."""
    if PG_URL:
        name = f"codesign_t_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield _admin_url(PG_URL, name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = folder / "codesign.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"


def as_template(url: str) -> str:
    """What copy_of_database takes as a template, for the database at `url`."""
    return url.rsplit("/", 1)[1] if PG_URL else url.removeprefix("sqlite:///")


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    with copy_of_database(template_database, tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, env="test", secret_key=SECRET, secure_cookies=False,
                    poll_interval_ms=2000)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = db.make_engine(settings)
    yield engine
    engine.dispose()


class FreshSession(Session):
    """The tests' own session: each query first commits, so it sees what the app wrote meanwhile
    and never holds a lock or an old snapshot across an HTTP call (SQLite writers would wait on it)."""

    def exec(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.commit()
        return super().exec(*args, **kwargs)

    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.commit()
        return super().get(*args, **kwargs)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with FreshSession(engine) as s:
        yield s


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def other_client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as c:
        yield c


# ---- helpers -------------------------------------------------------------------------------

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, url: str) -> str:
    response = client.get(url)
    match = TOKEN.search(response.text)
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def post_form(client: TestClient, url: str, data: dict[str, object], *, token_from: str | None = None,
              headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client, token_from or "/join")
    return client.post(url, data={**data, "csrf_token": token}, headers=headers or {})


def make_user(db_session: Session, role: str = Role.facilitator, email: str | None = None) -> User:
    return accounts.create_user(db_session, email or f"{role}-{uuid.uuid4().hex[:6]}@example.nhs.uk", role, PASSWORD)


def sign_in(client: TestClient, user: User) -> None:
    response = post_form(client, "/signin", {"email": user.email, "password": PASSWORD}, token_from="/signin")
    assert response.status_code == 303, response.text[:500]


@pytest.fixture
def facilitator(session: Session) -> User:
    return make_user(session, Role.facilitator)


@pytest.fixture
def workshop(session: Session, facilitator: User):  # type: ignore[no-untyped-def]
    """A population group from the diabetes template with one open session."""
    group = population.create_population_group(session, facilitator, "Adults with diabetes", "", "adults-with-diabetes")
    assert group.id is not None
    return sessions.create_session(session, facilitator, group.id, "Workshop one", "2026-03-20")


def join(client: TestClient, code: str, group: str = "patient", first_name: str = "", table: str = "") -> None:
    """Join as a device does: the code form at the QR link, then the group."""
    proved = post_form(client, f"/j/{code}", {"code": code}, token_from=f"/j/{code}")
    assert proved.status_code == 303, proved.text[:800]
    response = post_form(client, proved.headers["location"],
                         {"group": group, "first_name": first_name, "table_number": table}, token_from="/join")
    assert response.status_code == 303, response.text[:800]
