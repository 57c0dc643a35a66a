"""Personal links (/take-part/<token>) and online round windows, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign.config import Settings
from codesign.mail import worker
from codesign.models import (
    AuditEvent,
    Panellist,
    Participant,
    Round,
    RoundStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.services import online
from codesign.uk_time import as_utc, form_value, parse_uk
from tests.conftest import post_form, sign_in
from tests.online.helpers import Study, make_study
from tests.round_helpers import shown_outcome


@pytest.fixture
def study(session: Session, facilitator: User, workshop: WorkshopSession) -> Study:
    return make_study(session, facilitator, workshop)


def start(client: TestClient, token: str):  # type: ignore[no-untyped-def]
    return post_form(client, f"/take-part/{token}", {}, token_from="/join")


def participants(session: Session) -> list[Participant]:
    return list(session.exec(select(Participant)))


def rate(client: TestClient, url: str, value: str = "8"):  # type: ignore[no-untyped-def]
    return post_form(client, url, {"value": value, "key": f"k{abs(hash((url, value)))}"}, token_from=url)


def test_a_link_opens_the_round_with_no_code_and_makes_one_participant(client: TestClient, other_client: TestClient,
                                                                        session: Session, study: Study) -> None:
    asha = study.people[0]
    page = client.get(f"/take-part/{asha.link_token}")
    assert page.status_code == 200 and "Start" in page.text and "Hello Asha Patel" in page.text
    assert participants(session) == []  # a GET changes nothing
    entered = start(client, asha.link_token or "")
    assert entered.status_code == 303
    assert entered.headers["location"].endswith(f"/s/{study.session.join_code}/rounds/{study.round.id}")
    [made] = participants(session)
    assert made.panellist_id == asha.id and made.stakeholder_group_id == asha.stakeholder_group_id
    question = client.get(entered.headers["location"])
    assert question.status_code == 303 and "/q/1" in question.headers["location"]
    assert client.get(question.headers["location"]).status_code == 200
    # Again, and from another device: the same participant, never a second one.
    assert start(client, asha.link_token or "").status_code == 303
    back = other_client.get(f"/take-part/{asha.link_token}")
    assert back.status_code == 303 and back.headers["location"].endswith(f"/rounds/{study.round.id}")
    assert [p.id for p in participants(session)] == [made.id]
    # The audit log names the panellist by number only.
    events = " ".join(e.summary for e in session.exec(select(AuditEvent)))
    assert "Panellist 1 opened their personal link" in events and "Asha" not in events


def test_answers_are_kept_across_visits(client: TestClient, other_client: TestClient, session: Session,
                                        study: Study) -> None:
    token = study.people[0].link_token or ""
    entered = start(client, token)
    base = entered.headers["location"]
    first = client.get(base + "/q/1")
    outcome = shown_outcome(session, first.text)
    assert rate(client, base + "/q/1", "7").status_code == 303
    # A later visit on another device, by the same link: their answer is there.
    other_client.get(f"/take-part/{token}")
    done = other_client.get(base + "/done")
    assert done.status_code == 200
    answer = session.exec(select(Participant)).one()
    from codesign.models import Ballot, BallotAnswer

    ballot = session.exec(select(Ballot).where(Ballot.participant_id == answer.id)).one()
    saved = session.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id)).one()
    assert (saved.outcome_id, saved.value) == (outcome, 7)
    assert "You have answered 1 of 4" in done.text
    assert "If there is another round, we will email you" in done.text  # not "the big screen"


@pytest.mark.parametrize("how", ["revoked", "erased", "ended", "unknown"])
def test_a_link_that_no_longer_works_says_so(client: TestClient, session: Session, study: Study, how: str) -> None:
    asha = study.people[0]
    token = asha.link_token or ""
    if how == "revoked":
        asha.link_revoked_at = utcnow()
    elif how == "erased":
        asha.erased_at, asha.name, asha.email = utcnow(), None, None
    elif how == "ended":
        study.panel.ends_at = utcnow() - timedelta(minutes=1)
        session.add(study.panel)
    else:
        token = "x" * 40  # cut short in copying
    session.add(asha)
    session.commit()
    page = client.get(f"/take-part/{token}")
    assert page.status_code == 410 and "This link no longer works" in page.text
    refused = post_form(client, f"/take-part/{token}", {}, token_from="/join")
    assert refused.status_code == 410 and participants(session) == []


def test_ballots_are_refused_outside_the_window(client: TestClient, session: Session, study: Study) -> None:
    entered = start(client, study.people[0].link_token or "")
    url = entered.headers["location"] + "/q/1"
    found = session.get(Round, study.round.id)
    assert found is not None
    found.closes_at = utcnow() - timedelta(minutes=1)
    session.add(found)
    session.commit()
    refused = rate(client, url)
    assert refused.status_code == 409 and "This round closed at" in refused.text
    found.closes_at, found.opens_at = utcnow() + timedelta(days=2), utcnow() + timedelta(days=1)
    session.add(found)
    session.commit()
    early = rate(client, url)
    assert early.status_code == 409 and "This round opens at" in early.text
    found.opens_at = utcnow() - timedelta(minutes=1)
    session.add(found)
    session.commit()
    assert rate(client, url).status_code == 303


def test_the_worker_opens_and_closes_rounds_on_time(session: Session, engine: Engine, facilitator: User,
                                                     workshop: WorkshopSession, settings: Settings) -> None:
    study = make_study(session, facilitator, workshop, open_it=False)
    now = utcnow()
    opens, closes = form_value(now + timedelta(hours=1)), form_value(now + timedelta(days=7))
    online.set_window(session, facilitator, study.session.id or 0, study.round.id or 0, opens, closes, now=now)
    assert worker.run_once(engine, settings, now=now).opened == []
    assert worker.run_once(engine, settings, now=now + timedelta(hours=1, minutes=1)).opened == [study.round.id]
    found = session.get(Round, study.round.id)
    assert found is not None and found.status == RoundStatus.open
    assert worker.run_once(engine, settings, now=now + timedelta(days=7, minutes=1)).closed == [study.round.id]
    session.commit()
    session.refresh(found)
    assert found.status == RoundStatus.closed and found.results_json and found.results_sha256


def test_scheduled_reminders_are_queued_when_due(session: Session, engine: Engine, study: Study,
                                                 facilitator: User, settings: Settings) -> None:
    from codesign.models import OutboxMessage

    assert online.set_reminder_days(session, facilitator, study.session.id or 0, study.round.id or 0, "7, 3") == [3, 7]
    opened = study.round.opened_at
    assert opened is not None
    assert worker.run_once(engine, settings, now=utcnow() + timedelta(days=2)).reminders == 0
    assert worker.run_once(engine, settings, now=utcnow() + timedelta(days=3, hours=1)).reminders == 3
    assert worker.run_once(engine, settings, now=utcnow() + timedelta(days=3, hours=2)).reminders == 0
    assert len(session.exec(select(OutboxMessage)).all()) == 3


def test_the_online_round_page_validates_and_saves_the_window(client: TestClient, session: Session,
                                                              facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, open_it=False)
    sign_in(client, facilitator)
    url = f"/sessions/{study.session.id}/rounds/{study.round.id}/online"
    assert client.get(url).status_code == 200
    bad = post_form(client, url + "/window", {"opens_at": "2031-03-30T01:30", "closes_at": "2031-03-01T17:00"},
                    token_from=url)
    assert bad.status_code == 422 and "real UK date and time" in bad.text
    backwards = post_form(client, url + "/window", {"opens_at": "2031-06-10T09:00", "closes_at": "2031-06-01T17:00"},
                          token_from=url)
    assert backwards.status_code == 422 and "must close after it opens" in backwards.text
    found = session.get(Round, study.round.id)
    assert found is not None and found.opens_at is None and found.closes_at is None
    saved = post_form(client, url + "/window", {"opens_at": "2031-06-01T09:00", "closes_at": "2031-06-10T17:00"},
                      token_from=url)
    assert saved.status_code == 303
    session.commit()
    session.refresh(found)
    # 9am in June is BST: 08:00 UTC.
    assert found.opens_at is not None and found.opens_at.strftime("%H:%M") == "08:00"
    assert as_utc(found.opens_at) == parse_uk("2031-06-01T09:00")
    assert "5:00pm on Tuesday 10 June 2031" in client.get(url).text
    schedule = post_form(client, url + "/schedule", {"days": "three"}, token_from=url)
    assert schedule.status_code == 422 and "whole numbers of days" in schedule.text


def test_a_room_session_has_no_online_page(client: TestClient, session: Session, facilitator: User,
                                           workshop: WorkshopSession) -> None:
    from tests.round_helpers import accepted_ids, open_round

    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    sign_in(client, facilitator)
    assert client.get(f"/sessions/{workshop.id}/rounds/{found.id}/online").status_code == 409


def test_a_session_online_takes_no_one_by_the_join_code(client: TestClient, session: Session, study: Study) -> None:
    """Refused at the code, not after a name and a group (the trial's "half works")."""
    code = study.session.join_code
    for url in (f"/j/{code}", "/join"):
        refused = post_form(client, url, {"code": code}, token_from=url)
        assert refused.status_code == 422
        assert "This is an online study: please use the personal link in the email we sent you" in refused.text
    assert client.get(f"/j/{code}/group", follow_redirects=False).status_code in (302, 303)  # never proved
    assert participants(session) == []


def test_a_later_round_shows_the_panellist_their_answer_and_each_groups_spread(
        client: TestClient, session: Session, facilitator: User, study: Study) -> None:
    from codesign.services import ballots, panels, rounds
    from codesign.services.rounds import round_outcome_ids
    from tests.round_helpers import round_form

    panels.add_panellist(session, facilitator, study.panel.id or 0, "Dev Shah", "dev@example.com", "patient")
    first_round = study.round.id or 0
    outcomes = list(round_outcome_ids(session, first_round))
    tokens = [p.link_token or "" for p in session.exec(select(Panellist).order_by(col(Panellist.number)))]
    for token, value in zip(tokens, ["8", "9", "3", "7"], strict=True):
        _, person = online.start_link(session, token)
        for outcome in outcomes:
            ballots.answer_rating(session, first_round, person.id or 0, outcome, value, f"k{token[:20]}{outcome}")
    sid = study.session.id or 0
    rounds.close_round(session, facilitator, sid, first_round)
    rounds.set_revealed(session, facilitator, sid, first_round, True)
    second = rounds.create_round(session, facilitator, sid, round_form(
        outcomes, title="Round 2", feedback_round_id=str(first_round), min_group_size="3"))
    rounds.open_round(session, facilitator, sid, second.id or 0, acknowledge_small=True)
    entered = start(client, tokens[0])
    assert entered.headers["location"].endswith(f"/rounds/{second.id}")
    page = client.get(entered.headers["location"] + "/q/1")
    assert page.status_code == 200
    assert "You said: <strong>8</strong>" in page.text
    # Each group's spread in round 1, in the room's words.
    assert "<strong>Patients</strong> (3 people): 3 of 3 patients said critical (7 to 9)" in page.text


def test_the_round_form_of_an_online_session_sets_the_window(client: TestClient, session: Session,
                                                             facilitator: User, workshop: WorkshopSession) -> None:
    from tests.round_helpers import accepted_ids, round_form

    study = make_study(session, facilitator, workshop, open_it=False)
    sign_in(client, facilitator)
    url = f"/sessions/{study.session.id}/rounds/new"
    assert 'name="closes_at"' in client.get(url).text
    form = round_form(accepted_ids(session, workshop, 3), title="Online round 2")
    bad = post_form(client, url, {**form, "opens_at": "2031-06-10T09:00", "closes_at": "2031-06-01T17:00"},
                    token_from=url)
    assert bad.status_code == 422 and "must close after it opens" in bad.text
    assert session.exec(select(Round).where(Round.title == "Online round 2")).first() is None
    made = post_form(client, url, {**form, "opens_at": "2031-01-10T09:00", "closes_at": "2031-01-20T17:00"},
                     token_from=url)
    assert made.status_code == 303
    found = session.exec(select(Round).where(Round.title == "Online round 2")).one()
    # January is GMT: UK time is UTC.
    assert found.opens_at is not None and found.closes_at is not None
    assert (as_utc(found.opens_at), as_utc(found.closes_at)) == (parse_uk("2031-01-10T09:00"),
                                                                 parse_uk("2031-01-20T17:00"))
    assert form_value(found.opens_at) == "2031-01-10T09:00"
    edit = client.get(f"/sessions/{study.session.id}/rounds/{found.id}/edit")
    assert 'value="2031-01-20T17:00"' in edit.text
    # A session in the room has no window on its form.
    study.session.mode = "room"
    session.add(study.session)
    session.commit()
    assert 'name="closes_at"' not in client.get(url).text


def test_a_panellist_the_facilitator_removed_is_told_and_not_let_back_in(client: TestClient, session: Session,
                                                                         study: Study) -> None:
    token = study.people[0].link_token or ""
    start(client, token)
    made = session.exec(select(Participant)).one()
    made.removed_at, made.removed_reason = utcnow(), "Asked to leave the study"
    session.add(made)
    session.commit()
    page = client.get(f"/take-part/{token}")
    assert page.status_code == 410 and "taken you out" in page.text
    assert start(client, token).status_code == 410
    assert len(session.exec(select(Participant)).all()) == 1


def test_a_later_round_feeds_back_the_whole_studys_spread_when_round_1_was_pooled(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    """Round 1 runs online and in a room at once (one pooled round); round 2 online shows each group's
    spread over both, not only the online answers."""
    from codesign.services import ballots, panel_people, pooled, rounds, sessions
    from codesign.services.rounds import round_outcome_ids
    from tests.round_helpers import round_form

    study = make_study(session, facilitator, workshop, open_it=False)
    room = sessions.create_session(session, facilitator, workshop.population_group_id, "Room", "2026-03-21")
    panel_people.attach_session(session, facilitator, study.panel.id or 0, str(room.id))
    online_sid, first_round = study.session.id or 0, study.round.id or 0
    pooled.run_in_sessions(session, facilitator, online_sid, first_round, [str(room.id)])
    room_round = session.exec(select(Round).where(Round.session_id == room.id)).one()
    for sid, rid in ((online_sid, first_round), (room.id or 0, room_round.id or 0)):
        rounds.open_round(session, facilitator, sid, rid, acknowledge_small=True)
    outcomes = list(round_outcome_ids(session, first_round))
    patient_group = session.exec(select(StakeholderGroup).where(StakeholderGroup.key == "patient")).one()
    patients = [p for p in study.people if p.stakeholder_group_id == patient_group.id]
    for person in patients:  # online patients: critical
        _, participant = online.start_link(session, person.link_token or "")
        for outcome in outcomes:
            ballots.answer_rating(session, first_round, participant.id or 0, outcome, "8", f"online-{participant.id}-{outcome}")
    for n in range(3):  # room patients: not important
        participant = sessions.join_session(session, room.id or 0, "patient")
        for outcome in outcomes:
            ballots.answer_rating(session, room_round.id or 0, participant.id or 0, outcome, "2", f"room-{n}-{outcome}")
    rounds.close_round(session, facilitator, room.id or 0, room_round.id or 0)
    rounds.close_round(session, facilitator, online_sid, first_round)  # the last member: the pooled count
    rounds.set_revealed(session, facilitator, online_sid, first_round, True)
    second = rounds.create_round(session, facilitator, online_sid, round_form(
        outcomes, title="Round 2", feedback_round_id=str(first_round), min_group_size="1"))
    rounds.open_round(session, facilitator, online_sid, second.id or 0, acknowledge_small=True)
    entered = start(client, patients[0].link_token or "")
    page = client.get(entered.headers["location"] + "/q/1")
    assert "You said: <strong>8</strong>" in page.text
    total = len(patients) + 3
    assert (f"<strong>Patients</strong> ({total} people): {len(patients)} of {total} patients said critical (7 to 9)"
            in page.text), page.text[page.text.find("Patients</strong>") - 50:][:300]
