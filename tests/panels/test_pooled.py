"""Pooled rounds (services.pooled, queries.pooled): one round run in several of a panel's sessions,
counted once when the last closes, each person once, checked by `codesign verify`."""

from __future__ import annotations

import argparse
import io
import json
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign import integrity
from codesign.errors import Conflict, ValidationFailed
from codesign.models import (
    AuditEvent,
    Ballot,
    BallotAnswer,
    Outcome,
    PanelRound,
    Round,
    RoundStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.queries.pooled import pooled_view
from codesign.services import ballots as ballot_service
from codesign.services import panel_people, panels, pooled, population, round_control, rounds
from codesign.tally_cli import run_tally
from tests.conftest import sign_in
from tests.panels.helpers import Study, make_study, open_all, person_in, rate, tally_csv
from tests.round_helpers import accepted_ids, round_form
from tests.services.test_undo_races import all_at_once

# Each session's people and their ratings of four outcomes: no two outcomes tie, pooled or not.
ROOM_ONE = {"patient": [["9", "8", "3", "5"], ["8", "9", "2", "6"]], "carer": [["9", "7", "4", "unable"]],
            "clinician": [["7", "9", "2", "4"], ["8", "6", "3", "5"]], "commissioner": [["9", "5", "1", "6"]]}
ROOM_TWO = {"patient": [["7", "9", "4", "5"]], "carer": [["8", "8", "1", "7"], ["9", "6", "3", "6"]],
            "clinician": [["9", "8", "2", "3"]], "commissioner": [["8", "7", "2", "4"], ["7", "9", "1", "5"]]}
ONLINE = {"patient": [["9", "9", "2", "4"], ["8", "7", "3", "unable"]], "carer": [["7", "9", "2", "5"]],
          "clinician": [["9", "7", "1", "6"]], "commissioner": [["8", "8", "3", "5"]]}


def vote_everywhere(session: Session, study: Study) -> None:
    for index, people in enumerate((ROOM_ONE, ROOM_TWO)):
        for group, ballots in people.items():
            for values in ballots:
                rate(session, study.rounds[index], person_in(session, study.sessions[index], group),
                     study.outcomes, values)
    assert study.panel.id is not None
    for group, ballots in ONLINE.items():
        for n, values in enumerate(ballots):
            who = panels.add_panellist(session, _actor(session), study.panel.id, f"Online {group} {n}",
                                       f"{group}{n}@example.com", group)
            study.people.append(who)
            rate(session, study.rounds[2], person_in(session, study.sessions[2], group, who), study.outcomes, values)


def _actor(session: Session) -> User:
    return session.exec(select(User).order_by(col(User.id))).first()  # type: ignore[return-value]


def close(session: Session, actor: User, found: Round) -> None:
    assert found.id is not None
    rounds.close_round(session, actor, found.session_id, found.id)


def offline(tmp_path: Path, text: str, rule: dict[str, object]) -> dict[str, object]:
    ballots, rule_file = tmp_path / "ballots.csv", tmp_path / "rule.json"
    ballots.write_text(text, encoding="utf-8")
    rule_file.write_text(json.dumps(rule), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    status = run_tally(argparse.Namespace(ballots=str(ballots), method="rating", rule=str(rule_file), weights=None,
                                          top_k=None, budget=10, max_per_outcome=None, combine="weighted",
                                          format="json"), out, err)
    assert status == 0, err.getvalue()
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def assert_same(mine: dict[str, object], theirs: dict[str, object]) -> None:
    ours = mine["outcomes"]
    assert isinstance(ours, list) and isinstance(theirs["outcomes"], list)
    assert [o["outcome_id"] for o in ours] == [int(o["outcome"]) for o in theirs["outcomes"]]
    for a, b in zip(ours, theirs["outcomes"], strict=True):
        assert (a["rank"], a["score"], a["consensus"], a["important_to"], a["groups"]) == (
            b["rank"], b["score"], b["consensus"], b["important_to"], b["groups"])
    assert mine["groups"] == theirs["groups"]
    ours_a, theirs_a = mine["agreement"], theirs["agreement"]
    assert isinstance(ours_a, dict) and isinstance(theirs_a, dict)
    assert (ours_a["kendall_w"], ours_a["between_groups"]) == (theirs_a["kendall_w"], theirs_a["between_groups"])
    # The file names outcomes by id; the round by wording, with the id beside it.
    assert [(d["outcome_id"], d["ranks"], d["spread"]) for d in ours_a["disagreements"]] == [
        (int(d["outcome"]), d["ranks"], d["spread"]) for d in theirs_a["disagreements"]]


def test_pooled_round_over_two_rooms_and_online_equals_tally_of_the_concatenated_ballots(
        session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    study = make_study(session, facilitator, workshop)
    open_all(session, facilitator, study)
    vote_everywhere(session, study)
    assert study.panel.id is not None
    close(session, facilitator, study.rounds[0])
    close(session, facilitator, study.rounds[1])
    assert session.get(PanelRound, study.panel_round_id).results_json is None  # type: ignore[union-attr]
    close(session, facilitator, study.rounds[2])  # the last one: counted now
    view = pooled_view(session, study.panel.id, study.panel_round_id)
    assert view.pooled is not None and view.pooled.results is not None
    mine = view.pooled.to_dict()
    theirs = offline(tmp_path, tally_csv(session, [r.id or 0 for r in study.rounds]), mine["rule"])
    assert_same(mine, theirs)
    assert sum(g["n"] for g in mine["groups"].values()) == 17  # every ballot of the three sessions, once
    # The per-session breakdown is each member round's own results (stored at its close).
    assert [m.pooled_ballots for m in view.members] == [6, 6, 5]
    for member, people in zip(view.members, (ROOM_ONE, ROOM_TWO, ONLINE), strict=True):
        assert member.results.results is not None
        assert {k: g.n for k, g in member.results.results.groups.items()} == {k: len(v) for k, v in people.items()}
    counted = session.exec(select(AuditEvent).where(AuditEvent.action == "panel_round.counted")).all()
    assert len(counted) == 1 and json.loads(counted[0].details)["results_sha256"] == view.panel_round.results_sha256
    assert integrity.verify(session).problems == []
    assert integrity.verify(session).counts["pooled rounds"] == 1


def test_verify_finds_changed_pooled_results_and_changed_ballots(session: Session, facilitator: User,
                                                                 workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 4)
    open_all(session, facilitator, study)
    vote_everywhere(session, study)
    for r in study.rounds:
        close(session, facilitator, r)
    found = session.get(PanelRound, study.panel_round_id)
    assert found is not None and found.results_json is not None
    original = found.results_json
    found.results_json = original + " "
    session.add(found)
    session.commit()
    problems = [str(p) for p in integrity.verify(session).problems]
    assert any("panel_round" in p and "SHA-256" in p for p in problems), problems
    found.results_json = original
    session.add(found)
    session.commit()
    assert integrity.verify(session).problems == []
    # A ballot of one member round changed behind the app's back: the pooled recount differs too.
    ballot = session.exec(select(Ballot).where(Ballot.round_id == study.rounds[1].id)).first()
    assert ballot is not None
    session.execute(update(BallotAnswer).where(col(BallotAnswer.ballot_id) == ballot.id).values(value=1))
    session.commit()
    problems = [str(p) for p in integrity.verify(session).problems]
    assert any(p.startswith("panel_round") and "no longer give" in p for p in problems), problems


def test_one_person_in_two_sessions_counts_once_with_their_latest_ballot(
        session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    study = make_study(session, facilitator, workshop, 4)
    open_all(session, facilitator, study)
    vote_everywhere(session, study)
    asha = study.people[0]  # an online patient
    assert study.panel.id is not None and asha.id is not None
    # She also came to the second workshop, where the facilitator matches her participant to her.
    in_room = person_in(session, study.sessions[1], "patient")
    rate(session, study.rounds[1], in_room, study.outcomes, ["1", "1", "9", "9"])
    panel_people.match_participant(session, facilitator, study.panel.id, str(in_room.id), str(asha.id))
    # Her room ballot is the more recent one: it is counted, her online one is not.
    room_key, online_key = f"p:{in_room.id}", next(
        b.voter_key for b in session.exec(select(Ballot).where(Ballot.round_id == study.rounds[2].id))
        if b.participant_id is not None and session.get_one(type(in_room), b.participant_id).panellist_id == asha.id)
    later = utcnow() + timedelta(minutes=5)
    session.execute(update(Ballot).where(col(Ballot.voter_key) == room_key).values(updated_at=later))
    session.commit()
    for r in study.rounds:
        close(session, facilitator, r)
    view = pooled_view(session, study.panel.id, study.panel_round_id)
    assert view.pooled is not None and view.pooled.results is not None
    mine = view.pooled.to_dict()
    assert mine["groups"]["patient"]["n"] == 5  # 2 + 1 + 2 patients, Asha once (not 6)
    text = tally_csv(session, [r.id or 0 for r in study.rounds], {room_key: "asha", online_key: "asha-dropped"})
    kept = "\n".join(line for line in text.splitlines() if not line.startswith("asha-dropped,")) + "\n"
    assert_same(mine, offline(tmp_path, kept, mine["rule"]))
    assert [m.pooled_ballots for m in view.members] == [6, 7, 4]
    # Had her online ballot been the later one, it would have been the one counted.
    session.execute(update(Ballot).where(col(Ballot.voter_key) == online_key).values(updated_at=later
                                                                                     + timedelta(minutes=1)))
    session.commit()
    from codesign.queries.pooled import pooled_frame

    frame, given = pooled_frame(session, [session.get_one(Round, r.id) for r in study.rounds])
    assert given == {study.rounds[0].id: 6, study.rounds[1].id: 6, study.rounds[2].id: 5}
    assert set(frame.loc[frame["participant"] == f"pl:{asha.id}", "value"]) == {9, 2, 4}


def test_reopening_a_member_round_discards_the_pooled_results_until_it_closes_again(
        session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    open_all(session, facilitator, study)
    rate(session, study.rounds[0], person_in(session, study.sessions[0], "patient"), study.outcomes, ["9", "5", "1"])
    for r in study.rounds:
        close(session, facilitator, r)
    first = session.get_one(PanelRound, study.panel_round_id).results_sha256
    assert first is not None
    member = study.rounds[1]
    assert member.id is not None
    round_control.reopen_round(session, facilitator, member.session_id, member.id, "A latecomer")
    assert session.get_one(PanelRound, study.panel_round_id).results_json is None
    rate(session, session.get_one(Round, member.id), person_in(session, study.sessions[1], "carer"),
         study.outcomes, ["8", "8", "8"])
    close(session, facilitator, session.get_one(Round, member.id))
    again = session.get_one(PanelRound, study.panel_round_id)
    assert again.results_sha256 not in (None, first)
    assert [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_type == "panel_round")
                                           .order_by(col(AuditEvent.id)))][-3:] == [
        "panel_round.counted", "panel_round.discarded", "panel_round.counted"]
    assert integrity.verify(session).problems == []


def test_running_in_other_sessions_and_linking_rounds(session: Session, facilitator: User,
                                                      workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    assert study.panel.id is not None and workshop.id is not None
    copies = study.rounds[1:]
    assert all((r.title, r.method, r.options_json, r.rule_json, r.status) == (
        study.rounds[0].title, "rating", study.rounds[0].options_json, study.rounds[0].rule_json, "draft")
        for r in copies)
    # A session of another panel, or none, is refused; so is an opened round.
    loose = panel_people.create_panel_session(session, facilitator, panels.create_panel(
        session, facilitator, workshop.population_group_id, "Another study").id or 0, "Elsewhere", "", "room")
    before = len(session.exec(select(Round)).all())
    with pytest.raises(ValidationFailed):
        pooled.run_in_sessions(session, facilitator, workshop.id, study.rounds[0].id or 0, [str(loose.id)])
    assert len(session.exec(select(Round)).all()) == before
    # Linking: rounds made separately are pooled when the same, refused (saying what differs) when not.
    from tests.round_helpers import round_form

    a = rounds.create_round(session, facilitator, study.sessions[1].id or 0, round_form(study.outcomes))
    b = rounds.create_round(session, facilitator, study.sessions[2].id or 0,
                            round_form(study.outcomes[:2], in_min="80"))
    with pytest.raises(ValidationFailed) as refused:
        pooled.link_rounds(session, facilitator, study.panel.id, [str(a.id), str(b.id)])
    message = refused.value.errors["rounds"]
    assert "consensus rule" in message and "outcomes" in message and "method" not in message
    assert session.get_one(Round, a.id).panel_round_id is None
    c = rounds.create_round(session, facilitator, study.sessions[2].id or 0, round_form(study.outcomes[::-1]))
    linked = pooled.link_rounds(session, facilitator, study.panel.id, [str(a.id), str(c.id)])
    assert linked.number == 2 and session.get_one(Round, c.id).panel_round_id == linked.id
    rounds.open_round(session, facilitator, workshop.id, study.rounds[0].id or 0, acknowledge_small=True)
    with pytest.raises(Conflict):
        pooled.run_in_sessions(session, facilitator, workshop.id, study.rounds[0].id or 0,
                               [str(study.sessions[1].id)])


def test_erasing_a_panellist_keeps_their_ballots_and_the_results(session: Session, facilitator: User,
                                                                 workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 4)
    open_all(session, facilitator, study)
    vote_everywhere(session, study)
    for r in study.rounds:
        close(session, facilitator, r)
    assert study.panel.id is not None
    before = session.get_one(PanelRound, study.panel_round_id).results_json
    from codesign.models import MailStatus, OutboxMessage, Panellist

    who = study.people[0]
    assert who.id is not None
    session.add(OutboxMessage(kind="reminder", panellist_id=who.id, to_address=who.email, subject="Reminder"))
    session.add(OutboxMessage(kind="invitation", panellist_id=who.id, to_address=who.email, subject="Invitation",
                              status=MailStatus.sent))
    session.commit()
    panel_people.erase_panellist(session, facilitator, study.panel.id, who.id)
    erased = session.get_one(Panellist, who.id)
    assert (erased.name, erased.email, erased.organisation, erased.link_token) == (None, None, None, None)
    assert erased.erased_at is not None and erased.link_revoked_at is not None
    messages = session.exec(select(OutboxMessage).where(OutboxMessage.panellist_id == who.id)
                            .order_by(col(OutboxMessage.id))).all()
    assert [(m.status, m.to_address) for m in messages] == [("cancelled", None), ("sent", None)]
    # Their participant and ballots stay: the stored results and a recount are unchanged.
    assert session.get_one(PanelRound, study.panel_round_id).results_json == before
    assert integrity.verify(session).problems == []
    events = " ".join(e.summary + e.details for e in session.exec(select(AuditEvent)))
    assert "@example.com" not in events and "Online patient" not in events
    with pytest.raises(Conflict):
        panel_people.erase_panellist(session, facilitator, study.panel.id, who.id)


def test_the_last_two_member_rounds_closing_at_once_count_the_pool_once(
        engine: Engine, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    open_all(session, facilitator, study)
    for index, found in enumerate(study.rounds):
        rate(session, found, person_in(session, study.sessions[index], "patient"), study.outcomes, ["9", "5", "1"])
    close(session, facilitator, study.rounds[0])
    user_id, last_two = facilitator.id, [(r.session_id, r.id or 0) for r in study.rounds[1:]]
    pooled_id = study.panel_round_id
    session.close()

    def closer(session_id: int, round_id: int):  # type: ignore[no-untyped-def]
        return lambda s: rounds.close_round(s, s.get_one(User, user_id), session_id, round_id).status

    for _attempt in range(3):  # the race is won differently from run to run; every outcome must hold
        results = all_at_once([closer(*last_two[0]), closer(*last_two[1])], engine)
        assert results == [RoundStatus.closed, RoundStatus.closed], results
        with Session(engine) as s:
            counted = s.exec(select(AuditEvent).where(AuditEvent.action == "panel_round.counted")).all()
            assert len(counted) == 1 + _attempt, [e.summary for e in counted]
            assert s.get_one(PanelRound, pooled_id).results_sha256 == json.loads(
                counted[-1].details)["results_sha256"]
            assert integrity.verify(s).problems == []
            actor = s.get_one(User, user_id)
            for session_id, round_id in last_two:  # again, for the next attempt
                round_control.reopen_round(s, actor, session_id, round_id, "Once more")


def test_a_member_round_edited_apart_is_not_pooled_and_the_page_says_why(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    assert study.panel.id is not None
    online = study.rounds[2]
    assert online.id is not None
    round_control.update_round(session, facilitator, online.session_id, online.id,
                               round_form(study.outcomes[:2], in_min="80"))
    open_all(session, facilitator, study)
    for r in study.rounds:
        close(session, facilitator, r)
    assert session.get_one(PanelRound, study.panel_round_id).results_json is None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "panel_round.not_counted")).one()
    assert "consensus rule" in event.summary and "outcomes" in event.summary
    sign_in(client, facilitator)
    page = client.get(f"/panels/{study.panel.id}/rounds/{study.panel_round_id}").text
    assert "no longer the same" in page and "Online round has a different consensus rule, outcomes" in page


def test_group_weights_changed_between_openings_are_not_pooled(session: Session, facilitator: User,
                                                               workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    first = study.rounds[0]
    assert first.id is not None
    rounds.open_round(session, facilitator, first.session_id, first.id, acknowledge_small=True)
    population.set_stakeholder_weights(session, facilitator, workshop.population_group_id,
                                       {"patient": "2", "carer": "1", "clinician": "1", "commissioner": "1"})
    for r in study.rounds[1:]:
        rounds.open_round(session, facilitator, r.session_id, r.id or 0, acknowledge_small=True)
    for r in study.rounds:
        close(session, facilitator, r)
    assert session.get_one(PanelRound, study.panel_round_id).results_json is None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "panel_round.not_counted")).one()
    assert "group weights" in event.summary and "outcomes" not in event.summary


def test_a_pooled_ranking_round_with_an_unsent_list_equals_tally_of_the_sent_ones(
        session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Ranking study")
    assert panel.id is not None and workshop.id is not None
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    other = panel_people.create_panel_session(session, facilitator, panel.id, "Online round", "", "online")
    outcomes = accepted_ids(session, workshop, 4)
    first = rounds.create_round(session, facilitator, workshop.id, round_form(outcomes, method="ranking", top_k="3"))
    pooled.run_in_sessions(session, facilitator, workshop.id, first.id or 0, [str(other.id)])
    members = session.exec(select(Round).where(Round.panel_round_id == first.panel_round_id)
                           .order_by(col(Round.id))).all()
    orders = {"patient": [[0, 1, 2], [1, 0, 3]], "carer": [[2, 1, 0]], "clinician": [[0, 2, 1]],
              "commissioner": [[3, 0, 1]]}
    for found in members:
        rounds.open_round(session, facilitator, found.session_id, found.id or 0, acknowledge_small=True)
        place = session.get_one(WorkshopSession, found.session_id)
        for group, lists in orders.items():
            for ranked in lists:
                person = person_in(session, place, group)
                assert person.id is not None
                ballot_service.set_draft(session, found.id or 0, person.id,
                                  {outcomes[i]: p for p, i in enumerate(ranked, start=1)})
                ballot_service.submit_draft(session, found.id or 0, person.id, secrets.token_urlsafe(12))
        unsent = person_in(session, place, "carer")  # a list changed on a device, never sent: not counted
        ballot_service.set_draft(session, found.id or 0, unsent.id or 0, {outcomes[3]: 1})
    for found in members:
        rounds.close_round(session, facilitator, found.session_id, found.id or 0, confirm_unsent=True)
    view = pooled_view(session, panel.id, first.panel_round_id or 0)
    assert view.pooled is not None
    mine = view.pooled.to_dict()
    # Outcomes by their wording, as the round breaks ties alphabetically on it.
    wording = {o.id: o.statement for o in session.exec(select(Outcome).where(col(Outcome.id).in_(outcomes)))}
    assert all("," not in w and '"' not in w for w in wording.values())
    text = "participant,group,outcome,value\n" + "".join(
        f"{b.voter_key},{g},{wording[a.outcome_id]},{a.value}\n" for b, a, g in session.exec(
            select(Ballot, BallotAnswer, StakeholderGroup.key).join(BallotAnswer, col(BallotAnswer.ballot_id) == col(
                Ballot.id)).join(StakeholderGroup, col(StakeholderGroup.id) == col(Ballot.stakeholder_group_id))
            .where(col(Ballot.round_id).in_([m.id for m in members]), col(Ballot.submitted_at).is_not(None))))
    ballots_file = tmp_path / "ranking.csv"
    ballots_file.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert run_tally(argparse.Namespace(ballots=str(ballots_file), method="ranking", rule=None, weights=None, top_k=3,
                                        budget=10, max_per_outcome=None, combine="weighted", format="json"),
                     out, err) == 0, err.getvalue()
    theirs = json.loads(out.getvalue())
    assert [(o["outcome"], o["rank"], o["score"], o["groups"]) for o in mine["outcomes"]] == [
        (o["outcome"], o["rank"], o["score"], o["groups"]) for o in theirs["outcomes"]]
    assert sum(g["n"] for g in mine["groups"].values()) == 10 and [m.pooled_ballots for m in view.members] == [5, 5]
