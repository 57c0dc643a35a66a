"""Every Location and HX-Redirect is a path on this site, whatever a `next` value says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from codesign.models import User
from codesign.web.htmx import local_path
from tests.conftest import PASSWORD, csrf_from

NASTY = ["//evil.example", "//evil.example/path", "/\\evil.example", "\\/evil.example", "\\\\evil.example",
         "\t/evil.example", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", " /x", "/x ",
         "http://evil.example", "https://evil.example/signin", "HTTP://evil.example", "http:evil.example",
         "http:/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,hi",
         "evil.example", "", "///evil.example", "/%0a/x\x00", "/\x00", "\x00/", "/\u0085/evil.example",
         "//evil.example@testserver", "http://testserver@evil.example/", "https://evil.example:443@testserver"]


@pytest.mark.parametrize("url", NASTY)
def test_nasty_targets_become_the_start_page(url: str) -> None:
    assert local_path(url, host="testserver") == "/"


@pytest.mark.parametrize(("url", "path"), [
    ("/sessions/3", "/sessions/3"), ("/sessions/3?fp=a#round", "/sessions/3?fp=a#round"),
    ("http://testserver/groups/1#weights", "/groups/1#weights"), ("https://testserver", "/"),
    ("/p/caf\u00e9", "/p/caf%C3%A9"), ("/a%2F%2Fb", "/a%2F%2Fb"),
])
def test_local_targets_are_kept_as_paths(url: str, path: str) -> None:
    assert local_path(url, host="testserver") == path


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.sampled_from(NASTY).flatmap(
    lambda n: st.text(max_size=5).map(lambda t: n + t))))
def test_whatever_comes_in_a_local_path_goes_out(url: str) -> None:
    out = local_path(url, host="testserver")
    assert out.startswith("/") and not out.startswith(("//", "/\\"))
    assert out.isascii() and not any(ch in out for ch in "\\ \t\r\n\x00")
    out.encode("latin-1")  # fits a header


@pytest.mark.parametrize("next_url", ["//evil.example", "/\\evil.example", "/\t/evil.example",
                                      "https://evil.example/x", "javascript:alert(1)"])
def test_sign_in_never_sends_anyone_off_site(client: TestClient, facilitator: User, next_url: str) -> None:
    token = csrf_from(client, "/signin")
    response = client.post("/signin", data={"email": facilitator.email, "password": PASSWORD, "next": next_url,
                                            "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_sign_in_follows_a_local_next_and_htmx_gets_a_path(client: TestClient, other_client: TestClient,
                                                           facilitator: User) -> None:
    token = csrf_from(client, "/signin")
    response = client.post("/signin", data={"email": facilitator.email, "password": PASSWORD,
                                            "next": "/groups/new", "csrf_token": token})
    assert response.headers["location"] == "/groups/new"
    token = csrf_from(other_client, "/signin")
    response = other_client.post("/signin", data={"email": facilitator.email, "password": PASSWORD,
                                                  "next": "//evil.example", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_redirects_after_a_post_are_paths_not_absolute_urls(client: TestClient, facilitator: User) -> None:
    token = csrf_from(client, "/signin")
    client.post("/signin", data={"email": facilitator.email, "password": PASSWORD, "csrf_token": token})
    signed_out = client.post("/signout", data={"csrf_token": csrf_from(client, "/join")})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/"
    # A page that needs a sign-in sends the visitor to it with the way back, as a path.
    bounced = client.get("/groups/new", headers={"HX-Request": "true"})
    assert bounced.headers["HX-Redirect"] == "/signin?next=/groups/new"


@pytest.mark.parametrize("next_url", ["/\\evil.example", "/\t/evil.example", "https://evil.example"])
def test_larger_text_switch_stays_on_site(client: TestClient, next_url: str) -> None:
    response = client.post("/text-size", data={"size": "large", "next": next_url, "csrf_token": csrf_from(client, "/join")})
    assert response.status_code == 303 and response.headers["location"] == "/"
    back = client.post("/text-size", data={"size": "large", "next": "/join", "csrf_token": csrf_from(client, "/join")})
    assert back.headers["location"] == "/join"


@pytest.mark.parametrize("host", ["evil.example", "testserver", "localhost:8000"])
def test_the_trailing_slash_redirect_is_a_path_whatever_the_host_header(client: TestClient, host: str) -> None:
    response = client.get("/join/", headers={"Host": host})
    assert response.status_code == 307 and response.headers["location"] == "/join"
