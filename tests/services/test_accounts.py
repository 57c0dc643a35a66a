from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from codesign.config import Settings
from codesign.errors import RateLimited, ValidationFailed
from codesign.models import AuditEvent, LoginSession, Role, User
from codesign.services import accounts, signin
from codesign.services.ratelimit import Policy, Slowed
from tests.conftest import PASSWORD, make_user

# The default policies with fewer free attempts, so the tests check fewer passwords.
LIMITS = signin.LoginLimits(pair=Policy("login pair", 3, 900, 30, 300, clear_on_success=True),
                            account=Policy("login account", 4, 3600, 60, 900),
                            address=Policy("login address", 5, 3600, 10, 300))
pytestmark = pytest.mark.usefixtures("fast_hashes")


def sign_in(engine: Engine, email: str, password: str, address: str = "10.0.0.1") -> User:
    return signin.sign_in(engine, email, password, address=address, limits=LIMITS).user


def test_default_limits_match_the_documented_ones() -> None:
    limits = signin.LoginLimits.from_settings(Settings(env="test"))
    assert (limits.pair.free, limits.pair.window_seconds, limits.pair.first_delay_seconds,
            limits.pair.max_delay_seconds) == (5, 900, 30, 300)
    assert (limits.account.free, limits.account.max_delay_seconds) == (20, 900)
    assert (limits.address.free, limits.address.first_delay_seconds) == (30, 10)


def test_passwords_are_stored_as_argon2_hashes(session: Session) -> None:
    user = make_user(session)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_create_user_refuses_bad_input_and_saves_nothing(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(session, "not-an-email", "wizard", "short")
    assert set(caught.value.errors) == {"email", "role", "password"}
    assert session.exec(select(User)).all() == []


def test_duplicate_email_refused(session: Session) -> None:
    make_user(session, email="a@example.nhs.uk")
    with pytest.raises(ValidationFailed, match="already an account"):
        accounts.create_user(session, "A@Example.nhs.uk ", "observer", PASSWORD)


def test_sign_in_with_right_password_is_audited_and_starts_a_session(engine: Engine, session: Session) -> None:
    user = make_user(session)
    signed_in = signin.sign_in(engine, user.email.upper(), PASSWORD, address="10.0.0.1", limits=LIMITS)
    assert signed_in.user.id == user.id
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.signed_in")).one()
    stored = session.exec(select(LoginSession)).one()
    # Only the token's SHA-256 is kept: a copy of the database opens nothing.
    assert stored.token_sha256 == signin.token_digest(signed_in.token) != signed_in.token


def test_wrong_passwords_slow_only_that_account_at_that_address(engine: Engine, session: Session,
                                                                clock: list[timedelta]) -> None:
    user = make_user(session)
    sign_in(engine, user.email, PASSWORD, address="192.0.2.1")  # the owner's usual address
    for _ in range(LIMITS.pair.free):
        with pytest.raises(ValidationFailed):
            sign_in(engine, user.email, "wrong password", address="203.0.113.9")
    with pytest.raises(Slowed, match="Wait 30 seconds, then try again"):
        sign_in(engine, user.email, PASSWORD, address="203.0.113.9")
    # The attacker's wrong passwords never slow the owner at their own address, nor from a new one.
    assert sign_in(engine, user.email, PASSWORD, address="192.0.2.1").id == user.id
    assert sign_in(engine, user.email, PASSWORD, address="198.51.100.4").id == user.id
    # Slowed, not locked: once the wait is over the right password works there too.
    clock.append(timedelta(seconds=30))
    assert sign_in(engine, user.email, PASSWORD, address="203.0.113.9").id == user.id


def test_the_wait_doubles_and_is_capped(engine: Engine, session: Session, clock: list[timedelta]) -> None:
    user = make_user(session)
    sign_in(engine, user.email, PASSWORD)  # the owner's own address: only the pair limit applies
    for _ in range(LIMITS.pair.free):
        with pytest.raises(ValidationFailed):
            sign_in(engine, user.email, "wrong password")
    waits = []
    for _ in range(6):
        with pytest.raises(Slowed) as slowed:
            sign_in(engine, user.email, "wrong password")
        waits.append(slowed.value.wait_seconds)
        clock.append(timedelta(seconds=slowed.value.wait_seconds))
        with pytest.raises(ValidationFailed):
            sign_in(engine, user.email, "wrong password")
    assert waits == [30, 60, 120, 240, 300, 300]


def test_a_refused_attempt_is_never_checked(engine: Engine, session: Session, checks: list[str]) -> None:
    user = make_user(session)
    for n in range(12):
        with pytest.raises((ValidationFailed, RateLimited)):
            sign_in(engine, user.email, f"guess {n}")
    assert len(checks) == LIMITS.pair.free


def test_guessing_from_many_addresses_slows_new_places_but_never_the_owners(
        engine: Engine, session: Session) -> None:
    user = make_user(session)
    sign_in(engine, user.email, PASSWORD, address="192.0.2.1")
    for n in range(LIMITS.account.free):
        with pytest.raises(ValidationFailed):
            sign_in(engine, user.email, "guess", address=f"203.0.113.{n}")
    with pytest.raises(Slowed, match="signing in to it from new places is slowed down"):
        sign_in(engine, user.email, PASSWORD, address="198.51.100.4")
    assert sign_in(engine, user.email, PASSWORD, address="192.0.2.1").id == user.id


def test_one_address_spraying_many_accounts_is_slowed(engine: Engine, session: Session) -> None:
    user = make_user(session)
    regular = make_user(session)
    sign_in(engine, regular.email, PASSWORD, address="192.0.2.7")  # signs in here every day
    for n in range(LIMITS.address.free):
        with pytest.raises(ValidationFailed):
            sign_in(engine, f"nobody{n}@example.nhs.uk", "Password1!", address="192.0.2.7")
    with pytest.raises(Slowed, match="Many wrong passwords have come from this network"):
        sign_in(engine, user.email, PASSWORD, address="192.0.2.7")
    assert sign_in(engine, user.email, PASSWORD, address="192.0.2.8").id == user.id
    assert sign_in(engine, regular.email, PASSWORD, address="192.0.2.7").id == regular.id


def test_inactive_account_cannot_sign_in(engine: Engine, session: Session) -> None:
    user = make_user(session)
    user.active = False
    session.add(user)
    session.commit()
    with pytest.raises(ValidationFailed):
        sign_in(engine, user.email, PASSWORD)


def test_malformed_email_refused_without_a_check(engine: Engine, checks: list[str]) -> None:
    with pytest.raises(ValidationFailed, match="Enter your email address"):
        sign_in(engine, "\x00not an email", PASSWORD)
    assert checks == []


def test_change_password_ends_every_session_and_starts_a_new_one_here(engine: Engine, session: Session) -> None:
    user = make_user(session)
    assert user.id is not None
    signin.sign_in(engine, user.email, PASSWORD, address="10.0.0.1", limits=LIMITS)
    signin.sign_in(engine, user.email, PASSWORD, address="10.0.0.2", limits=LIMITS)
    token = accounts.change_password(engine, user.id, PASSWORD, "a brand new passphrase",
                                     "a brand new passphrase", address="10.0.0.1", limits=LIMITS)
    live = {s.token_sha256 for s in session.exec(select(LoginSession).where(LoginSession.revoked_at == None))}  # noqa: E711
    assert live == {signin.token_digest(token)}
    assert sign_in(engine, user.email, "a brand new passphrase").id == user.id
    with pytest.raises(ValidationFailed):
        sign_in(engine, user.email, PASSWORD)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.password_changed")).one()


@pytest.mark.parametrize(("current", "new", "confirm", "field"), [
    ("wrong password", "a brand new passphrase", "a brand new passphrase", "current_password"),
    ("", "a brand new passphrase", "a brand new passphrase", "current_password"),
    (PASSWORD, "short", "short", "new_password"),
    (PASSWORD, PASSWORD, PASSWORD, "new_password"),
    (PASSWORD, "a brand new passphrase", "a brand new passphrase!", "confirm_password"),
])
def test_change_password_refuses_and_changes_nothing(engine: Engine, session: Session, current: str, new: str,
                                                     confirm: str, field: str) -> None:
    user = make_user(session)
    assert user.id is not None
    with pytest.raises(ValidationFailed) as caught:
        accounts.change_password(engine, user.id, current, new, confirm, address="10.0.0.1", limits=LIMITS)
    assert field in caught.value.errors
    assert sign_in(engine, user.email, PASSWORD).id == user.id


def test_role_change_and_deactivation_end_every_session(engine: Engine, session: Session) -> None:
    admin = make_user(session, Role.admin)
    user = make_user(session)
    assert user.id is not None and admin.id is not None
    for address in ("10.0.0.1", "10.0.0.2"):
        signin.sign_in(engine, user.email, PASSWORD, address=address, limits=LIMITS)

    def live() -> int:
        return len(session.exec(select(LoginSession).where(LoginSession.user_id == user.id,
                                                           LoginSession.revoked_at == None)).all())  # noqa: E711

    assert live() == 2
    accounts.set_role(session, admin, user.id, Role.observer)
    assert live() == 0
    signin.sign_in(engine, user.email, PASSWORD, address="10.0.0.1", limits=LIMITS)
    accounts.set_active(session, admin, user.id, False)
    assert live() == 0
    with pytest.raises(ValidationFailed):
        sign_in(engine, user.email, PASSWORD)
    accounts.set_active(session, admin, user.id, True)
    assert sign_in(engine, user.email, PASSWORD).role == Role.observer
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == user.id))]
    assert {"user.role_changed", "user.deactivated", "user.reactivated"} <= set(actions)


def test_admin_cannot_remove_own_admin_role_or_deactivate_self(session: Session) -> None:
    admin = make_user(session, Role.admin)
    assert admin.id is not None
    with pytest.raises(ValidationFailed, match="your own administrator role"):
        accounts.set_role(session, admin, admin.id, Role.facilitator)
    with pytest.raises(ValidationFailed, match="deactivate your own account"):
        accounts.set_active(session, admin, admin.id, False)
    again = session.get(User, admin.id)
    assert again is not None and again.role == Role.admin and again.active
