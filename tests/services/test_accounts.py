from __future__ import annotations

import pytest
from sqlmodel import Session, select

from codesign.errors import RateLimited, ValidationFailed
from codesign.models import AuditEvent, User
from codesign.services import accounts
from tests.conftest import PASSWORD, make_user


def sign_in(session: Session, email: str, password: str, address: str = "10.0.0.1") -> User:
    return accounts.sign_in(session, email, password, address=address, max_failures=3, window_seconds=900)


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


def test_sign_in_with_right_password_is_audited(session: Session) -> None:
    user = make_user(session)
    assert sign_in(session, user.email.upper(), PASSWORD).id == user.id
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.signed_in")).one()


def test_failed_sign_ins_are_limited_per_account(session: Session) -> None:
    user = make_user(session)
    for n in range(3):
        with pytest.raises(ValidationFailed):
            sign_in(session, user.email, "wrong password", address=f"10.0.0.{n}")
    # The right password no longer works from any address until the window passes.
    with pytest.raises(RateLimited):
        sign_in(session, user.email, PASSWORD, address="10.9.9.9")


def test_failed_sign_ins_are_limited_per_address(session: Session) -> None:
    user = make_user(session)
    for n in range(3):
        with pytest.raises(ValidationFailed):
            sign_in(session, f"nobody{n}@example.nhs.uk", "guess", address="192.0.2.7")
    with pytest.raises(RateLimited):
        sign_in(session, user.email, PASSWORD, address="192.0.2.7")
    assert sign_in(session, user.email, PASSWORD, address="192.0.2.8").id == user.id


def test_inactive_account_cannot_sign_in(session: Session) -> None:
    user = make_user(session)
    user.active = False
    session.add(user)
    session.commit()
    with pytest.raises(ValidationFailed):
        sign_in(session, user.email, PASSWORD)
