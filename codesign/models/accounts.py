"""Sign-in sessions, the addresses each account has signed in from, and attempt limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from codesign.models.core import utcnow


class LoginSession(SQLModel, table=True):
    """One sign-in. The cookie holds a random token; only its SHA-256 is kept here, so a copy of
    the database opens nothing. Signing out, a password change or a role change revokes it."""

    __tablename__ = "login_session"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class SignInAddress(SQLModel, table=True):
    """An address an account has signed in from successfully: wrong passwords for the account
    from elsewhere never slow its owner down here (services.signin)."""

    __tablename__ = "sign_in_address"
    __table_args__ = (UniqueConstraint("user_id", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    address: str = Field(max_length=64)
    first_at: datetime = Field(default_factory=utcnow)
    last_at: datetime = Field(default_factory=utcnow)


class RateLimitBucket(SQLModel, table=True):
    """Attempts under one key ("join:device:…", "login:pair:…") in the current window, and once the
    free ones are used, the earliest time the next attempt may be checked (services.ratelimit)."""

    __tablename__ = "rate_limit_bucket"
    key: str = Field(primary_key=True, max_length=400)
    window_start: datetime
    attempts: int = 0
    next_allowed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow, index=True)
