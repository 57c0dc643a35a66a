"""Undoing round mistakes: edit and delete a draft, reopen a closed round (results recounted,
`codesign verify` green, both fingerprints audited), copy a round into another session."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import Session, col, select

from codesign import integrity, queries
from codesign.errors import Conflict, ValidationFailed
from codesign.models import AuditEvent, Round, RoundOutcome, User, WorkshopSession
from codesign.services import ballots, population, proposals, round_control, rounds, sessions
from tests.round_helpers import accepted_ids, open_round, round_form


def key() -> str:
    return uuid.uuid4().hex


def events(session: Session, action: str, round_id: int | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))
    if round_id is not None:
        stmt = stmt.where(AuditEvent.object_id == round_id, AuditEvent.object_type == "round")
    return list(session.exec(stmt))


def outcome_ids(session: Session, round_id: int) -> list[int]:
    return list(session.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == round_id)
                             .order_by(col(RoundOutcome.position))))


def draft(session: Session, facilitator: User, workshop: WorkshopSession, ids: list[int], **form: str) -> Round:
    assert workshop.id is not None
    return rounds.create_round(session, facilitator, workshop.id, round_form(ids, **form))


def vote(session: Session, workshop: WorkshopSession, found: Round, ids: list[int], values: list[str],
         group: str = "patient") -> None:
    for value in values:
        person = sessions.join_session(session, workshop.id or 0, group)
        for outcome in ids:
            ballots.answer_rating(session, found.id or 0, person.id or 0, outcome, value, key())


def verify_problems(session: Session) -> list[str]:
    return [str(p) for p in integrity.verify(session).problems]


# ---- edit and delete a draft -------------------------------------------------------------------


def test_edit_a_draft_round_with_the_round_form(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 4)
    found = draft(session, facilitator, workshop, ids[:2])
    edited = round_control.update_round(session, facilitator, workshop.id, found.id, round_form(  # type: ignore[arg-type]
        [ids[3], ids[2], ids[1]], title="Rank them", method="ranking", top_k="2"))
    again = session.get_one(Round, found.id)
    assert (edited.id, again.title, again.method, again.status) == (found.id, "Rank them", "ranking", "draft")
    assert json.loads(again.options_json)["top_k"] == 2
    assert outcome_ids(session, found.id or 0) == sorted([ids[3], ids[2], ids[1]])
    [event] = events(session, "round.edited", found.id)
    details = json.loads(event.details)
    assert details["before"]["method"] == "rating" and details["after"]["method"] == "ranking"
    assert {"title", "method", "options", "outcomes"} <= set(details["changed"])


def test_edit_refuses_bad_input_and_changes_nothing(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    found = draft(session, facilitator, workshop, ids)
    with pytest.raises(ValidationFailed) as refused:
        round_control.update_round(session, facilitator, workshop.id, found.id,  # type: ignore[arg-type]
                                   round_form(ids[:1], title="", in_min="250"))
    assert set(refused.value.errors) == {"title", "outcomes", "in_min"}
    again = session.get_one(Round, found.id)
    assert again.title == found.title and outcome_ids(session, found.id or 0) == ids
    assert events(session, "round.edited") == []


def test_a_round_that_has_opened_cannot_be_edited_or_deleted(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    with pytest.raises(Conflict, match="has opened"):
        round_control.update_round(session, facilitator, workshop.id, found.id, round_form(ids, title="New"))  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="has opened"):
        round_control.delete_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    assert session.get_one(Round, found.id).title == found.title


def test_delete_a_draft_round_keeps_its_settings_in_the_audit_log(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    found = draft(session, facilitator, workshop, ids, method="points", budget="12")
    round_control.delete_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    assert session.get(Round, found.id) is None and outcome_ids(session, found.id or 0) == []
    [event] = events(session, "round.deleted", found.id)
    details = json.loads(event.details)
    assert details["method"] == "points" and details["options"]["budget"] == 12 and details["outcomes"] == ids
    assert verify_problems(session) == []


def test_a_draft_that_a_later_round_takes_feedback_from_is_not_deleted(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids)
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    second = draft(session, facilitator, workshop, ids, feedback_round_id=str(first.id))
    rounds.reset_round(session, facilitator, workshop.id, first.id, "Wrong outcomes")  # type: ignore[arg-type]
    with pytest.raises(Conflict, match=f"Round {second.number} .* shows this round’s answers as feedback"):
        round_control.delete_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    assert session.get(Round, first.id) is not None


# ---- reopen ------------------------------------------------------------------------------------


def test_reopen_discards_the_stored_results_and_the_next_close_counts_again(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    vote(session, workshop, found, ids, ["9", "8"])
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)  # type: ignore[arg-type]
    first_hash = session.get_one(Round, found.id).results_sha256
    assert first_hash and verify_problems(session) == []

    round_control.reopen_round(session, facilitator, workshop.id, found.id, "  Two people arrived late ")  # type: ignore[arg-type]
    reopened = session.get_one(Round, found.id)
    assert (reopened.status, reopened.revealed, reopened.results_json, reopened.results_sha256,
            reopened.closed_at, reopened.counted_at) == ("open", False, None, None, None, None)
    assert verify_problems(session) == []  # an open round has nothing stored to check

    vote(session, workshop, reopened, ids, ["1"])  # a late arrival votes: the ballots were kept
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    closed = session.get_one(Round, found.id)
    assert closed.results_sha256 and closed.results_sha256 != first_hash
    results = queries.round_results(session, workshop.id, found.id).results  # type: ignore[arg-type]
    assert results is not None and results.groups["patient"].n == 3
    assert verify_problems(session) == []

    # The audit chain records both fingerprints: the first close, the reopen that discarded it,
    # and the second close.
    closes = [json.loads(e.details)["results_sha256"] for e in events(session, "round.closed", found.id)]
    [reopen] = events(session, "round.reopened", found.id)
    assert closes == [first_hash, closed.results_sha256]
    assert json.loads(reopen.details)["discarded_results_sha256"] == first_hash
    assert json.loads(reopen.details)["reason"] == "Two people arrived late"


def test_reopen_needs_a_reason_and_a_closed_round(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    with pytest.raises(Conflict, match="already open"):
        round_control.reopen_round(session, facilitator, workshop.id, found.id, "Why not")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as refused:
        round_control.reopen_round(session, facilitator, workshop.id, found.id, "   ")  # type: ignore[arg-type]
    assert list(refused.value.errors) == ["reason"]
    assert session.get_one(Round, found.id).status == "closed" and events(session, "round.reopened") == []


def test_reopen_is_refused_once_the_session_has_closed(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    rounds.close_session(session, facilitator, workshop.id)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="session has closed"):
        round_control.reopen_round(session, facilitator, workshop.id, found.id, "One more vote")  # type: ignore[arg-type]
    assert session.get_one(Round, found.id).status == "closed"


@pytest.mark.parametrize("later_state", ["open", "closed"])
def test_reopen_is_refused_when_a_later_feedback_round_has_opened(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, later_state: str) -> None:
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids)
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    second = draft(session, facilitator, workshop, ids, feedback_round_id=str(first.id))
    rounds.open_round(session, facilitator, workshop.id, second.id, acknowledge_small=True)  # type: ignore[arg-type]
    if later_state == "closed":
        rounds.close_round(session, facilitator, workshop.id, second.id)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match=f"Round {second.number} .* shows this round’s answers as feedback"):
        round_control.reopen_round(session, facilitator, workshop.id, first.id, "Mistake")  # type: ignore[arg-type]
    assert session.get_one(Round, first.id).status == "closed"


def test_a_draft_feedback_round_waits_until_its_round_closes_again(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids)
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    second = draft(session, facilitator, workshop, ids, feedback_round_id=str(first.id))
    round_control.reopen_round(session, facilitator, workshop.id, first.id, "Late arrivals")  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="has been reopened"):
        rounds.open_round(session, facilitator, workshop.id, second.id, acknowledge_small=True)  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    assert rounds.open_round(session, facilitator, workshop.id, second.id, acknowledge_small=True).status == "open"  # type: ignore[arg-type]


# ---- copy into another session -----------------------------------------------------------------


def test_copy_a_round_into_another_session_of_the_group(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 4)
    found = open_round(session, facilitator, workshop, [ids[2], ids[0], ids[3]], method="points", budget="7",
                       max_per_outcome="3", in_min="80", min_group_size="3")
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Workshop two", "2026-04-01")
    draft(session, facilitator, other, ids[:2])  # round 1 there already
    copy = round_control.duplicate_round(session, facilitator, workshop.id, found.id, str(other.id))  # type: ignore[arg-type]
    again = session.get_one(Round, copy.id)
    source = session.get_one(Round, found.id)
    assert (again.session_id, again.number, again.status, again.feedback_round_id) == (other.id, 2, "draft", None)
    assert (again.title, again.method, again.combine, again.options_json, again.rule_json, again.table_based) == (
        source.title, source.method, source.combine, source.options_json, source.rule_json, source.table_based)
    assert outcome_ids(session, copy.id or 0) == outcome_ids(session, found.id or 0)
    assert again.results_json is None and again.weights_json == "{}"
    [event] = events(session, "round.duplicated", copy.id)
    assert event.session_id == other.id and json.loads(event.details)["from_round_id"] == found.id


def test_copy_is_refused_for_another_population_group_or_the_same_session(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = draft(session, facilitator, workshop, ids)
    frailty = population.create_population_group(session, facilitator, "Older people", "", "older-people-frailty")
    elsewhere = sessions.create_session(session, facilitator, frailty.id or 0, "Frailty workshop", "2026-04-02")
    for target in (str(elsewhere.id), str(workshop.id), "", "abc"):
        with pytest.raises(ValidationFailed) as refused:
            round_control.duplicate_round(session, facilitator, workshop.id, found.id, target)  # type: ignore[arg-type]
        assert list(refused.value.errors) == ["target_session"]
    with pytest.raises(ValidationFailed, match="same population group"):
        round_control.duplicate_round(session, facilitator, workshop.id, found.id, str(elsewhere.id))  # type: ignore[arg-type]
    assert len(session.exec(select(Round)).all()) == 1 and events(session, "round.duplicated") == []


def test_copy_is_refused_when_an_outcome_is_no_longer_accepted(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    found = draft(session, facilitator, workshop, ids)
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Workshop two", "2026-04-01")
    proposals.withdraw_outcome(session, facilitator, workshop.id, ids[1], "Out of scope")
    with pytest.raises(Conflict, match="no longer accepted"):
        round_control.duplicate_round(session, facilitator, workshop.id, found.id, str(other.id))  # type: ignore[arg-type]
    assert session.exec(select(Round).where(Round.session_id == other.id)).all() == []


def test_reopen_is_refused_once_a_framework_was_built_from_the_round(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    from codesign.services import framework_versions, shortlist

    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    vote(session, workshop, found, ids, ["9", "8"])
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    shortlist.build_from_round(session, facilitator, version.id, found.id)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match=f"framework version {version.number} was built from this round’s results"):
        round_control.reopen_round(session, facilitator, workshop.id, found.id, "Late arrivals")  # type: ignore[arg-type]
    assert session.get_one(Round, found.id).status == "closed"


def test_codesign_verify_passes_after_reopen_and_reclose_and_still_catches_tampering(  # type: ignore[no-untyped-def]
        database_url: str, session: Session, facilitator: User, workshop) -> None:
    """The auditor's command, in a subprocess: clean after a reopen and a second close (it checks
    the results stored at the second close against the hash audited then), and a ballot changed
    after that close is still reported."""
    from sqlalchemy import text

    from tests.test_cli import run

    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    vote(session, workshop, found, ids, ["9", "3"])
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    round_control.reopen_round(session, facilitator, workshop.id, found.id, "Late arrivals")  # type: ignore[arg-type]
    vote(session, workshop, found, ids, ["7"])
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    session.commit()
    clean = run(["verify"], database_url)
    assert clean.returncode == 0 and "No tampering found." in clean.stdout, clean.stdout + clean.stderr
    assert "closed rounds 1" in clean.stdout  # the reopened and closed-again round was checked
    session.connection().execute(text("UPDATE ballot_answer SET value = 1"))
    session.commit()
    caught = run(["verify"], database_url)
    assert caught.returncode == 1 and f"voting_round {found.id}" in caught.stdout
    assert "its ballots no longer give the stored results" in caught.stdout
