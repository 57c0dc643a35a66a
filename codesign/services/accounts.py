"""Accounts: create users, sign in (Argon2 hashes, limited failed attempts)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from codesign.errors import RateLimited, ValidationFailed
from codesign.models import Role, User
from codesign.services import audit, ratelimit
from codesign.validation import EMAIL, normalise_text

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# Verified against when the email is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    db: Session, email: str, role: str, password: str, *, name: str = "", actor: User | None = None
) -> User:
    email = normalise_text(email).lower()
    errors: dict[str, str] = {}
    if not EMAIL.match(email) or len(email) > 254:
        errors["email"] = "Enter an email address in the correct format, like name@example.nhs.uk"
    elif db.exec(select(User).where(User.email == email)).first() is not None:
        errors["email"] = "There is already an account with that email address"
    if role not in {r.value for r in Role}:
        errors["role"] = f"Role must be one of: {', '.join(r.value for r in Role)}"
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if errors:
        raise ValidationFailed(errors, {"email": email, "role": role, "name": name})
    user = User(email=email, role=role, name=normalise_text(name)[:120], password_hash=hash_password(password))
    db.add(user)
    db.flush()
    audit.record(
        db, actor, "user.created", summary=f"Account {email} created with role {role}",
        object_type="user", object_id=user.id,
    )
    db.commit()
    return user


def sign_in(
    db: Session,
    email: str,
    password: str,
    *,
    address: str,
    max_failures: int,
    window_seconds: int,
) -> User:
    """Return the user, or raise. Failed attempts count per account and per address."""
    email = normalise_text(email).lower()
    keys = [f"login:account:{email}", f"login:address:{address}"]
    if ratelimit.is_limited(db, keys, max_failures, window_seconds):
        raise RateLimited(
            "Too many failed sign-in attempts. Wait 15 minutes and try again, "
            "or ask an administrator to help."
        )
    user = db.exec(select(User).where(User.email == email)).first()
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        ratelimit.add_failure(db, keys)
        db.commit()
        raise ValidationFailed(
            {"email": "The email address or password is not right"}, {"email": email}
        )
    ratelimit.clear(db, keys[0])
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    audit.record(db, user, "user.signed_in", summary=f"{email} signed in", object_type="user", object_id=user.id)
    db.commit()
    return user
