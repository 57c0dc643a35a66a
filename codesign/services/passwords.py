"""Argon2 password hashes. No database here: hashing and verifying take tens of milliseconds of
CPU on purpose, so callers run them outside any write transaction (on SQLite a write transaction
holds the one write lock, and every other writer would wait behind the hash)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000  # Argon2 takes any length; a megabyte "password" is only a way to burn CPU

_hasher = PasswordHasher()
# Verified against when the email is unknown, so timing does not reveal which accounts exist.
DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class NewPassword:
    """A password someone chose, checked and hashed before any transaction starts."""

    hash: str | None
    error: str | None


def new_password_error(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH:,} characters or fewer"
    return None


def new_password(password: str) -> NewPassword:
    """Check a new password and hash it (slow: call it outside any write transaction)."""
    error = new_password_error(password)
    return NewPassword(None, error) if error else NewPassword(hash_password(password), None)
