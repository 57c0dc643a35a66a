from __future__ import annotations

import hashlib

from starlette.testclient import TestClient

from codesign import paths

VENDORED = {
    "vendor/htmx-2.0.11/htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
    "vendor/nhsuk-frontend-10.6.1/nhsuk-frontend.min.js":
        "6becb5e390e9734b62f8aa81d0dc297fa78c33367986a1f57a832a5f3635fa65",
    "vendor/nhsuk-frontend-10.6.1/nhsuk-frontend.nofonts.min.css":
        "dee33f5bccd69dc63b751f8de927f830a279de63817f08c3845ad8ff4d609dff",
}


def test_vendored_files_match_their_pinned_hashes() -> None:
    for name, digest in VENDORED.items():
        assert hashlib.sha256((paths.STATIC / name).read_bytes()).hexdigest() == digest, name


def test_static_files_are_gzipped_and_cached_for_a_year(client: TestClient) -> None:
    response = client.get("/static/vendor/htmx-2.0.11/htmx.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "max-age=31536000" in response.headers["cache-control"]
    assert "immutable" in response.headers["cache-control"]


def test_own_assets_are_versioned_in_page_links(client: TestClient) -> None:
    page = client.get("/join").text
    assert "/static/css/app.css?v=" in page and "/static/js/app.js?v=" in page
    assert "assets.nhs.uk" not in client.get("/static/vendor/nhsuk-frontend-10.6.1/nhsuk-frontend.nofonts.min.css").text


def test_nhs_assets_served_where_the_css_expects_them(client: TestClient) -> None:
    response = client.get("/assets/images/favicon.svg")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
