"""Real-browser fixtures: the app served by uvicorn in a thread, Debian's Chromium via Playwright.

Every request to a host other than the app's own is blocked and recorded, so a test can assert
that pages ask nothing of the outside world (the NHS.UK font host included).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from codesign.app import create_app
from codesign.config import Settings

CHROMIUM = os.environ.get("CODESIGN_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"
SCREENSHOTS = Path(os.environ.get("CODESIGN_TEST_OUTPUT", "test-output")) / "screenshots"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)  # polling for start-up, not timing anything
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


class Guarded:
    """A browser context whose off-site requests are blocked and listed in `.blocked`."""

    def __init__(self, browser: Any, base_url: str, **options: Any) -> None:
        self.context = browser.new_context(base_url=base_url, **options)
        self.blocked: list[str] = []
        self.base_url = base_url
        self.context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        if route.request.url == self.base_url + AXE_URL:
            # Served as if from the app, so the page's own Content-Security-Policy stays on.
            route.fulfill(path=str(AXE), content_type="text/javascript")
        elif route.request.url.startswith(self.base_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def guarded(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    made: list[Guarded] = []

    def make(**options: Any) -> Guarded:
        g = Guarded(browser, live_server.url, **options)
        made.append(g)
        return g

    yield make
    for g in made:
        g.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (all rules, none disabled) on the page; return the violations."""
    page.add_script_tag(url=AXE_URL)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
