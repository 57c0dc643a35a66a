"""One typed settings object, read from CODESIGN_* environment variables.

Nothing else in codesign reads the environment: the CLI calls `Settings.from_env()` and passes the
result down, and tests build their own Settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development"})
DEV_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105 - refused outside development
ENVIRONMENTS = ("production", "development", "test")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every setting codesign has. README.md lists them with their defaults."""

    database_url: str = "sqlite:///codesign.db"
    secret_key: str = ""
    env: str = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # The origin people type or scan to join ("https://codesign.example.nhs.uk"); blank = the request's.
    public_url: str = ""
    # Cookies only over HTTPS; on by default in production.
    secure_cookies: bool = True
    # How often the lobby, console and projector ask for news, in milliseconds.
    poll_interval_ms: int = 2000
    # Wrong passwords for one account from one address in the window before each further try
    # waits (30 s, doubling to 5 minutes). services.signin has the account and address limits.
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # Wrong join codes from one device in the window before each further try waits (30 s,
    # doubling to 5 minutes); and from one address in an hour (2 s, doubling to 1 minute).
    join_max_failures: int = 5
    join_window_seconds: int = 600
    join_address_max_failures: int = 300
    # Trust X-Forwarded-For from this proxy address (blank: use the socket peer).
    trusted_proxy: str = ""
    log_level: str = "info"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_development(self) -> bool:
        return self.env in ("development", "test")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> Settings:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"CODESIGN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if not self.is_development and (
            self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or self.secret_key == DEV_SECRET
        ):
            raise SettingsError(
                "CODESIGN_SECRET_KEY is missing or a placeholder. Set it to a long random string "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set CODESIGN_ENV=development on a machine of your own."
            )
        if not self.is_development and len(self.secret_key) < 32:
            raise SettingsError("CODESIGN_SECRET_KEY must be at least 32 characters long.")
        if not 0 < self.port < 65536:
            raise SettingsError(f"CODESIGN_PORT must be between 1 and 65535, not {self.port}")
        if self.workers < 1:
            raise SettingsError("CODESIGN_WORKERS must be at least 1")
        for name, value in (("LOGIN_MAX_FAILURES", self.login_max_failures),
                            ("JOIN_MAX_FAILURES", self.join_max_failures),
                            ("JOIN_ADDRESS_MAX_FAILURES", self.join_address_max_failures)):
            if value < 0:
                raise SettingsError(f"CODESIGN_{name} must be 0 or more")
        for name, value in (("LOGIN_WINDOW_SECONDS", self.login_window_seconds),
                            ("JOIN_WINDOW_SECONDS", self.join_window_seconds)):
            if value < 1:
                raise SettingsError(f"CODESIGN_{name} must be at least 1")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read CODESIGN_* variables (or the mapping given) and validate them."""
        env = os.environ if environ is None else environ
        mode = env.get("CODESIGN_ENV", "production").strip().lower()
        secret = env.get("CODESIGN_SECRET_KEY", "")
        if not secret and mode in ("development", "test"):
            secret = DEV_SECRET
        secure_default = mode == "production"
        settings = cls(
            database_url=_database_url(env.get("CODESIGN_DATABASE_URL", "")),
            secret_key=secret,
            env=mode,
            host=env.get("CODESIGN_HOST", "127.0.0.1"),
            port=_int(env, "CODESIGN_PORT", 8000),
            workers=_int(env, "CODESIGN_WORKERS", 1),
            public_url=env.get("CODESIGN_PUBLIC_URL", "").rstrip("/"),
            secure_cookies=_bool(env, "CODESIGN_SECURE_COOKIES", secure_default),
            poll_interval_ms=_int(env, "CODESIGN_POLL_INTERVAL_MS", 2000),
            login_max_failures=_int(env, "CODESIGN_LOGIN_MAX_FAILURES", 5),
            login_window_seconds=_int(env, "CODESIGN_LOGIN_WINDOW_SECONDS", 900),
            join_max_failures=_int(env, "CODESIGN_JOIN_MAX_FAILURES", 5),
            join_window_seconds=_int(env, "CODESIGN_JOIN_WINDOW_SECONDS", 600),
            join_address_max_failures=_int(env, "CODESIGN_JOIN_ADDRESS_MAX_FAILURES", 300),
            trusted_proxy=env.get("CODESIGN_TRUSTED_PROXY", ""),
            log_level=env.get("CODESIGN_LOG_LEVEL", "info").lower(),
        )
        return settings.validate()


def _database_url(value: str) -> str:
    value = value.strip()
    if not value:
        return f"sqlite:///{Path.cwd() / 'codesign.db'}"
    if value.startswith("postgres://"):
        # Heroku-style URLs; SQLAlchemy wants the full dialect name.
        value = "postgresql+psycopg://" + value[len("postgres://") :]
    elif value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")
