"""Sign-in sessions live in the database: sign-out, a password change, a role change and
deactivation end them there, so a copy of the cookie made before opens nothing afterwards."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.app import SESSION_COOKIE
from codesign.models import AuditEvent, Role, User
from tests.conftest import PASSWORD, make_user, post_form, sign_in

pytestmark = pytest.mark.usefixtures("fast_hashes")
NEW_PASSWORD = "a brand new passphrase"


def copy_cookie(source: TestClient, thief: TestClient) -> None:
    value = source.cookies.get(SESSION_COOKIE)
    assert value
    thief.cookies.set(SESSION_COOKIE, value)


def signed_out(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 303 and "/signin" in response.headers["location"]


def test_a_cookie_copied_before_sign_out_opens_nothing_after(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                             facilitator) -> None:
    sign_in(client, facilitator)
    copy_cookie(client, other_client)
    assert other_client.get("/groups/new").status_code == 200  # the copy works while signed in...
    assert post_form(client, "/signout", {}, token_from="/").status_code == 303
    assert signed_out(client.get("/groups/new"))
    assert signed_out(other_client.get("/groups/new"))  # ...and not after signing out
    assert "Sign in" in other_client.get("/").text


def test_a_cookie_copied_before_a_password_change_opens_nothing_after(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, facilitator, session: Session) -> None:
    sign_in(client, facilitator)
    copy_cookie(client, other_client)
    assert "Change your password" in client.get("/").text  # in the header of every staff page
    response = post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                        "confirm_password": NEW_PASSWORD}, token_from="/account/password")
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Your password has been changed" in page.text
    assert client.get("/groups/new").status_code == 200  # this sign-in carries on
    assert signed_out(other_client.get("/groups/new"))  # every other one ended
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.password_changed")).one()
    # The new password signs in; the old one does not.
    third = post_form(other_client, "/signin", {"email": facilitator.email, "password": PASSWORD}, token_from="/signin")
    assert third.status_code == 422
    third = post_form(other_client, "/signin", {"email": facilitator.email, "password": NEW_PASSWORD},
                      token_from="/signin")
    assert third.status_code == 303


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"current_password": "not it", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "current_password", "Your current password is not right"),
    ({"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
     "new_password", "at least 10 characters"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!"},
     "confirm_password", "The new passwords do not match"),
])
def test_change_password_errors_are_shown_by_their_field(client: TestClient, other_client: TestClient, facilitator, form: dict[str, str],  # type: ignore[no-untyped-def]
                                                         field: str, message: str) -> None:
    sign_in(client, facilitator)
    response = post_form(client, "/account/password", form, token_from="/account/password")
    assert response.status_code == 422
    assert message in response.text and f'href="#{field}"' in response.text
    assert f'id="{field}-error"' in response.text
    assert client.get("/groups/new").status_code == 200  # still signed in, nothing changed
    assert post_form(other_client, "/signin", {"email": facilitator.email, "password": PASSWORD},
                     token_from="/signin").status_code == 303


def test_a_role_change_ends_every_session_of_that_person(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                        facilitator, session: Session) -> None:
    admin = make_user(session, Role.admin)
    sign_in(other_client, facilitator)
    assert other_client.get("/groups/new").status_code == 200
    sign_in(client, admin)
    response = post_form(client, f"/users/{facilitator.id}/role", {"role": "observer"}, token_from="/users")
    assert response.status_code == 303
    assert signed_out(other_client.get("/groups/new"))
    sign_in(other_client, facilitator)
    assert other_client.get("/groups/new").status_code == 403  # signed in again, as an observer
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).one()
    assert event.actor_id == admin.id and "from facilitator to observer" in event.summary


def test_deactivating_ends_every_session_and_reactivating_lets_them_back(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, facilitator, session: Session) -> None:
    admin = make_user(session, Role.admin)
    sign_in(other_client, facilitator)
    sign_in(client, admin)
    assert post_form(client, f"/users/{facilitator.id}/active", {"active": "no"}, token_from="/users").status_code == 303
    assert signed_out(other_client.get("/groups/new"))
    refused = post_form(other_client, "/signin", {"email": facilitator.email, "password": PASSWORD},
                        token_from="/signin")
    assert refused.status_code == 422
    assert "Deactivated" in client.get("/users").text
    assert post_form(client, f"/users/{facilitator.id}/active", {"active": "yes"}, token_from="/users").status_code == 303
    sign_in(other_client, facilitator)
    actions = {e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == facilitator.id))}
    assert {"user.deactivated", "user.reactivated"} <= actions


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.admin)
    sign_in(client, admin)
    page = client.get("/users").text
    assert f"/users/{admin.id}/role" not in page and f"/users/{admin.id}/active" not in page
    demote = post_form(client, f"/users/{admin.id}/role", {"role": "facilitator"}, token_from="/users")
    assert demote.status_code == 422 and "You cannot remove your own administrator role" in demote.text
    leave = post_form(client, f"/users/{admin.id}/active", {"active": "no"}, token_from="/users")
    assert leave.status_code == 422 and "You cannot deactivate your own account" in leave.text
    again = session.get(User, admin.id)
    assert again is not None and again.role == Role.admin and again.active
    assert client.get("/users").status_code == 200


def test_only_admins_manage_accounts(client: TestClient, facilitator, session: Session) -> None:  # type: ignore[no-untyped-def]
    other = make_user(session, Role.observer)
    sign_in(client, facilitator)
    response = post_form(client, f"/users/{other.id}/role", {"role": "admin"}, token_from="/")
    assert response.status_code == 403
    again = session.get(User, other.id)
    assert again is not None and again.role == Role.observer


def test_sign_in_that_is_slowed_says_how_long(client: TestClient, facilitator, settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.login_max_failures):
        wrong = post_form(client, "/signin", {"email": facilitator.email, "password": "nope"}, token_from="/signin")
        assert wrong.status_code == 422
    slowed = post_form(client, "/signin", {"email": facilitator.email, "password": PASSWORD}, token_from="/signin")
    assert slowed.status_code == 429 and "Wait 30 seconds, then try again" in slowed.text
    assert "locked" not in slowed.text.lower()
