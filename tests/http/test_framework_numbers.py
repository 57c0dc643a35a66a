"""Numbers a contract can rely on, over HTTP (issue 12, section 2): every refusal is a 422 naming the
field, with the form re-rendered and nothing saved; the checklist and the warnings on the framework
page. Run on PostgreSQL too (tests/with_postgres.sh)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from starlette.testclient import TestClient

from codesign import queries
from codesign.app import create_app
from codesign.config import Settings
from codesign.db import write_session
from codesign.errors import ValidationFailed
from codesign.models import AuditEvent, Outcome, OutcomeStatus, ShortlistItem, User
from codesign.services import framework_versions, shortlist
from tests.conftest import post_form, sign_in
from tests.framework_helpers import COMPLETE, TERMS, ready_draft

# Each case: what is typed over a complete definition, the field refused and words of its message.
REFUSALS = {
    "percentage target over 100": ({"target-2": "101"}, "target-2", "between 0 and 100"),
    "percentage baseline over 100": ({"baseline_value": "100.5"}, "baseline_value", "between 0 and 100"),
    "negative count": ({"unit": "count", "baseline_value": "-1"}, "baseline_value", "cannot be negative"),
    "decimal comma": ({"baseline_value": "3,5"}, "baseline_value", "point for decimals"),
    "decimal comma in a target": ({"target-1": "4,5"}, "target-1", "point for decimals"),
    "linear with a paid target equal to baseline": ({"target-1": "40"}, "target-1", "nothing to pay on"),
    "green looser than the final target": ({"rag_green": "48"}, "rag_green", "final target"),
}


def _definitions(session: Session, version_id: int) -> dict[int, str]:
    return {i.id or 0: i.definition_json for i in session.exec(
        select(ShortlistItem).where(ShortlistItem.version_id == version_id))}


def _audit_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_definition_with_numbers_a_contract_cannot_rely_on_is_refused(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop, case: str) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    item = queries.get_version_view(session, version.id).items[0].item
    sign_in(client, facilitator)
    before, audits = _definitions(session, version.id), _audit_count(session)
    typed, field, words = REFUSALS[case]
    url = f"/frameworks/{version.id}/outcomes/{item.id}"
    response = post_form(client, url, {**COMPLETE, **typed}, token_from=url)
    assert response.status_code == 422, case
    assert words in response.text and f'href="#{field}"' in response.text, case  # named, and linked to the field
    typed_value = next(iter(typed.values()))
    assert f'value="{typed_value}"' in response.text  # what was typed is kept to correct
    assert _definitions(session, version.id) == before and _audit_count(session) == audits


def test_thousands_separators_are_read_and_saved_without_them(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                              facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    item = queries.get_version_view(session, version.id).items[0].item
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}/outcomes/{item.id}"
    form = {**COMPLETE, "unit": "count", "baseline_value": "1,000", "rag_amber": "1,050", "rag_green": "1,200",
            "target-0": "1,000", "target-1": "1,100", "target-2": "1,200"}
    assert post_form(client, url, form, token_from=url).status_code == 303
    saved = json.loads(session.get(ShortlistItem, item.id).definition_json)  # type: ignore[union-attr]
    assert saved["baseline_value"] == "1000" and [t["value"] for t in saved["targets"]] == ["1000", "1100", "1200"]


def _candidate(session: Session, workshop: Any, version_id: int) -> Outcome:
    listed = {i.outcome_id for i in session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id))}
    return next(o for o in session.exec(select(Outcome).where(
        Outcome.population_group_id == workshop.population_group_id, Outcome.status == OutcomeStatus.accepted)
        .order_by(col(Outcome.id))) if o.id not in listed)


def test_a_refused_add_outcome_writes_nothing(client: TestClient, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                              workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    outcome = _candidate(session, workshop, version.id)
    sign_in(client, facilitator)
    rows = _definitions(session, version.id)
    audits = _audit_count(session)
    url = f"/frameworks/{version.id}"
    refused = post_form(client, f"{url}/shortlist/add", {"outcome": str(outcome.id), "reason": "  "}, token_from=url)
    assert refused.status_code == 422
    assert "reason for departing" in refused.text and 'href="#reason-new"' in refused.text
    assert _definitions(session, version.id) == rows  # not even a "considered" row
    assert _audit_count(session) == audits
    added = post_form(client, f"{url}/shortlist/add", {"outcome": str(outcome.id), "reason": "Board minute 12"},
                      token_from=url)
    assert added.status_code == 303
    item = session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version.id,
                                                    ShortlistItem.outcome_id == outcome.id)).one()
    assert item.included and item.reason == "Board minute 12"


def test_adding_an_outcome_that_is_not_accepted_is_refused(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                           facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    outcome = _candidate(session, workshop, version.id)
    outcome.status = OutcomeStatus.withdrawn
    session.add(outcome)
    session.commit()
    rows = _definitions(session, version.id)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}"
    refused = post_form(client, f"{url}/shortlist/add", {"outcome": str(outcome.id), "reason": "Wanted"},
                        token_from=url)
    assert refused.status_code == 422 and "only an accepted outcome" in refused.text
    assert _definitions(session, version.id) == rows


def test_an_outcome_with_no_votes_at_0_percent_is_on_the_checklist(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                   facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    outcome = _candidate(session, workshop, version.id)
    item = shortlist.add_outcome(session, facilitator, version.id, outcome.id or 0, "Asked for by the board")
    shortlist.save_definition(session, facilitator, version.id, item.id or 0, COMPLETE)
    shortlist.suggest_weights(session, facilitator, version.id)  # no votes: no score, so 0%
    assert session.get(ShortlistItem, item.id).payment_weight_bp == 0  # type: ignore[union-attr]
    sign_in(client, facilitator)
    page = client.get(f"/frameworks/{version.id}").text
    assert f"“{outcome.statement}” has no votes, so it has 0% of the payment" in page
    refused = post_form(client, f"/frameworks/{version.id}/freeze", {}, token_from=f"/frameworks/{version.id}")
    assert refused.status_code == 422 and "Not ready to freeze" in refused.text


def _paid_outcomes(session: Session, actor: User, workshop: Any, version_id: int, count: int) -> None:
    while len(queries.get_version_view(session, version_id).items) < count:
        outcome = _candidate(session, workshop, version_id)
        item = shortlist.add_outcome(session, actor, version_id, outcome.id or 0, "Board minute 7")
        shortlist.save_definition(session, actor, version_id, item.id or 0, COMPLETE)
    items = queries.get_version_view(session, version_id).items
    share = 10_000 // count
    weights = {i.item.id or 0: f"{(share + (10_000 - share * count if n == 0 else 0)) / 100:g}"
               for n, i in enumerate(items)}
    shortlist.save_weights(session, actor, version_id, weights)


def test_more_than_seven_paid_outcomes_is_warned_about_but_not_refused(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    _paid_outcomes(session, facilitator, workshop, version.id, 7)
    sign_in(client, facilitator)
    assert "NHS guidance (2016)" not in client.get(f"/frameworks/{version.id}").text
    _paid_outcomes(session, facilitator, workshop, version.id, 8)
    page = client.get(f"/frameworks/{version.id}").text
    assert "8 outcomes carry payment. NHS guidance (2016) advises 3 to 7 outcomes" in page
    assert queries.get_version_view(session, version.id).checklist() == []  # a warning, never a blocker
    frozen = post_form(client, f"/frameworks/{version.id}/freeze", {}, token_from=f"/frameworks/{version.id}")
    assert frozen.status_code == 303
    assert "8 outcomes carry payment" in client.get(f"/frameworks/{version.id}").text  # still shown once frozen


def test_an_outcome_below_the_money_floor_is_warned_about(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                          facilitator: User, workshop, settings: Settings) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    # £150,000 a year, 10% outcome-linked in 2027/28: £15,000 shared by two outcomes at 50% each.
    framework_versions.save_terms(session, facilitator, version.id, {**TERMS, "contract_value": "150,000"})
    items = queries.get_version_view(session, version.id).items
    assert [i.item.payment_weight_bp for i in items] == [5000, 5000]
    sign_in(client, facilitator)
    page = client.get(f"/frameworks/{version.id}").text
    statement = items[0].outcome.statement
    assert f"“{statement}” puts £7,500.00 at stake in 2027/28, below the floor of £10,000.00" in page
    # The floor is a setting: at £5,000 nothing is below it.
    with TestClient(create_app(settings.with_overrides(min_outcome_stake_pence=500_000)),
                    follow_redirects=False) as lower:
        sign_in(lower, facilitator)
        assert "below the floor" not in lower.get(f"/frameworks/{version.id}").text


def test_two_people_adding_the_same_outcome_at_once_make_one_row(session: Session, engine: Engine,  # type: ignore[no-untyped-def]
                                                                 facilitator: User, workshop) -> None:
    """Run on PostgreSQL, where both transactions really overlap: the second insert meets the
    unique (version, outcome) index, rolls back to its savepoint and includes the row the first made."""
    version, _ = ready_draft(session, facilitator, workshop)
    outcome = _candidate(session, workshop, version.id)
    barrier = threading.Barrier(3)
    results: list[object] = []

    def add(reason: str) -> None:
        barrier.wait()
        with write_session(engine) as db:  # as the app runs a service (on SQLite, writers queue)
            actor = db.get(User, facilitator.id)
            assert actor is not None
            try:
                item = shortlist.add_outcome(db, actor, version.id, outcome.id or 0, reason)
                results.append(item.id)
            except ValidationFailed as exc:
                db.rollback()
                results.append(exc.errors)

    threads = [threading.Thread(target=add, args=(reason,)) for reason in ("Board minute 1", "Board minute 2", "")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    rows = session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version.id,
                                                    ShortlistItem.outcome_id == outcome.id)).all()
    assert len(rows) == 1 and rows[0].included and rows[0].reason in ("Board minute 1", "Board minute 2")
    ids = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, dict)]
    assert ids == [rows[0].id, rows[0].id] and len(refusals) == 1 and "reason" in refusals[0]


def test_numbers_made_wrong_after_saving_keep_the_version_from_freezing(session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                                         workshop) -> None:
    # 2026/27 was a shadow year when the definitions were saved (its target equals the baseline);
    # paying on it afterwards makes linear payment on it meaningless, so the checklist says so.
    version, _ = ready_draft(session, facilitator, workshop)
    assert queries.get_version_view(session, version.id).checklist() == []
    framework_versions.save_terms(session, facilitator, version.id, {**TERMS, "year-0-share": "5", "year-0-shadow": ""})
    checklist = queries.get_version_view(session, version.id).checklist()
    assert len(checklist) == 2 and all("numbers to correct" in p and "nothing to pay on" in p for p in checklist)
    with pytest.raises(ValidationFailed):
        framework_versions.freeze(session, facilitator, version.id)
