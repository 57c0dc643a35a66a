"""Accounts: create them, change your own password, and (administrators) change a role or
deactivate and reactivate an account. Signing in and out is services.signin.

A password change, a role change or deactivation ends all of that person's sign-in sessions, so
a copied cookie opens nothing afterwards (the person changing their password carries on in a
new one).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from codesign.db import read_session, write_session
from codesign.errors import NotFound, ValidationFailed
from codesign.models import Role, User
from codesign.services import audit, passwords, ratelimit, signin
from codesign.services.passwords import NewPassword
from codesign.validation import EMAIL, normalise_text

ROLES = tuple(r.value for r in Role)
# The fields of the "Change your password" form.
CURRENT, NEW, CONFIRM = "current_password", "new_password", "confirm_password"


def create_user(
    db: Session, email: str, role: str, password: str | NewPassword, *, name: str = "", actor: User | None = None
) -> User:
    """Add an account. Pass `passwords.new_password(...)`, made before the transaction, so the
    hash is not computed while holding the write lock (a plain string is hashed here)."""
    prepared = password if isinstance(password, NewPassword) else passwords.new_password(password)
    email = normalise_text(email).lower()
    errors: dict[str, str] = {}
    if not EMAIL.match(email) or len(email) > 254:
        errors["email"] = "Enter an email address in the correct format, like name@example.nhs.uk"
    elif db.exec(select(User).where(User.email == email)).first() is not None:
        errors["email"] = "There is already an account with that email address"
    if role not in ROLES:
        errors["role"] = f"Role must be one of: {', '.join(ROLES)}"
    if prepared.error is not None:
        errors["password"] = prepared.error
    if errors or prepared.hash is None:
        raise ValidationFailed(errors, {"email": email, "role": role, "name": name})
    user = User(email=email, role=role, name=normalise_text(name)[:120], password_hash=prepared.hash)
    db.add(user)
    db.flush()
    audit.record(
        db, actor, "user.created", summary=f"Account {email} created with role {role}",
        object_type="user", object_id=user.id,
    )
    db.commit()
    return user


def change_password(engine: Engine, user_id: int, current: str, new: str, confirm: str, *,
                    address: str, limits: signin.LoginLimits) -> str:
    """Check the current password (limited like signing in, so a stolen cookie cannot be used to
    guess it), set the new one and end every sign-in session of this person, this one included:
    a copy of this device's cookie opens nothing either. Returns the token of a new sign-in
    session for this device."""
    errors: dict[str, str] = {}
    if not current:
        errors[CURRENT] = "Enter your current password"
    length_error = passwords.new_password_error(new)
    if length_error:
        errors[NEW] = length_error
    elif new == current:
        errors[NEW] = "Choose a new password, not the one you have now"
    if not errors and new != confirm:
        errors[CONFIRM] = "The new passwords do not match. Type the same new password twice"
    if errors:
        raise ValidationFailed(errors)
    with read_session(engine) as db:
        user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such account")
    _, reservation = signin.reserve_attempt(engine, user.email, address, limits)
    # Both Argon2 steps run outside any transaction (see services.passwords).
    if not passwords.verify_password(user.password_hash, current):
        raise ValidationFailed({CURRENT: "Your current password is not right"})
    new_hash = passwords.hash_password(new)
    with write_session(engine) as db:
        ratelimit.settle(db, reservation, True)
        fresh = db.get(User, user_id)
        if fresh is None:
            raise NotFound("No such account")
        fresh.password_hash = new_hash
        db.add(fresh)
        signin.revoke_sessions(db, user_id)
        token = signin.start_session(db, fresh)
        audit.record(db, fresh, "user.password_changed", summary=f"{fresh.email} changed their password",
                     object_type="user", object_id=fresh.id)
        db.commit()
        return token


def _target(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such account")
    return user


def set_role(db: Session, actor: User, user_id: int, role: str) -> User:
    """Give an account another role; its sign-in sessions end (it signs in again with the new role)."""
    user = _target(db, user_id)
    field = f"role-{user_id}"
    if role not in ROLES:
        raise ValidationFailed({field: f"Role must be one of: {', '.join(ROLES)}"})
    if user.id == actor.id and role != Role.admin:
        raise ValidationFailed({field: "You cannot remove your own administrator role. Ask another administrator"})
    if user.role == role:
        return user
    before, user.role = user.role, role
    db.add(user)
    signin.revoke_sessions(db, user_id)
    audit.record(db, actor, "user.role_changed", summary=f"Role of {user.email} changed from {before} to {role}",
                 object_type="user", object_id=user.id, details={"from": before, "to": role})
    db.commit()
    return user


def set_active(db: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (every sign-in session ends; signing in is refused) or reactivate an account."""
    user = _target(db, user_id)
    if user.id == actor.id and not active:
        raise ValidationFailed({f"active-{user_id}": "You cannot deactivate your own account"})
    if user.active == active:
        return user
    user.active = active
    db.add(user)
    if not active:
        signin.revoke_sessions(db, user_id)
    verb = "reactivated" if active else "deactivated"
    audit.record(db, actor, f"user.{verb}", summary=f"Account {user.email} {verb}", object_type="user",
                 object_id=user.id)
    db.commit()
    return user
