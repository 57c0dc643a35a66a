"""Signing in and out: wrong passwords slow an attacker down without locking the owner out, and
each sign-in is a row in the database that signing out, a password change or a role change ends.

Each attempt takes a place in these limits (services.ratelimit) before its password is checked:
- the account and address pair (5 free in 15 minutes by default, then 30 s, 1, 2, 4, 5 minutes):
  only the person at that address trying that account is slowed;
- from an address the account has never signed in from, also the account (20 free an hour, then
  1 minute doubling to 15): guessing from many addresses stays slow, while the owner, at an
  address they have signed in from before, is never slowed by it;
- and, there too, the address (30 free an hour, then 10 s doubling to 5 minutes): one address
  trying a few passwords on many accounts ("spraying") is slowed.
Nobody is ever locked out: every refusal says how long to wait, and the wait ends.

The Argon2 check runs between two short write transactions (reserve, then settle), never inside
one: on SQLite a write transaction holds the database's one write lock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, bindparam, text, update
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from codesign.config import Settings
from codesign.db import write_session
from codesign.errors import ValidationFailed
from codesign.models import LoginSession, SignInAddress, User
from codesign.services import audit, passwords, ratelimit
from codesign.services.ratelimit import Claim, Policy, Reservation, Slowed
from codesign.validation import EMAIL, normalise_text

WRONG = "The email address or password is not right"
_REMEMBER_ADDRESS = text(
    "INSERT INTO sign_in_address (user_id, address, first_at, last_at) VALUES (:uid, :address, :now, :now) "
    "ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at"
).bindparams(bindparam("now", type_=UTCDateTime()))


@dataclass(frozen=True)
class LoginLimits:
    pair: Policy
    account: Policy
    address: Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            pair=Policy("login pair", settings.login_max_failures, settings.login_window_seconds, 30, 300,
                        clear_on_success=True),
            account=Policy("login account", 20, 3600, 60, 900),
            address=Policy("login address", 30, 3600, 10, 300),
        )

    def claims(self, email: str, address: str, known_address: bool) -> list[Claim]:
        pair = Claim(f"login:pair:{email}|{address}", self.pair)
        if known_address:
            return [pair]
        return [pair, Claim(f"login:account:{email}", self.account), Claim(f"login:address:{address}", self.address)]

    def message(self, slowed: Slowed) -> str:
        wait = ratelimit.wait_text(slowed.wait_seconds)
        if slowed.policy is self.account:
            return (f"Wait {wait}, then try again. Many wrong passwords have been tried for this account, so "
                    "signing in to it from new places is slowed down; places you have signed in from before are not.")
        if slowed.policy is self.address:
            return f"Wait {wait}, then try again. Many wrong passwords have come from this network."
        return f"Wait {wait}, then try again. That is because of the wrong passwords tried for this account here."


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # goes in the cookie; the database keeps only its SHA-256


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def checked_email(raw: str) -> str:
    """The email as accounts store it; refused (without touching the database) when it cannot be one."""
    email = normalise_text(raw).lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed({"email": "Enter your email address, like name@example.nhs.uk"}, {"email": email[:254]})
    return email


def reserve_attempt(engine: Engine, email: str, address: str, limits: LoginLimits,
                    now: datetime | None = None) -> tuple[User | None, Reservation]:
    """The account (if any) and a place in its limits; raises Slowed (with the message) when refused."""
    with write_session(engine) as db:
        user = db.exec(select(User).where(User.email == email)).first()
        known = user is not None and db.exec(select(SignInAddress.id).where(
            SignInAddress.user_id == user.id, SignInAddress.address == address)).first() is not None
        try:
            return user, ratelimit.reserve(db, limits.claims(email, address, known), now)
        except Slowed as exc:
            raise Slowed(exc.wait_seconds, exc.policy, limits.message(exc)) from None


def sign_in(engine: Engine, raw_email: str, password: str, *, address: str, limits: LoginLimits,
            now: datetime | None = None) -> SignedIn:
    """Check the password under the limits and start a sign-in session, or raise
    ValidationFailed (wrong) or Slowed (wait first: the password was not checked)."""
    email = checked_email(raw_email)
    user, reservation = reserve_attempt(engine, email, address, limits, now)
    stored = user.password_hash if user is not None else passwords.DUMMY_HASH
    # Outside any transaction: tens of milliseconds of CPU that no other writer waits for.
    right = len(password) <= passwords.MAX_PASSWORD_LENGTH and passwords.verify_password(stored, password)
    if user is None or not right or not user.active:
        # A failure keeps its places in the limits: nothing to write.
        raise ValidationFailed({"email": WRONG}, {"email": email})
    rehashed = passwords.hash_password(password) if passwords.needs_rehash(stored) else None
    with write_session(engine) as db:
        ratelimit.settle(db, reservation, True)
        current = db.get(User, user.id)
        if current is None or not current.active:  # deactivated while the password was being checked
            db.commit()
            raise ValidationFailed({"email": WRONG}, {"email": email})
        if rehashed is not None:
            current.password_hash = rehashed
            db.add(current)
        db.execute(_REMEMBER_ADDRESS, {"uid": current.id, "address": address, "now": now or ratelimit.clock()})
        token = start_session(db, current)
        audit.record(db, current, "user.signed_in", summary=f"{email} signed in", object_type="user",
                     object_id=current.id)
        db.commit()
        return SignedIn(current, token)


def start_session(db: Session, user: User) -> str:
    """A new sign-in session for `user` (the caller commits); returns the token for the cookie."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    db.add(LoginSession(user_id=user.id, token_sha256=token_digest(token)))
    return token


def sign_out(db: Session, token: str) -> None:
    """End this sign-in session: a copy of the cookie opens nothing afterwards."""
    db.execute(update(LoginSession).where(col(LoginSession.token_sha256) == token_digest(token),
                                          col(LoginSession.revoked_at).is_(None))
               .values(revoked_at=ratelimit.clock()))
    db.commit()


def revoke_sessions(db: Session, user_id: int) -> None:
    """End every sign-in session of the user; the caller commits."""
    db.execute(update(LoginSession).where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None))
               .values(revoked_at=ratelimit.clock()))
