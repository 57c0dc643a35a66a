"""One typed settings object, read from CODESIGN_* environment variables.

Nothing else in codesign reads the environment: the CLI calls `Settings.from_env()` and passes the
result down, and tests build their own Settings.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development"})
ENVIRONMENTS = ("production", "development", "test")
# Where the secret came from: the environment, the development file, or made for this process only.
SECRET_GIVEN, SECRET_FILE, SECRET_PER_PROCESS = "given", "file", "per-process"
_HTTP_BASE = re.compile(r"https?://[^\s?#]+")  # an address that can prefix "/Measure/<id>"


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
    # Where the FHIR export's canonical URLs point ("https://fhir.example.nhs.uk/fhir"); blank = the
    # public URL + "/fhir", or, with neither, urn:uuid: names (codesign/export/fhir.py says why).
    fhir_base: str = ""
    # Cookies only over HTTPS; on by default in production.
    secure_cookies: bool = True
    # How often the lobby, console and projector ask for news, in milliseconds.
    poll_interval_ms: int = 2000
    # How often each app process reads whether a room with devices connected to it has moved
    # (one statement per process, however many devices): devices follow within this plus a moment.
    room_check_ms: int = 1000
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
    # The least money an outcome should have at stake in a paid contract year, in pence; below it the
    # framework page warns (never blocks). 0 turns the warning off. CODESIGN_MIN_OUTCOME_STAKE, in pounds.
    min_outcome_stake_pence: int = 10_000 * 100
    # Mail (online rounds: invitations and reminders), sent by `codesign worker` from the outbox.
    # CODESIGN_SMTP_URL: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (implicit
    # TLS) or smtp://host:port (no login, no TLS: a local relay or a test server). Blank: no mail is
    # sent (messages wait in the outbox). It holds a password, so it is never shown (repr=False) or logged.
    smtp_url: str = field(default="", repr=False)
    mail_from: str = ""
    # How the secret key was found (SECRET_GIVEN, SECRET_FILE or SECRET_PER_PROCESS).
    secret_origin: str = SECRET_GIVEN
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_development(self) -> bool:
        return self.env in ("development", "test")

    @property
    def fhir_base_url(self) -> str:
        """The base of the FHIR export's canonical URLs ("" for urn:uuid: names)."""
        if self.fhir_base:
            return self.fhir_base
        return f"{self.public_url}/fhir" if _HTTP_BASE.fullmatch(self.public_url) else ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self, *, needs_secret: bool = True) -> Settings:
        """Refuse bad settings. `needs_secret=False` for commands that sign nothing (codesign export
        reads a frozen snapshot and writes a file): they run without CODESIGN_SECRET_KEY."""
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"CODESIGN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if needs_secret:
            self._check_secret()
        return self._check_numbers()

    def _check_secret(self) -> None:
        if not self.is_development and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise SettingsError(
                "CODESIGN_SECRET_KEY is missing or a placeholder. Set it to a long random string "
                f"({KEY_RECIPE}), or set CODESIGN_ENV=development on a machine of your own."
            )
        if not self.is_development and len(self.secret_key) < 32:
            raise SettingsError("CODESIGN_SECRET_KEY must be at least 32 characters long.")
        if not self.is_development and (problem := weakness(self.secret_key)):
            raise SettingsError(
                f"CODESIGN_SECRET_KEY is too easy to guess: {problem}. Cookies signed with it could be forged. "
                f"Use at least {MIN_BITS} bits of randomness ({KEY_RECIPE})."
            )
        if self.secret_origin == SECRET_PER_PROCESS and self.workers > 1:
            raise SettingsError(
                "CODESIGN_ENV=test without CODESIGN_SECRET_KEY makes a random secret in each process, so "
                "several workers would not accept each other's cookies. Set CODESIGN_SECRET_KEY "
                f"({KEY_RECIPE}) or run one worker."
            )

    def _check_numbers(self) -> Settings:
        if self.fhir_base and not _HTTP_BASE.fullmatch(self.fhir_base):
            raise SettingsError("CODESIGN_FHIR_BASE must be an http(s) address with no query or fragment, "
                                f"like https://fhir.example.nhs.uk/fhir, not {self.fhir_base!r}")
        if self.smtp_url or self.mail_from:
            from codesign.mail.smtp import MailSettingsError, check_mail_settings  # the one SMTP URL parser

            try:
                check_mail_settings(self.smtp_url, self.mail_from)
            except MailSettingsError as exc:
                raise SettingsError(str(exc)) from None
        if not 0 < self.port < 65536:
            raise SettingsError(f"CODESIGN_PORT must be between 1 and 65535, not {self.port}")
        if self.workers < 1:
            raise SettingsError("CODESIGN_WORKERS must be at least 1")
        for name, value in (("LOGIN_MAX_FAILURES", self.login_max_failures),
                            ("JOIN_MAX_FAILURES", self.join_max_failures),
                            ("JOIN_ADDRESS_MAX_FAILURES", self.join_address_max_failures)):
            if value < 0:
                raise SettingsError(f"CODESIGN_{name} must be 0 or more")
        if not 0 <= self.min_outcome_stake_pence < 10**14:
            raise SettingsError("CODESIGN_MIN_OUTCOME_STAKE must be a whole number of pounds, 0 or more")
        for name, value in (("LOGIN_WINDOW_SECONDS", self.login_window_seconds),
                            ("JOIN_WINDOW_SECONDS", self.join_window_seconds),
                            ("POLL_INTERVAL_MS", self.poll_interval_ms),
                            ("ROOM_CHECK_MS", self.room_check_ms)):
            if value < 1:
                raise SettingsError(f"CODESIGN_{name} must be at least 1")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, needs_secret: bool = True) -> Settings:
        """Read CODESIGN_* variables (or the mapping given) and validate them (the secret key only
        when `needs_secret`)."""
        env = os.environ if environ is None else environ
        mode = env.get("CODESIGN_ENV", "production").strip().lower()
        database_url = _database_url(env.get("CODESIGN_DATABASE_URL", ""))
        secret, origin = env.get("CODESIGN_SECRET_KEY", ""), SECRET_GIVEN
        if not secret and mode == "development":
            # Cookies keep working across restarts (and across workers), with no secret in the code.
            secret, origin = development_secret(development_secret_path(database_url)), SECRET_FILE
        elif not secret and mode == "test":
            # Never a constant: a served test app gets a secret nobody else knows, for this process only.
            secret, origin = secrets.token_urlsafe(48), SECRET_PER_PROCESS
        secure_default = mode == "production"
        settings = cls(
            database_url=database_url,
            secret_key=secret,
            secret_origin=origin,
            env=mode,
            host=env.get("CODESIGN_HOST", "127.0.0.1"),
            port=_int(env, "CODESIGN_PORT", 8000),
            workers=_int(env, "CODESIGN_WORKERS", 1),
            public_url=env.get("CODESIGN_PUBLIC_URL", "").rstrip("/"),
            fhir_base=env.get("CODESIGN_FHIR_BASE", "").strip().rstrip("/"),
            secure_cookies=_bool(env, "CODESIGN_SECURE_COOKIES", secure_default),
            poll_interval_ms=_int(env, "CODESIGN_POLL_INTERVAL_MS", 2000),
            room_check_ms=_int(env, "CODESIGN_ROOM_CHECK_MS", 1000),
            login_max_failures=_int(env, "CODESIGN_LOGIN_MAX_FAILURES", 5),
            login_window_seconds=_int(env, "CODESIGN_LOGIN_WINDOW_SECONDS", 900),
            join_max_failures=_int(env, "CODESIGN_JOIN_MAX_FAILURES", 5),
            join_window_seconds=_int(env, "CODESIGN_JOIN_WINDOW_SECONDS", 600),
            join_address_max_failures=_int(env, "CODESIGN_JOIN_ADDRESS_MAX_FAILURES", 300),
            trusted_proxy=env.get("CODESIGN_TRUSTED_PROXY", ""),
            log_level=env.get("CODESIGN_LOG_LEVEL", "info").lower(),
            min_outcome_stake_pence=_int(env, "CODESIGN_MIN_OUTCOME_STAKE", 10_000) * 100,
            smtp_url=env.get("CODESIGN_SMTP_URL", "").strip(),
            mail_from=env.get("CODESIGN_MAIL_FROM", "").strip(),
        )
        return settings.validate(needs_secret=needs_secret)


# A production secret must be hard to guess. We cannot know how it was made, so we estimate:
# Shannon entropy of its characters times its length, at least MIN_BITS; enough different
# characters; and not a shorter string repeated ("abab...", a word typed six times), which the
# per-character estimate cannot see.
MIN_BITS = 128
MIN_DISTINCT = 10


def estimated_bits(secret: str) -> float:
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values()) if secret else 0.0
    return per_char * len(secret)


def _smallest_period(text: str) -> int:
    """The length of the shortest unit that `text` repeats (len(text) if none): KMP failure function."""
    fail = [0] * len(text)
    k = 0
    for i in range(1, len(text)):
        while k and text[i] != text[k]:
            k = fail[k - 1]
        if text[i] == text[k]:
            k += 1
        fail[i] = k
    return len(text) - fail[-1] if text else 0


def weakness(secret: str) -> str | None:
    """Why `secret` is too easy to guess (never quoting it), or None."""
    if secret and _smallest_period(secret) <= len(secret) // 2:
        return "it is a shorter string repeated"
    distinct = len(set(secret))
    if distinct < MIN_DISTINCT:
        return f"it has only {distinct} different characters"
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        return f"it has about {bits:.0f} bits of entropy (Shannon entropy of its characters times its length)"
    return None


KEY_RECIPE = "for example: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
KEY_FILE_SUFFIX = ".secret"


def development_secret_path(database_url: str) -> Path:
    """Beside a SQLite database file (codesign.db -> codesign.db.secret); otherwise in the working
    folder, as `.codesign-dev.secret`."""
    from sqlalchemy.engine import make_url  # here: `codesign tally` reads settings, not databases
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url)
    except ArgumentError:
        url = None
    if url is not None and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database)
        return database.with_name(database.name + KEY_FILE_SUFFIX)
    return Path.cwd() / (".codesign-dev" + KEY_FILE_SUFFIX)


def development_secret(path: Path) -> str:
    """The secret kept in `path`, made once (random, mode 0600). Several workers starting at once
    all read the same one: it is written to a private temporary file, then linked into place."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first: use theirs
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        secret = ""
    if len(secret) < 32:
        raise SettingsError(f"{path} does not hold a usable secret key; delete it and start again to make a new one.")
    return secret


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
