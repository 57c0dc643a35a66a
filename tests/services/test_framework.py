from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from codesign import queries
from codesign.errors import Conflict, ValidationFailed
from codesign.export.canonical import snapshot_sha256
from codesign.models import AuditEvent, FrameworkVersion, Role, ShortlistItem
from codesign.services import framework_versions, population, sessions, shortlist
from tests.conftest import make_user
from tests.framework_helpers import TERMS, closed_rating_round, ready_draft


def test_shortlist_preselects_consensus_in_in_rank_order(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    found = closed_rating_round(session, facilitator, workshop)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    added = shortlist.build_from_round(session, facilitator, version.id, found.id)
    view = queries.get_version_view(session, version.id)
    assert added == 5
    assert len(view.items) == 2 and all(i.item.computed_consensus == "in" for i in view.items)
    assert [i.item.computed_rank for i in view.items] == sorted(i.item.computed_rank for i in view.items)
    assert {i.item.computed_consensus for i in view.excluded} == {"none", "out"}


def test_departing_from_the_computed_result_needs_a_reason(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    found = closed_rating_round(session, facilitator, workshop)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    shortlist.build_from_round(session, facilitator, version.id, found.id)
    view = queries.get_version_view(session, version.id)
    left_out, included = view.excluded[0], view.items[0]
    with pytest.raises(ValidationFailed, match="reason"):
        shortlist.set_included(session, facilitator, version.id, left_out.item.id, True, " ")
    with pytest.raises(ValidationFailed):
        shortlist.set_included(session, facilitator, version.id, included.item.id, False, "")
    shortlist.set_included(session, facilitator, version.id, left_out.item.id, True, "The board asked for it")
    item = session.get(ShortlistItem, left_out.item.id)
    assert item is not None and item.included and item.reason == "The board asked for it"
    snapshot = queries.build_snapshot(session, version.id)
    assert [d["reason"] for d in snapshot["methods"]["departures"]] == ["The board asked for it"]


def test_checklist_lists_everything_missing_and_freeze_refuses(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    found = closed_rating_round(session, facilitator, workshop)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    shortlist.build_from_round(session, facilitator, version.id, found.id)
    problems = queries.get_version_view(session, version.id).checklist()
    assert any("contract value" in p for p in problems)
    assert any("add up to 0%" in p for p in problems)
    assert any("measurement definition is missing" in p for p in problems)
    with pytest.raises(ValidationFailed) as caught:
        framework_versions.freeze(session, facilitator, version.id)
    assert caught.value.values["problems"] == problems
    assert session.get(FrameworkVersion, version.id).status == "draft"  # type: ignore[union-attr]


def test_freeze_stores_canonical_snapshot_and_hash(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    version, _ = ready_draft(session, facilitator, workshop)
    assert queries.get_version_view(session, version.id).checklist() == []
    frozen = framework_versions.freeze(session, facilitator, version.id)
    snapshot = json.loads(frozen.snapshot_json)
    assert snapshot_sha256(snapshot) == frozen.sha256
    assert frozen.snapshot_json == json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert snapshot["summary"]["weights_total_bp"] == 10000
    totals = [y["at_stake_pence"] for y in snapshot["payment"]["years"]]
    assert totals == [0, 120_000_000, 180_000_000]
    for y, total in enumerate(totals):
        assert sum(o["money"][y]["at_stake_pence"] for o in snapshot["outcomes"]) == total
    assert snapshot["framework"]["frozen_by"]["role"] == "facilitator"
    assert "participant_id" not in frozen.snapshot_json and "token" not in frozen.snapshot_json
    assert frozen.public_token and len(frozen.public_token) >= 32


def test_a_frozen_version_cannot_change_and_attempts_are_audited(session: Session, facilitator, workshop, engine) -> None:  # type: ignore[no-untyped-def]
    version, _ = ready_draft(session, facilitator, workshop)
    framework_versions.freeze(session, facilitator, version.id)
    item = queries.get_version_view(session, version.id).items[0]
    attempts = [
        lambda: shortlist.save_weights(session, facilitator, version.id, {item.item.id: "50"}),
        lambda: shortlist.set_included(session, facilitator, version.id, item.item.id, False, "x"),
        lambda: shortlist.save_definition(session, facilitator, version.id, item.item.id, {}),
        lambda: framework_versions.save_terms(session, facilitator, version.id, {"contract_value": "1"}),
        lambda: framework_versions.freeze(session, facilitator, version.id),
        lambda: shortlist.suggest_weights(session, facilitator, version.id),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="frozen"):
            attempt()
    refused = session.exec(select(AuditEvent).where(AuditEvent.action == "framework.change_refused")).all()
    assert len(refused) == len(attempts)
    before = session.get(FrameworkVersion, version.id).snapshot_json  # type: ignore[union-attr]
    # And the database itself refuses, whatever code tries.
    for statement in ("UPDATE framework_version SET title = 'x'", "DELETE FROM framework_version",
                      "UPDATE shortlist_item SET payment_weight_bp = 1", "DELETE FROM shortlist_item"):
        with engine.connect() as conn, pytest.raises(DBAPIError, match="frozen"):
            conn.execute(text(statement))
    assert session.get(FrameworkVersion, version.id).snapshot_json == before  # type: ignore[union-attr]


def test_new_draft_copies_and_compare_shows_the_change(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    from codesign.contract.diff import compare

    version, _ = ready_draft(session, facilitator, workshop)
    framework_versions.freeze(session, facilitator, version.id)
    draft = framework_versions.new_draft_from(session, facilitator, version.id)
    assert draft.number == 2 and draft.status == "draft" and draft.created_from_id == version.id
    assert (draft.commissioner, draft.provider, draft.contract_reference) == ("Example ICB", "Example Trust", "EX-1")
    with pytest.raises(Conflict):
        framework_versions.new_draft_from(session, facilitator, version.id)
    items = queries.get_version_view(session, draft.id).items
    assert len(items) == len(queries.get_version_view(session, version.id).items)
    assert [i.item.payment_weight_bp for i in items] == [5000, 5000]
    shortlist.save_weights(session, facilitator, draft.id, {items[0].item.id: "70", items[1].item.id: "30"})
    _, old = queries.get_snapshot(session, version.id)
    _, new = queries.get_snapshot(session, draft.id)
    changes = compare(old, new)
    assert {c.field for c in changes} == {"Payment weight"}
    assert sorted((c.before, c.after) for c in changes) == [("50%", "30%"), ("50%", "70%")]
    # The tender named a different provider: the comparison says so.
    framework_versions.save_terms(session, facilitator, draft.id, {**TERMS, "provider": "Another Trust"})
    _, new = queries.get_snapshot(session, draft.id)
    assert new["framework"]["contract"] == {"commissioner": "Example ICB", "provider": "Another Trust",
                                            "reference": "EX-1"}
    assert [(c.area, c.field, c.before, c.after) for c in compare(old, new) if c.area == "Contract"] == [
        ("Contract", "Provider", "Example Trust", "Another Trust")]


def test_approval_needs_a_second_person(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    version, _ = ready_draft(session, facilitator, workshop)
    with pytest.raises(Conflict, match="Freeze"):
        framework_versions.approve(session, facilitator, version.id)
    freezer = make_user(session, Role.commissioner)
    framework_versions.freeze(session, freezer, version.id)
    with pytest.raises(Conflict, match="cannot also approve"):
        framework_versions.approve(session, freezer, version.id)
    # A facilitator never approves, even one who did not freeze it.
    with pytest.raises(Conflict, match="Your role cannot approve"):
        framework_versions.approve(session, facilitator, version.id)
    colleague = make_user(session, Role.commissioner)
    approval = framework_versions.approve(session, colleague, version.id, "Checked against the board paper")
    assert approval.user_id == colleague.id
    assert session.get(FrameworkVersion, version.id).sha256  # the snapshot is untouched  # type: ignore[union-attr]


def test_measurability_gap_is_listed_and_must_carry_no_weight(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    version, _ = ready_draft(session, facilitator, workshop)
    item = queries.get_version_view(session, version.id).items[0]
    shortlist.save_definition(session, facilitator, version.id, item.item.id, {
        "population": "Adults", "indicator_name": "Confidence", "indicator_type": "PROM", "no_routine_data": "yes",
        "gap_plan": "Local survey from 2027", "accountable_providers": "Lead provider", "review_date": "2030-01-01"})
    problems = queries.get_version_view(session, version.id).checklist()
    assert any("no routine data source" in p and "0%" in p for p in problems)
    shortlist.suggest_weights(session, facilitator, version.id)
    view = queries.get_version_view(session, version.id)
    assert view.items[0].item.payment_weight_bp == 0 and view.weights_total_bp == 10000
    assert view.checklist() == []
    frozen = framework_versions.freeze(session, facilitator, version.id)
    snapshot = json.loads(frozen.snapshot_json)
    assert [o["measurability_gap"] for o in snapshot["outcomes"]].count(True) == 1
    assert snapshot["summary"]["measurability_gaps"] == 1


def test_a_round_of_another_population_group_is_refused(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    # A round closed in a frailty workshop cannot become the evidence of the diabetes framework.
    frailty = population.create_population_group(session, facilitator, "Older people living with frailty", "",
                                                  "older-people-frailty")
    elsewhere = sessions.create_session(session, facilitator, frailty.id, "Frailty workshop", "2026-04-01")
    theirs = closed_rating_round(session, facilitator, elsewhere)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    with pytest.raises(ValidationFailed) as refused:
        shortlist.build_from_round(session, facilitator, version.id, theirs.id)
    assert refused.value.errors == {"round": "Choose a round from a session of this population group"}
    assert session.exec(select(ShortlistItem)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "shortlist.built")).all() == []
    # The frailty group's own framework takes it.
    own = framework_versions.start_draft(session, facilitator, frailty.id)
    assert shortlist.build_from_round(session, facilitator, own.id, theirs.id) == 5
