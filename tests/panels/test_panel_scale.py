"""A national panel's pages (issue 14 section 4): the people list a page at a time with a search,
per-group counts from one aggregate, and reads and writes whose number of statements does not grow
with the panel (a panel of 20,000 is as quick to show, invite and remind as one of 20)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign import db
from codesign.mail.render import KINDS, MessageContext, Recipient, render_message, render_messages
from codesign.models import OutboxMessage, Panel, Panellist, Participant, Round, User, WorkshopSession, utcnow
from codesign.queries.online import online_round_page, panel_mail
from codesign.queries.panels import PER_PAGE, get_panel_view
from codesign.services import online, panel_people, panels, population, rounds, sessions
from codesign.services.panels import new_token
from tests.conftest import post_form, sign_in
from tests.panels.helpers import person_in
from tests.panels.test_panel_pages import snapshot
from tests.round_helpers import accepted_ids, round_form

GROUPS = ("patient", "carer", "clinician", "commissioner")


def people_csv(n: int, start: int = 1) -> str:
    rows = ["name,email,stakeholder group"]
    rows += [f"Person {i:03d},person{i:03d}@example.org,{GROUPS[(i - 1) % 4]}" for i in range(start, start + n)]
    return "\n".join(rows) + "\n"


def _panel(session: Session, facilitator: User, workshop: WorkshopSession, n: int) -> Panel:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "National panel")
    assert panel.id is not None
    panel_people.upload_panel_list(session, facilitator, panel.id, people_csv(n))
    return panel


def _shown(page: str) -> list[int]:
    """The panellist numbers in the people table, in order."""
    table = page.split('aria-label="People on the panel">', 1)[1].split("</table>", 1)[0]
    return [int(n) for n in re.findall(r'<td class="nhsuk-table__cell">(\d+)</td>', table)]


def test_the_people_list_is_paged_with_counts_for_each_group(client: TestClient, session: Session,
                                                             facilitator: User, workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop, 2 * PER_PAGE + 20)
    sign_in(client, facilitator)
    url = f"/panels/{panel.id}"
    first = client.get(url)
    assert first.status_code == 200
    assert _shown(first.text) == list(range(1, PER_PAGE + 1))
    text = html.unescape(first.text)
    assert "People (120)" in text and "Showing 1 to 50 of 120, page 1 of 3." in text
    # The counts come from the whole panel, not the page: 120 people, 30 in each group.
    counts = text.split("People in each group", 1)[1].split("</table>", 1)[0]
    for name in ("Patients", "Carers", "Clinicians", "Commissioners"):
        assert re.search(rf'{name}</th>\s*<td[^>]*>30</td>', counts), name
    # NHS.UK pagination: a labelled landmark, the current page marked for screen readers, links onward.
    nav = first.text.split('aria-label="Pages of people on the panel"', 1)[1].split("</nav>", 1)[0]
    assert 'aria-current="page"' in nav and f'href="/panels/{panel.id}?page=2#people"' in nav
    assert 'rel="next"' in nav and 'rel="prev"' not in nav
    second = client.get(f"{url}?page=2")
    assert _shown(second.text) == list(range(PER_PAGE + 1, 2 * PER_PAGE + 1))
    assert 'rel="prev"' in second.text
    assert _shown(client.get(f"{url}?page=3").text) == list(range(2 * PER_PAGE + 1, 2 * PER_PAGE + 21))
    # Only the page's people reach the HTML: nobody from page 1 is in page 2's, anywhere.
    assert "person001@example.org" not in second.text and "Person 101" not in second.text


@pytest.mark.parametrize(("page", "expected"), [("abc", 1), ("0", 1), ("-2", 1), ("", 1), ("1.5", 1),
                                                ("99", 3), ("99999999999999999999", 1), ("²", 1),
                                                ("٣", 1), ("2%20", 2)])
def test_a_bad_page_number_is_clamped_never_an_error(client: TestClient, session: Session, facilitator: User,
                                                     workshop: WorkshopSession, page: str, expected: int) -> None:
    panel = _panel(session, facilitator, workshop, 2 * PER_PAGE + 20)
    sign_in(client, facilitator)
    response = client.get(f"/panels/{panel.id}?page={page}")
    assert response.status_code == 200
    assert f"page {expected} of 3" in response.text
    assert _shown(response.text)[0] == (expected - 1) * PER_PAGE + 1


def test_search_by_name_email_or_number_pages_its_results_and_changes_nothing(
        client: TestClient, engine: Engine, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop, 2 * PER_PAGE + 20)
    sign_in(client, facilitator)
    url = f"/panels/{panel.id}"
    before = snapshot(engine)
    assert _shown(client.get(url, params={"q": "person 007"}).text) == [7]
    assert _shown(client.get(url, params={"q": "PERSON042@EXAMPLE"}).text) == [42]
    assert _shown(client.get(url, params={"q": "  Person 11  "}).text) == list(range(110, 120))
    # A number finds that panellist (and anyone whose name or email has it in).
    assert 57 in _shown(client.get(url, params={"q": "57"}).text)
    assert _shown(client.get(url, params={"q": "Panellist 120"}).text) == [120]
    # Results are paged too, and the page links keep the search.
    everyone = client.get(url, params={"q": "person", "page": "2"})
    assert _shown(everyone.text) == list(range(PER_PAGE + 1, 2 * PER_PAGE + 1))
    assert f'href="/panels/{panel.id}?q=person&amp;page=3#people"' in everyone.text
    assert "120 people match “person”" in html.unescape(everyone.text)
    # LIKE's wildcards are searched for as themselves.
    for term in ("%", "_", "person_01"):
        page = html.unescape(client.get(url, params={"q": term}).text)
        assert f"Nobody on the panel matches “{term}”" in page, term
    assert snapshot(engine) == before  # a GET form: searching changes nothing


def test_a_search_that_finds_nobody_says_so_and_the_term_is_escaped(client: TestClient, session: Session,
                                                                    facilitator: User,
                                                                    workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop, 3)
    sign_in(client, facilitator)
    term = '<script>alert("x")</script>'
    response = client.get(f"/panels/{panel.id}", params={"q": term})
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    assert f"Nobody on the panel matches “{term}”" in html.unescape(response.text)
    assert 'value="&lt;script&gt;' in response.text  # kept in the search box, escaped
    # Digits that are not ASCII ("²", "٣") are text to look for, never a panellist number (int() fails on "²")
    for digits in ("²", "٣", "panellist ²"):
        assert client.get(f"/panels/{panel.id}", params={"q": digits}).status_code == 200


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent while inside."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _online_round(session: Session, facilitator: User, workshop: WorkshopSession, panel: Panel) -> Round:
    """An open round in an online session of the panel, every panellist a participant of it."""
    assert panel.id is not None
    made = panel_people.create_panel_session(session, facilitator, panel.id, "Online", "", "online")
    assert made.id is not None
    found = rounds.create_round(session, facilitator, made.id, round_form(accepted_ids(session, workshop, 3)))
    assert found.id is not None
    rounds.open_round(session, facilitator, made.id, found.id, acknowledge_small=True)
    people = session.exec(select(Panellist).where(Panellist.panel_id == panel.id)).all()
    session.add_all(Participant(session_id=made.id, stakeholder_group_id=p.stakeholder_group_id, token=new_token(),
                                panellist_id=p.id, number=i + 1) for i, p in enumerate(people))
    session.commit()
    return session.get_one(Round, found.id)


def _panel_with_everything(session: Session, facilitator: User, workshop: WorkshopSession,
                           n: int) -> tuple[Panel, Round]:
    """A panel of n, its room session with a participant, and an online round everyone took part in,
    invited and reminded (with failures and unsubscribes, so every list on the mail page has rows)."""
    panel = _panel(session, facilitator, workshop, n)
    assert panel.id is not None and workshop.id is not None
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    person_in(session, workshop, "patient")
    found = _online_round(session, facilitator, workshop, panel)
    online.queue_invitations(session, facilitator, found.session_id, found.id or 0, "https://x.example",
                             now=utcnow() - timedelta(days=2))
    for message in session.exec(select(OutboxMessage)).all():
        message.status, message.attempts = ("failed", 6) if message.id and message.id % 2 else ("pending", 2)
        message.last_error = "Connection refused"
        session.add(message)
    for person in session.exec(select(Panellist).where(col(Panellist.number) % 3 == 0)).all():
        person.unsubscribed_at = utcnow()
        session.add(person)
    session.commit()
    return panel, found


def test_the_panel_pages_reads_do_not_grow_with_the_panel(engine: Engine, session: Session, facilitator: User,
                                                          workshop: WorkshopSession) -> None:
    small, small_round = _panel_with_everything(session, facilitator, workshop, 4)
    sent: dict[str, list[int]] = {"panel": [], "search": [], "round": [], "mail": []}
    # A second population group's panel, forty times the size, in the same database.
    group = population.create_population_group(session, facilitator, "Older people",
                                               template_slug="adults-with-diabetes")
    assert group.id is not None
    other = sessions.create_session(session, facilitator, group.id, "Workshop two")
    large, large_round = _panel_with_everything(session, facilitator, other, 160)
    for panel, found in [(small, small_round), (large, large_round)]:
        assert panel.id is not None and found.id is not None
        with db.read_session(engine) as s:
            with statements(engine) as run:
                get_panel_view(s, panel.id, page=2)
            sent["panel"].append(len(run))
            with statements(engine) as run:
                get_panel_view(s, panel.id, search="person")
            sent["search"].append(len(run))
            with statements(engine) as run:
                online_round_page(s, found.session_id, found.id)
            sent["round"].append(len(run))
            with statements(engine) as run:
                panel_mail(s, panel.id)
            sent["mail"].append(len(run))
    assert all(small_n == large_n for small_n, large_n in sent.values()), sent
    # What a page holds is bounded too: one page of people; the mail page's first 100 of each list.
    with db.read_session(engine) as s:
        view = get_panel_view(s, large.id or 0, page=2)
        assert [r.panellist.number for r in view.people.rows] == list(range(51, 101))
        assert all(r.sessions == ["Online"] for r in view.people.rows)
        assert [c.people for c in view.counts] == [40, 40, 40, 40]
        assert sum(c.unsubscribed for c in view.counts) == 160 // 3
        mail = panel_mail(s, large.id or 0)
        assert len(mail.failed) == 80 and mail.counts["failed"] == 80 and len(mail.unsubscribed) == 53
        assert mail.retrying[0].count == 80 and mail.unsubscribed_total == 53


def test_queueing_mail_and_uploading_take_the_same_statements_for_any_panel(
        engine: Engine, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    """One INSERT per few hundred messages or people, not one per person (a national panel's
    invitations were 20,000 statements and two minutes)."""
    sent: dict[str, list[int]] = {"upload": [], "invite": [], "remind": []}
    user_id = facilitator.id
    for n in (3, 240):
        facilitator = session.get_one(User, user_id)
        panel = panels.create_panel(session, facilitator, workshop.population_group_id, f"Panel of {n}")
        assert panel.id is not None
        session.commit()
        with db.write_session(engine) as s, statements(engine) as run:
            assert panel_people.upload_panel_list(s, s.get_one(User, user_id), panel.id,
                                                  people_csv(n, 1000 * n)) == n
        sent["upload"].append(len(run))
        found = _online_round(session, session.get_one(User, user_id), workshop, panel)
        session.commit()
        with db.write_session(engine) as s, statements(engine) as run:
            assert online.queue_invitations(s, s.get_one(User, user_id), found.session_id, found.id or 0,
                                            "https://x.example", now=utcnow() - timedelta(days=2)) == n
        sent["invite"].append(len(run))
        with db.write_session(engine) as s:
            for message in s.exec(select(OutboxMessage).where(OutboxMessage.round_id == found.id)).all():
                message.status, message.sent_at = "sent", utcnow() - timedelta(days=2)
                s.add(message)
            s.commit()
        with db.write_session(engine) as s, statements(engine) as run:
            assert online.queue_reminders(s, s.get_one(User, user_id), found.session_id, found.id or 0,
                                          "https://x.example") == n
        sent["remind"].append(len(run))
        with db.write_session(engine) as s:  # pressed again the same day: nothing new, nothing rendered
            assert online.queue_reminders(s, s.get_one(User, user_id), found.session_id, found.id or 0,
                                          "https://x.example") == 0
    assert all(small == large for small, large in sent.values()), sent


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("open_now", [True, False])
def test_messages_rendered_together_are_those_rendered_one_by_one(kind: str, open_now: bool) -> None:
    now = utcnow()
    context = MessageContext(kind=kind, name="", study="Living <well> & “better”", round_title="Round 1: 'R&D'",
                             closes_at=now + timedelta(days=5), link_url="", unsubscribe_url="",
                             opens_at=now + timedelta(days=1), open_now=open_now, sender="Dr O'Neil <ops>", now=now)
    people = [Recipient("Asha", "https://x.example/take-part/abc", "https://x.example/unsubscribe/def"),
              Recipient('Ben "B" <b@x> & Co', "https://x.example/take-part/a&b", "https://x.example/u?x=1&y=<2>"),
              Recipient("there", "https://x.example/take-part/{m.name}", "https://x.example/unsubscribe/")]
    together = render_messages(context, people)
    for person, message in zip(people, together, strict=True):
        alone = render_message(MessageContext(
            kind=kind, name=person.name, study=context.study, round_title=context.round_title,
            closes_at=context.closes_at, link_url=person.link_url, unsubscribe_url=person.unsubscribe_url,
            opens_at=context.opens_at, open_now=open_now, sender=context.sender, now=now))
        assert message == alone
    assert "Ben &#34;B&#34; &lt;b@x&gt; &amp; Co" in together[1].html and 'Ben "B" <b@x> & Co' in together[1].text


def test_a_room_participant_is_matched_by_panellist_number(client: TestClient, engine: Engine, session: Session,
                                                           facilitator: User, workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop, PER_PAGE + 10)
    assert panel.id is not None and workshop.id is not None
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    someone = person_in(session, workshop, "patient")
    sign_in(client, facilitator)
    url = f"/panels/{panel.id}"
    page = client.get(url).text
    assert 'name="panellist_number"' in page
    assert "Panellist 60:" not in page  # no list of everyone to choose from
    before = snapshot(engine)
    for bad in ("9999", "abc", "0"):
        refused = post_form(client, f"{url}/match", {"participant": str(someone.id), "panellist_number": bad},
                            token_from=url)
        assert refused.status_code == 422, bad
        assert "Enter the number of a panellist of this panel" in html.unescape(refused.text)
        assert f'value="{bad}"' in refused.text
    assert snapshot(engine) == before
    # Panellist 57 is a patient (1, 5, 9, ... 57 in the file's group order).
    done = post_form(client, f"{url}/match", {"participant": str(someone.id), "panellist_number": "57"},
                     token_from=url)
    assert done.status_code == 303
    fifty_seventh = session.exec(select(Panellist).where(Panellist.panel_id == panel.id,
                                                         Panellist.number == 57)).one()
    assert session.get_one(Participant, someone.id).panellist_id == fifty_seventh.id
    found = client.get(url, params={"q": "57"}).text
    assert "Workshop one" in found.split("Person 057", 1)[1]  # took part in, shown on the page that finds them
