"""A finished ranking that was never sent is hard to miss: on a 360 px phone the send control stays
in view wherever the person has scrolled, and leaving the page asks first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from codesign.models import BallotAnswer, User, WorkshopSession
from tests.browser.helpers import PHONE
from tests.browser.test_network import _join
from tests.round_helpers import accepted_ids, open_round

pytestmark = pytest.mark.browser

IN_VIEW = """(el) => { const box = el.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0; }"""


def test_an_unsent_list_stays_in_reach_and_leaving_asks_first(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    ids = accepted_ids(session, workshop, 10)
    found = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")
    _device, page = _join(guarded, workshop, PHONE)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    send = page.get_by_role("button", name="Send my ranking")
    page.get_by_role("button", name="Add").last.tap()  # the last outcome, far down a long page
    page.get_by_text("Your list is not sent yet").wait_for()
    for where in ("0", "document.body.scrollHeight / 2", "document.body.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {where})")
        assert send.evaluate(IN_VIEW), f"the send button is out of view at scroll {where}"
    assert page.locator(".app-send--unsent").count() == 1

    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.evaluate("window.location.href = '/'")  # leaving (a link, the address bar) is asked about
    page.wait_for_timeout(0)
    assert asked == ["beforeunload"] and f"/rounds/{found.id}" in page.url

    send.tap()
    page.get_by_text("Thank you, your answers are saved").wait_for()
    assert len(session.exec(select(BallotAnswer)).all()) == 1
