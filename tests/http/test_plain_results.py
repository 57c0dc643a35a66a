"""Revealed results as participants and the room read them (issue 11, item 4): one count of people
per group on the whole page, the middle band in words, and small groups hidden with the reason."""

from __future__ import annotations

import re
from html import unescape

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign.models import User
from codesign.services import ballots, rounds, sessions
from tests.conftest import join, sign_in
from tests.round_helpers import accepted_ids, open_round


def _text(html: str) -> str:
    """What a page says: its markup and the screen-reader-only copies left in, tags out."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_one_count_of_people_per_group_whatever_was_left_unscored(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    """Four patients: for outcome A one says "I cannot score this"; for B one gives no answer. The
    consensus rule counts 3 scored answers for each, but every figure about patients says "of 4"
    (the old pages said n=3 beside a heading of n=4, and drew a bar of 3 under it). Carers, 2 of
    them, are under the minimum of 3: not shown, and the page says why."""
    a, b = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, [a, b], min_group_size="3")
    answers = {"patient": [{a: "8", b: "9"}, {a: "5", b: "2"}, {a: "2", b: "5"}, {a: "unable"}],
               "carer": [{a: "9", b: "9"}] * 2}
    for group, people in answers.items():
        for n, given in enumerate(people):
            voter = sessions.join_session(session, workshop.id, group)
            for outcome, value in given.items():
                ballots.answer_rating(session, found.id, voter.id, outcome, value, f"{group}-{n}-{outcome}")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]

    join(other_client, workshop.join_code, "clinician")
    mine = _text(other_client.get(f"/s/{workshop.join_code}/rounds/{found.id}").text)
    sign_in(client, facilitator)
    projector = _text(client.get(f"/sessions/{workshop.id}/rounds/{found.id}/projector").text)
    for page in (mine, projector):
        assert "Patients 4 people" in page or "Patients (4 people)" in page
        counts = re.findall(r"\b(\d+) of (\d+)\b", page)
        assert counts and {whole for _, whole in counts} == {"4"}, counts
        assert page.count("1 of 4 patients said critical (7 to 9)") == 2
        assert page.count("1 of 4 said important but not critical (4 to 6)") == 2
        assert "1 of 4 said “I cannot score this”" in page and "1 of 4 did not answer" in page
        # Carers (2, under the minimum of 3): no figure at all, and why in plain words.
        assert "We do not show how carers answered. There were fewer than 3 people" in page
        assert "Carers" not in page.replace("carers", "")
        for word in ("Kendall", "p =", "n=", "Combined score", "%"):
            assert word not in page, word
    console = _text(client.get(f"/sessions/{workshop.id}/rounds/{found.id}").text)
    assert "n=3" in console and "Kendall" in console  # the facilitator still sees the statistics


def test_a_thin_cell_and_the_consensus_it_feeds_are_hidden_with_the_reason(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    """Three patients and three carers, minimum 3: for outcome A two carers say "I cannot score this",
    so carers' answers to A (1 scored) are hidden, and so is whether people agreed on A."""
    a, b = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, [a, b], min_group_size="3")
    answers = {"patient": [{a: "9", b: "9"}] * 3, "carer": [{a: "9", b: "8"}, {a: "unable", b: "9"},
                                                             {a: "unable", b: "7"}]}
    for group, people in answers.items():
        for n, given in enumerate(people):
            voter = sessions.join_session(session, workshop.id, group)
            for outcome, value in given.items():
                ballots.answer_rating(session, found.id, voter.id, outcome, value, f"{group}-{n}-{outcome}")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]
    join(other_client, workshop.join_code, "clinician")
    html = other_client.get(f"/s/{workshop.join_code}/rounds/{found.id}").text
    page = _text(html)
    assert "Not shown: fewer than 3 carers scored this. With so few, you could work out how one person answered." in page
    assert len(re.findall(r'class="nhsuk-tag[^"]*">Agreed: keep in<', html)) == 1  # B only: A's would give carers away
    assert "Agreed or not: not shown" in page and "a group too small to show went into whether people agreed" in page
    assert "2 of 3 said “I cannot score this”" not in page


def test_a_ranking_round_says_where_each_group_put_it_and_nothing_about_agreement(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    """Ranking has no consensus: no "Agreed" or "not shown" badge, even where a hidden group (one
    carer, under the minimum of 2) went into the order; each shown group's place in words."""
    a, b = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, [a, b], method="ranking", min_group_size="2", top_k="2")
    for n, (group, first) in enumerate((("patient", a), ("patient", a), ("carer", b))):
        voter = sessions.join_session(session, workshop.id, group)
        second = b if first == a else a
        ballots.set_draft(session, found.id, voter.id, {first: 1, second: 2})  # type: ignore[arg-type]
        ballots.submit_draft(session, found.id, voter.id, f"rank-{n:04d}")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]
    join(other_client, workshop.join_code, "clinician")
    sign_in(client, facilitator)
    for page in (_text(other_client.get(f"/s/{workshop.join_code}/rounds/{found.id}").text),
                 _text(client.get(f"/sessions/{workshop.id}/rounds/{found.id}/projector").text)):
        assert "Patients put it 1st." in page and "2 of 2 patients put it on their list, and 2 of 2 put it first." in page
        assert "We do not show how carers answered." in page
        assert "Agreed" not in page and "agreed" not in page
        for word in ("Kendall", "p =", "n=", "Combined score"):
            assert word not in page, word
