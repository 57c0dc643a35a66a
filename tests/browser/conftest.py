"""Real-browser fixtures: the app served by uvicorn in a thread, Debian's Chromium via Playwright.

Every request to a host other than the app's own is blocked and recorded, so a test can assert
that pages ask nothing of the outside world (the NHS.UK font host included). Blocked in the browser
itself: Chromium sends everything but loopback to a proxy that is not there, so nothing leaves the
machine; each context records any request to another host. No request interception (Playwright's
routing turns the HTTP cache off and sends every request through the test process), so pages load
as they do for people, cached CSS and JS included.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from codesign.config import Settings
from tests.live_server import LiveServer

CHROMIUM = os.environ.get("CODESIGN_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# A proxy on a port where nothing listens: any request not for loopback fails in the browser.
NOWHERE = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"}
SCREENSHOTS = Path(os.environ.get("CODESIGN_TEST_OUTPUT", "test-output")) / "screenshots"

pytestmark = pytest.mark.browser


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
        browser = launch(p)
        yield browser
        browser.close()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        proxy=NOWHERE,
    )


class InThread:
    """Run `work(browser)` in a thread of its own, with its own Playwright and Chromium (Playwright's
    sync API belongs to the thread that started it), while the test goes on in the main thread: two
    pages checked at once use both cores. `result()` joins and returns the value or re-raises."""

    def __init__(self, work: Callable[[Any], Any]) -> None:
        self.work = work
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = launch(p)
                try:
                    self.value = self.work(browser)
                finally:
                    browser.close()
        except BaseException as exc:  # handed to the test in result()
            self.error = exc

    def join(self, timeout: float = 300) -> None:
        self.thread.join(timeout)

    def result(self, timeout: float = 300) -> Any:
        self.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("the browser thread did not finish")
        if self.error is not None:
            raise self.error
        return self.value


class Guarded:
    """A browser context whose off-site requests fail (see NOWHERE) and are listed in `.blocked`."""

    def __init__(self, browser: Any, base_url: str, **options: Any) -> None:
        self.context = browser.new_context(base_url=base_url, **options)
        self.blocked: list[str] = []
        self.base_url = base_url
        self.context.on("request", self._watch)

    def _watch(self, request: Any) -> None:
        if not (request.url.startswith(self.base_url + "/") or request.url.startswith("data:")):
            self.blocked.append(request.url)

    def close(self, failed: bool = False) -> None:
        # Closed in a `finally` while a test's exception is on its way out: say where each page was.
        if failed or sys.exc_info()[1] is not None:
            describe_pages(self.context)
        self.context.close()


_PAGE_STATE = """() => [document.title,
  ...[...document.querySelectorAll(".app-ballot-status, [data-live-status], h1")].map((e) => e.textContent.trim())]"""


def describe_pages(context: Any) -> None:
    """For a failed test: each open page's address, title, headings and status messages (printed,
    so pytest shows them with the failure) and a screenshot under test-output/failures/."""
    folder = SCREENSHOTS.parent / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    for page in context.pages:
        try:
            state = page.evaluate(_PAGE_STATE)
            name = f"{os.getpid()}-{id(page)}.png"
            page.screenshot(path=str(folder / name), full_page=True)
            print(f"page {page.url}: {state} (screenshot failures/{name})")
        except Exception as exc:  # a page that cannot be read says so, and the rest still print
            print(f"page {page.url}: unreadable ({exc})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def guarded(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    made: list[Guarded] = []

    def make(**options: Any) -> Guarded:
        g = Guarded(browser, live_server.url, **options)
        made.append(g)
        return g

    yield make
    failed = request.node.stash.get(_FAILED, False)
    for g in made:
        g.close(failed)


# While axe reads the page (hold = true), and only then: a tap after the check (Add on a ranking
# list, which swaps the list in place) must still work on the same page.
_HOLD_STILL = """(hold) => {
  window.__heldStill = hold;
  if (window.__holdListeners) return;
  window.__holdListeners = true;
  document.addEventListener("htmx:beforeRequest", (event) => { if (window.__heldStill) event.preventDefault(); }, true);
  document.addEventListener("htmx:beforeSwap", (event) => { if (window.__heldStill) event.detail.shouldSwap = false; }, true);
}"""


@lru_cache(maxsize=1)
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (all rules, none disabled) on the page; return the violations.

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy does
    not govern, so the policy stays on exactly as served (no bypass, no inline script allowed)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    # Hold the page still while axe reads it: the console and projector poll (htmx) and would
    # otherwise swap a region out from under a running check. The page is checked as it stands.
    page.evaluate(_HOLD_STILL, True)
    try:
        # resultTypes only trims the passes and incomplete lists axe reports; every rule still runs.
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        page.evaluate(_HOLD_STILL, False)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
