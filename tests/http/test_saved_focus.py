"""After an answer: the next page opens at its heading (#question, #done) and says "Saved" in the
status region, once. Without JavaScript (a plain form post) as well as with it (HX-Request)."""

from __future__ import annotations

import re

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign.models import User, WorkshopSession
from tests.conftest import join
from tests.round_helpers import accepted_ids, open_round

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
STATUS = re.compile(r'<p class="app-live__message" role="status" id="live-status" data-live-status([^>]*)>([^<]*)</p>')
HEADING = re.compile(r'<h1 [^>]*id="(question|done)" tabindex="-1" data-arrival[^>]*?(?:aria-describedby="([^"]*)")?>')


def _status(html: str) -> str:
    found = STATUS.search(html)
    assert found, html[:2000]
    return found.group(2)


def _heading(html: str) -> tuple[str, str]:
    found = HEADING.search(" ".join(html.split()))
    assert found, html[:3000]
    return found.group(1), found.group(2) or ""


def _post(client: TestClient, page_url: str, url: str, data: dict[str, str], *, htmx: bool = False) -> object:
    token = TOKEN.search(client.get(page_url).text)
    assert token
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={"csrf_token": token.group(1), **data}, headers=headers, follow_redirects=False)


def test_a_rating_leads_to_the_next_heading_and_says_saved_once(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    join(client, workshop.join_code, "patient")
    base = f"/s/{workshop.join_code}/rounds/{found.id}"
    first = client.get(f"{base}/q/1").text
    assert _status(first) == "" and _heading(first) == ("question", "question-progress")

    # A plain form post (no JavaScript): 303 to the next question's heading.
    plain = _post(client, f"{base}/q/1", f"{base}/q/1", {"value": "8", "key": "saved-key-00001"})
    assert plain.status_code == 303 and plain.headers["location"] == f"{base}/q/2#question"  # type: ignore[attr-defined]
    arrived = client.get(f"{base}/q/2").text
    assert _status(arrived) == "Saved" and 'data-saved="Saved"' in arrived
    assert _heading(arrived) == ("question", "live-status question-progress")
    again = client.get(f"{base}/q/2").text  # said once: a reload is not a new answer
    assert _status(again) == "" and _heading(again) == ("question", "question-progress")

    # A refused answer is not "saved".
    refused = _post(client, f"{base}/q/2", f"{base}/q/2", {"value": "12", "key": "saved-key-00002"})
    assert refused.status_code == 422 and _status(refused.text) == ""  # type: ignore[attr-defined]
    assert _status(client.get(f"{base}/q/2").text) == ""

    # Our script's request (HX-Request): 204 with HX-Redirect to the thank-you heading, and "Saved".
    client.post(f"{base}/q/2", data={"csrf_token": TOKEN.search(again).group(1),  # type: ignore[union-attr]
                                     "value": "5", "key": "saved-key-00003"})
    scripted = _post(client, f"{base}/q/3", f"{base}/q/3", {"value": "unable", "key": "saved-key-00004"}, htmx=True)
    assert scripted.status_code == 204 and scripted.headers["HX-Redirect"] == f"{base}/done#done"  # type: ignore[attr-defined]
    done = client.get(f"{base}/done").text
    assert "Thank you, your answers are saved" in done and _status(done) == "Saved"
    assert _heading(done) == ("done", "live-status")
    # "Change my answers" and the question links open at the heading too.
    assert f'{base}/q/1#question"' in done


def test_a_pair_and_i_have_finished_lead_to_the_heading_and_say_saved(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="pairwise")
    join(client, workshop.join_code, "patient")
    base = f"/s/{workshop.join_code}/rounds/{found.id}"
    page = client.get(base).text
    pair = re.findall(r'name="(left|right)" value="(\d+)"', page)
    answered = _post(client, base, f"{base}/pair", {**dict(pair), "choice": "left", "key": "pair-saved-0001"})
    assert answered.status_code == 303 and answered.headers["location"] == f"{base}#question"  # type: ignore[attr-defined]
    next_pair = client.get(base).text
    assert "1 answered" in next_pair and _status(next_pair) == "Saved"
    assert _heading(next_pair) == ("question", "live-status question-progress")
    finished = _post(client, base, f"{base}/finish", {"key": "pair-saved-0002"})
    assert finished.status_code == 303 and finished.headers["location"] == f"{base}/done#done"  # type: ignore[attr-defined]
    done = client.get(f"{base}/done").text
    assert _status(done) == "Saved" and _heading(done) == ("done", "live-status")
