"""What a study team's trial of online rounds and mail found (issue 14's trial): invitations that said a
round was open when it was not, reminders on the heels of invitations, a mail page that hid an outage,
and the join code of an online session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign.mail import outbox
from codesign.models import OutboxMessage, Round, User, WorkshopSession, utcnow
from codesign.services import online, panels
from codesign.uk_time import uk_datetime
from tests.conftest import post_form, sign_in
from tests.online.helpers import Study, make_study
from tests.online.test_mail import finish_round

BASE = "http://testserver"


def messages(db: Session, kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.exec(query))


def schedule(db: Session, study: Study, opens_in: timedelta, lasts: timedelta) -> Round:
    found = db.get(Round, study.round.id)
    assert found is not None
    found.opens_at = utcnow() + opens_in
    found.closes_at = found.opens_at + lasts
    db.add(found)
    db.commit()
    return found


# ---- 1. invitations say whether the round is open -------------------------------------------

def test_invitations_to_a_draft_round_with_no_opening_time_are_refused(client: TestClient, session: Session,
                                                                     facilitator: User,
                                                                     workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, open_it=False)
    sign_in(client, facilitator)
    url = f"/sessions/{study.session.id}/rounds/{study.round.id}/online"
    refused = post_form(client, url + "/invitations", {}, token_from=url)
    assert refused.status_code == 409
    assert "is not open and has no opening time" in refused.text and "no invitations were sent" in refused.text
    assert messages(session) == []


def test_an_invitation_to_a_scheduled_round_says_when_it_opens_and_closes(session: Session, facilitator: User,
                                                                         workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, open_it=False)
    found = schedule(session, study, timedelta(minutes=1), timedelta(days=7))
    assert online.queue_invitations(session, facilitator, study.session.id or 0, found.id or 0, BASE) == 3
    for message in messages(session):
        for body in (message.body_text, message.body_html):
            assert "open now" not in body
            assert uk_datetime(found.opens_at) in body and uk_datetime(found.closes_at) in body
            assert "It opens at" in body and "It closes at" in body and "(UK time)" in body


def test_an_invitation_to_an_open_round_says_it_is_open_now(session: Session, facilitator: User,
                                                           workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    assert online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE) == 3
    for message in messages(session):
        assert "is the part that is open now" in message.body_text and "It opens at" not in message.body_text


# ---- 2. no reminder on the heels of an invitation ------------------------------------------

def test_no_reminder_to_someone_invited_in_the_last_24_hours(client: TestClient, session: Session,
                                                             facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    sid, rid = study.session.id or 0, study.round.id or 0
    two_days_ago = utcnow() - timedelta(days=2)
    online.queue_invitations(session, facilitator, sid, rid, BASE, now=two_days_ago)
    for message in messages(session):  # delivered two days ago
        message.status, message.sent_at, message.to_address = "sent", two_days_ago, None
        session.add(message)
    session.commit()
    late = panels.add_panellist(session, facilitator, study.panel.id or 0, "Dev Shah", "dev@example.com", "patient")
    assert online.queue_invitations(session, facilitator, sid, rid, BASE) == 1  # only the newcomer
    sign_in(client, facilitator)
    url = f"/sessions/{sid}/rounds/{rid}/online"
    assert "A reminder will go to 3 people." in client.get(url).text  # said before the button is pressed
    sent = post_form(client, url + "/reminders", {}, token_from=url)
    assert sent.status_code == 303
    reminded = {m.panellist_id for m in messages(session, "reminder")}
    assert reminded == {p.id for p in study.people} and late.id not in reminded
    assert "Nobody would get a reminder now." in client.get(url).text


def test_a_waiting_invitation_is_cancelled_when_its_panellist_finishes(session: Session, facilitator: User,
                                                                      workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    finish_round(session, study, 0)  # she finishes (as Ian did in the trial) while her invitation waits
    claimed = outbox.claim(session)
    assert sorted(c.to_address for c in claimed) == ["ben@example.com", "cara@example.com"]
    [cancelled] = [m for m in messages(session) if m.panellist_id == study.people[0].id]
    assert cancelled.status == "cancelled" and cancelled.last_error == "The panellist finished the round"


# ---- 3. the mail page shows an outage --------------------------------------------------------

def test_the_mail_page_shows_messages_being_retried_with_their_error(client: TestClient, session: Session,
                                                                    facilitator: User,
                                                                    workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    tried = datetime(2031, 1, 15, 0, 31, tzinfo=UTC)  # January: UK time is UTC
    for claimed in outbox.claim(session, now=tried):
        assert outbox.record_failure(session, claimed.id, "Connection refused", now=tried) == "pending"
    sign_in(client, facilitator)
    page = client.get(f"/panels/{study.panel.id}/mail").text
    assert "3 messages could not be sent yet: Connection refused (last tried 00:31; next try 00:32" in page
    assert "No message has failed." in page  # none has given up yet: they are still being tried


# ---- 4. an online session offers no join code -----------------------------------------------

def test_the_console_of_an_online_session_offers_no_join_link_qr_or_cards(client: TestClient, session: Session,
                                                                          facilitator: User,
                                                                          workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    sign_in(client, facilitator)
    console = client.get(f"/sessions/{study.session.id}").text
    assert "personal link" in console and "How people join" not in console
    assert f"/j/{study.session.join_code}" not in console
    assert "cards.pdf" not in console and "app-qr-small" not in console
    assert client.get(f"/sessions/{study.session.id}/cards.pdf").status_code == 409


# ---- 5. an erased panellist's link says it was turned off -----------------------------------

def test_an_erased_panellists_link_says_it_was_turned_off(client: TestClient, session: Session,
                                                          facilitator: User, workshop: WorkshopSession) -> None:
    from codesign.services.panel_people import erase_panellist

    study = make_study(session, facilitator, workshop)
    asha = study.people[0]
    token = asha.link_token or ""
    erase_panellist(session, facilitator, study.panel.id or 0, asha.id or 0)
    for page in (client.get(f"/take-part/{token}"), post_form(client, f"/take-part/{token}", {}, token_from="/join")):
        assert page.status_code == 410 and "The study team has turned it off" in page.text
        assert "check you copied" not in page.text
    cut_short = client.get(f"/take-part/{token[:30]}")
    assert cut_short.status_code == 410 and "Please check you copied all of it from the email" in cut_short.text


# ---- 6. smaller: who the mail is from, "closes soon", the start and unsubscribe pages ---------

def test_a_reminder_says_closes_soon_only_within_two_days() -> None:
    from codesign.mail.render import MessageContext, render_message

    now = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)

    def subject(closes_in: timedelta) -> str:
        return render_message(MessageContext(
            kind="reminder", name="Asha", study="Living well with diabetes", round_title="What matters",
            closes_at=now + closes_in, link_url="https://x.example/take-part/T",
            unsubscribe_url="https://x.example/unsubscribe/U", now=now)).subject

    assert subject(timedelta(days=1)) == "A reminder: Living well with diabetes closes soon"
    assert subject(timedelta(days=5)) == "A reminder: Living well with diabetes closes on Wednesday 15 January 2031"


def test_mail_names_the_study_team_and_the_facilitator_who_sent_it(session: Session, facilitator: User,
                                                                    workshop: WorkshopSession) -> None:
    facilitator.name = "Sam Green"
    session.add(facilitator)
    session.commit()
    study = make_study(session, facilitator, workshop)
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    for message in messages(session):
        assert 'From Sam Green, for the study team of "Living well with diabetes".' in message.body_text
        assert "From Sam Green, for the study team of “Living well with diabetes”." in message.body_html


def test_the_start_and_unsubscribe_pages_name_the_study_and_thank_no_one_in_advance(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop)
    start = client.get(f"/take-part/{study.people[0].link_token}")
    assert start.status_code == 200 and "Thank you for taking part" not in start.text
    unsubscribe = client.get(f"/unsubscribe/{study.people[0].unsubscribe_token}")
    assert unsubscribe.status_code == 200 and "“Living well with diabetes”" in unsubscribe.text


def test_a_round_titled_round_1_is_not_called_round_1_round_1(session: Session, facilitator: User,
                                                               workshop: WorkshopSession) -> None:
    from codesign.models import AuditEvent

    study = make_study(session, facilitator, workshop)
    found = session.get(Round, study.round.id)
    assert found is not None and found.number == 1
    found.title = "Round 1: What matters"
    session.add(found)
    session.commit()
    online.queue_invitations(session, facilitator, study.session.id or 0, found.id or 0, BASE)
    for message in messages(session):
        assert "“Round 1: What matters” is the part that is open now" in message.body_html
        assert "Round 1: Round 1" not in message.body_text
    summaries = [e.summary for e in session.exec(select(AuditEvent).where(AuditEvent.action == "round.invitations_queued"))]
    assert summaries == ["3 invitations queued for Round 1: What matters"]


def test_one_click_unsubscribe_needs_no_csrf_token_and_only_unsubscribes(client: TestClient, session: Session,
                                                                         facilitator: User,
                                                                         workshop: WorkshopSession) -> None:
    from codesign.models import Panellist

    study = make_study(session, facilitator, workshop)
    online.queue_invitations(session, facilitator, study.session.id or 0, study.round.id or 0, BASE)
    cara = study.people[2]
    url = f"/unsubscribe/{cara.unsubscribe_token}/one-click"
    looked = client.get(url, follow_redirects=False)  # a client without one-click: the page that asks first
    assert looked.status_code == 303 and looked.headers["location"].endswith(f"/unsubscribe/{cara.unsubscribe_token}")
    # The ordinary page's POST still needs the CSRF token; only the one-click address does not.
    assert client.post(f"/unsubscribe/{cara.unsubscribe_token}", data={}).status_code == 403
    session.expire_all()
    assert session.get(Panellist, cara.id).unsubscribed_at is None  # type: ignore[union-attr]
    done = client.post(url, content=b"List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200
    session.expire_all()
    assert session.get(Panellist, cara.id).unsubscribed_at is not None  # type: ignore[union-attr]
    assert {m.status for m in messages(session) if m.panellist_id == cara.id} == {"cancelled"}
    assert client.post(url, content=b"List-Unsubscribe=One-Click").status_code == 200  # twice: still fine
    assert client.post("/unsubscribe/not-a-token/one-click", content=b"").status_code == 404
