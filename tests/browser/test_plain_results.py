"""Results as a patient reads them (issue 11, items 4 and 5), in Chromium.

Participants, the projector and the presenter screen say "8 of 10 patients said critical (7 to 9)"
and "Agreed: keep in"; Kendall's W, p-values, combined scores and "n=" stay on staff pages. The
bars' bands differ in lightness by at least 3:1 from one another (read with getComputedStyle), each
part of a bar is labelled with its count, and the middle band is hatched as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from codesign import db
from codesign.config import Settings
from codesign.models import LiveView, WorkshopSession
from codesign.services import room
from tests.browser.conftest import LiveServer, screenshot
from tests.browser.helpers import PROJECTOR, TABLET_PORTRAIT, sign_in
from tests.browser.world import FACILITATOR, World
from tests.browser.world_fixtures import seeded_world, world_copy, world_template  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

STATISTICS = ("Kendall", "p =", "p=", "combined score", "n=")


def statistics_shown(page: Any) -> list[str]:
    """Statistical notation in what the page shows (its text, not its markup: "name=" is no "n=")."""
    text = page.locator("body").inner_text().lower()
    return [word for word in STATISTICS if word.lower() in text]


# Relative luminance and contrast as WCAG 2.2 defines them, of each bar part's computed background,
# with the text it shows and whether it is patterned (a background image: the hatching).
_BARS_JS = """
() => {
  const lum = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
  const bands = {};
  for (const key of ["low", "mid", "high"]) {
    const probe = document.createElement("span");
    probe.className = `app-bar app-bar--${key}`;
    document.body.appendChild(probe);
    const style = getComputedStyle(probe);
    bands[key] = {colour: style.backgroundColor, pattern: style.backgroundImage !== "none"};
    probe.remove();
  }
  const pairs = {};
  for (const [a, b] of [["low", "mid"], ["mid", "high"], ["low", "high"]]) {
    pairs[`${a}/${b}`] = contrast(bands[a].colour, bands[b].colour);
  }
  const bars = [...document.querySelectorAll(".app-bars")].map((bar) => [...bar.children].map((part) => {
    const style = getComputedStyle(part);
    return {band: part.dataset.band || part.className, colour: style.backgroundColor,
            label: part.innerText.trim(), visible: part.getBoundingClientRect().width > 0,
            grow: Number(style.flexGrow)};
  }));
  const adjacent = [];
  for (const parts of bars) {
    for (let i = 1; i < parts.length; i += 1) {
      adjacent.push({pair: `${parts[i - 1].band}/${parts[i].band}`,
                     contrast: contrast(parts[i - 1].colour, parts[i].colour)});
    }
  }
  return {bands, pairs, bars, adjacent};
}
"""


def check_bars(page: Any, where: str) -> list[str]:
    """Problems with the bars on the page: bands too alike, a part without its count, no pattern."""
    found = page.evaluate(_BARS_JS)
    problems = [f"{where}: bands {pair} {ratio:.2f}:1, under 3:1" for pair, ratio in found["pairs"].items()
                if ratio < 3]
    if not any(band["pattern"] for band in found["bands"].values()):
        problems.append(f"{where}: no band carries a pattern")
    if not found["bars"]:
        problems.append(f"{where}: no bars")
    for parts in found["bars"]:
        for part in parts:
            if not part["visible"] or part["label"] != str(int(part["grow"])):
                problems.append(f"{where}: a bar part ({part['band']}) shows {part['label']!r}, not its count")
    problems += [f"{where}: adjacent parts {a['pair']} {a['contrast']:.2f}:1" for a in found["adjacent"]
                 if a["contrast"] < 3 and "none" not in a["pair"]]
    return problems


def test_participants_read_plain_words_and_bars_that_do_not_rely_on_colour(
        guarded: Callable[..., Any], world: World) -> None:
    device = guarded(**TABLET_PORTRAIT)
    page = device.context.new_page()
    page.goto("/join")
    page.get_by_label("Enter the code on the screen").fill(world.code)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Patient", exact=True).click()
    page.get_by_role("heading", name="What matters most to you?").wait_for()
    problems: list[str] = []

    for name, url in (("home", f"/s/{world.code}"), ("done", f"/s/{world.code}/rounds/{world.rating_feedback}/done"),
                      ("rating results", f"/s/{world.code}/rounds/{world.rating_closed}"),
                      ("ranking results", f"/s/{world.code}/rounds/{world.ranking_closed}"),
                      ("small groups shown", f"/s/{world.code}/rounds/{world.full_round}")):
        page.goto(url)
        problems += [f"{name}: shows {word!r}" for word in statistics_shown(page)]

    page.goto(f"/s/{world.code}/rounds/{world.rating_closed}")
    problems += check_bars(page, "participant rating results")
    assert problems == [], "\n".join(problems)
    main = page.locator("main")
    first = main.locator(".app-results__item").first
    text = first.inner_text()
    # One count of people per group: the group's heading and every sentence under it say the same N.
    for group in first.locator(".app-results__group").all():
        heading = group.locator(".app-results__group-name").inner_text()
        lines = group.locator(".app-results__key li").all_inner_texts()
        people = re.search(r"\((\d+) people\)", heading)
        assert people, heading
        assert lines and all(re.match(rf"\d+ of {people.group(1)} ", line) for line in lines), (heading, lines)
        bar_total = sum(int(n) for n in group.locator(".app-bar__count").all_inner_texts())
        assert bar_total == int(people.group(1)), (heading, bar_total)
    assert re.search(r"\d+ of \d+ patients said critical \(7 to 9\)", text), text
    assert re.search(r"\d+ of \d+ said important but not critical \(4 to 6\)", text), text
    assert re.search(r"\d+ of \d+ said not important \(1 to 3\)", text), text
    assert re.search(r"Agreed: keep in|Agreed: leave out|Not agreed", main.inner_text())
    screenshot(page, "plain-results-participant-768")

    page.goto(f"/s/{world.code}/rounds/{world.ranking_closed}")
    assert re.search(r"Patients put it \d+(st|nd|rd|th)\.", page.locator("main").inner_text())


def test_the_projector_and_presenter_screen_show_plain_words_and_staff_pages_keep_the_statistics(
        guarded: Callable[..., Any], world: World, settings: Settings, live_server: LiveServer) -> None:
    device = guarded(**PROJECTOR)
    page = device.context.new_page()
    sign_in(page, FACILITATOR)
    sid = world.session_id
    problems: list[str] = []
    for round_id in (world.rating_closed, world.ranking_closed, world.full_round):
        page.goto(f"/sessions/{sid}/rounds/{round_id}/projector")
        page.locator(".app-projector-table tbody tr").first.wait_for()
        problems += [f"projector {round_id}: shows {word!r}" for word in statistics_shown(page)]
    page.goto(f"/sessions/{sid}/rounds/{world.rating_closed}/projector")
    problems += check_bars(page, "projector")
    assert problems == [], "\n".join(problems)
    heads = page.locator(".app-projector-table thead th.app-projector-table__group").all_inner_texts()
    assert heads and all(re.search(r"\d+ people$", h) for h in heads), heads
    assert re.search(r"Agreed: keep in|Agreed: leave out|Not agreed", page.locator("main").inner_text())
    assert "important but not critical (4 to 6)" in page.locator(".app-projector__foot").inner_text()
    screenshot(page, "plain-results-projector-1920")

    # The presenter screen, with the room moved to each revealed round's results.
    engine = db.make_engine(settings)
    try:
        for round_id in (world.rating_closed, world.ranking_closed):
            with db.write_session(engine) as s:
                found = s.exec(select(WorkshopSession).where(WorkshopSession.id == sid)).one()
                room.move(s, found, LiveView.results, round_id)
            page.goto(f"/sessions/{sid}/present")
            page.locator(".app-projector-table tbody tr").first.wait_for()
            problems += [f"presenter {round_id}: shows {word!r}" for word in statistics_shown(page)]
        problems += check_bars(page, "presenter") if page.locator(".app-bars").count() else []
    finally:
        engine.dispose()

    # Staff pages keep the statistics: Kendall's W with its p-value, combined scores, n=.
    for round_id in (world.rating_closed, world.ranking_closed):
        page.goto(f"/sessions/{sid}/rounds/{round_id}")
        text = page.locator("main").inner_text()
        for word in ("Kendall", "p =", "Combined score", "n="):
            if word == "p =" and "p <" in text:
                continue
            assert word in text, (round_id, word)
    assert problems == [], "\n".join(problems)
