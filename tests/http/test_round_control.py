"""Undoing mistakes over HTTP: every action is a CSRF-checked POST for facilitators and admins, with
422 naming the field, 409 saying why, and a confirm on the destructive buttons."""

from __future__ import annotations

import re

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import AuditEvent, Domain, Outcome, Role, Round, User, WorkshopSession
from codesign.services import proposals, rounds, sessions
from tests.conftest import join, make_user, post_form, sign_in
from tests.round_helpers import accepted_ids, open_round, round_form

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def events(session: Session) -> int:
    """Audit events about rounds and outcomes (signing in and making users add their own)."""
    return len([e for e in session.exec(select(AuditEvent)) if e.object_type in ("round", "outcome")])


def closed_round(session: Session, facilitator: User, workshop: WorkshopSession) -> Round:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2))
    return rounds.close_round(session, facilitator, workshop.id or 0, found.id or 0)


def other_session(session: Session, facilitator: User, workshop: WorkshopSession) -> WorkshopSession:
    return sessions.create_session(session, facilitator, workshop.population_group_id, "Workshop two", "2026-04-01")


def test_only_facilitators_and_admins_may_undo(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 5)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids[:3]))
    done = closed_round(session, facilitator, workshop)  # over ids[0] and ids[1]
    proposals.merge_outcomes(session, facilitator, workshop.id, ids[2], [ids[3]])
    target = other_session(session, facilitator, workshop)
    domain = session.exec(select(Domain).where(Domain.population_group_id == workshop.population_group_id)).first()
    assert domain is not None
    base, outcome = f"/sessions/{workshop.id}/rounds", f"/sessions/{workshop.id}/outcomes"
    attempts = [
        (f"{base}/{draft.id}/edit", round_form(ids[:2], title="Changed")),
        (f"{base}/{draft.id}/delete", {}),
        (f"{base}/{done.id}/reopen", {"reopen_reason": "Late arrivals"}),
        (f"{base}/{done.id}/duplicate", {"target_session": str(target.id)}),
        (f"{outcome}/{ids[3]}/unmerge", {"reason": "Different"}),
        (f"{outcome}/{ids[4]}/domain", {"domain": domain.key}),
    ]
    before = events(session)
    # A participant's device (no staff sign-in) is sent to sign in; other staff are refused.
    join(client, workshop.join_code, "patient")
    for url, data in attempts:
        response = post_form(client, url, data)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin"), url
    for role in (Role.commissioner, Role.observer):
        sign_in(client, make_user(session, role))
        for url, data in attempts:
            assert post_form(client, url, data, token_from="/").status_code == 403, (role, url)
        assert client.get(f"{base}/{draft.id}/edit").status_code == 403
    # Without the CSRF token even a facilitator changes nothing.
    sign_in(client, facilitator)
    for url, data in attempts:
        assert client.post(url, data=data).status_code == 403, url
    assert events(session) == before
    assert session.get_one(Round, draft.id).title == draft.title and session.get_one(Round, done.id).status == "closed"
    assert session.get_one(Outcome, ids[3]).status == "merged"
    # An admin may.
    sign_in(client, make_user(session, Role.admin))
    for url, data in attempts:
        assert post_form(client, url, data, token_from="/").status_code == 303, url
    assert events(session) == before + len(attempts)


def test_edit_a_draft_round_on_the_round_form(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids[:2], title="First <try>",
                                                                               method="points", budget="8"))
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{draft.id}"
    console = client.get(page).text
    assert f'{page}/edit"' in console and 'data-confirm="Delete draft round 1' in console
    form = client.get(f"{page}/edit")
    assert form.status_code == 200 and "<h1>Edit round 1</h1>" in form.text
    assert 'value="First &lt;try&gt;"' in form.text and re.search(r'value="points"\s+checked', form.text)
    assert re.search(r'name="budget"[^>]*value="8"', form.text)
    assert re.search(rf'value="{ids[2]}"(?![^>]*checked)', form.text)  # not in the round: not ticked
    bad = post_form(client, f"{page}/edit", round_form(ids[:2], title=""), token_from=f"{page}/edit")
    assert bad.status_code == 422 and 'href="#title"' in bad.text and "<h1>Edit round 1</h1>" in bad.text
    assert session.get_one(Round, draft.id).title == "First <try>"
    saved = post_form(client, f"{page}/edit", round_form(ids, title="Second try"), token_from=f"{page}/edit")
    assert saved.status_code == 303 and saved.headers["location"] == page
    assert session.get_one(Round, draft.id).title == "Second try"

    rounds.open_round(session, facilitator, workshop.id, draft.id, acknowledge_small=True)  # type: ignore[arg-type]
    assert client.get(f"{page}/edit").status_code == 409
    refused = post_form(client, f"{page}/edit", round_form(ids, title="Third"), token_from=page)
    assert refused.status_code == 409 and "has opened, so it can no longer be edited" in refused.text
    assert f'{page}/edit"' not in client.get(page).text


def test_delete_a_draft_round(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    opened = open_round(session, facilitator, workshop, ids)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds"
    refused = post_form(client, f"{page}/{opened.id}/delete", {}, token_from=f"{page}/{opened.id}")
    assert refused.status_code == 409 and "can no longer be deleted" in refused.text
    deleted = post_form(client, f"{page}/{draft.id}/delete", {}, token_from=f"{page}/{draft.id}")
    assert deleted.status_code == 303 and deleted.headers["location"] == f"/sessions/{workshop.id}"
    assert session.get(Round, draft.id) is None and session.get(Round, opened.id) is not None
    assert "The draft round was deleted" in client.get(f"/sessions/{workshop.id}").text


def test_reopen_a_closed_round(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    done = closed_round(session, facilitator, workshop)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{done.id}"
    console = client.get(page).text
    assert 'id="reopen-reason"' in console and 'data-confirm="Reopen round 1?' in console
    empty = post_form(client, f"{page}/reopen", {"reopen_reason": "  "}, token_from=page)
    assert empty.status_code == 422 and 'href="#reopen-reason"' in empty.text
    assert "reason for reopening the round" in empty.text
    assert session.get_one(Round, done.id).status == "closed"
    reopened = post_form(client, f"{page}/reopen", {"reopen_reason": "Two tables arrived late"}, token_from=page)
    assert reopened.status_code == 303 and session.get_one(Round, done.id).status == "open"
    again = post_form(client, f"{page}/reopen", {"reopen_reason": "Twice"}, token_from=page)
    assert again.status_code == 409 and "already open" in again.text
    rounds.close_session(session, facilitator, workshop.id)  # type: ignore[arg-type]
    closed = post_form(client, f"{page}/reopen", {"reopen_reason": "After the end"}, token_from=page)
    assert closed.status_code == 409 and "This session has closed" in closed.text


def test_reopen_is_refused_with_the_reason_when_a_feedback_round_has_opened(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    done = closed_round(session, facilitator, workshop)
    later = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2),
                       feedback_round_id=str(done.id))
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{done.id}"
    refused = post_form(client, f"{page}/reopen", {"reopen_reason": "Oops"}, token_from=page)
    assert refused.status_code == 409
    assert f"Round {later.number} “{later.title}” shows this round’s answers as feedback" in refused.text


def test_copy_a_round_into_another_session(client: TestClient, session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    done = closed_round(session, facilitator, workshop)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{done.id}"
    assert "no other session to copy the round into" in client.get(page).text
    target = other_session(session, facilitator, workshop)
    assert f'<option value="{target.id}"' in client.get(page).text
    missing = post_form(client, f"{page}/duplicate", {"target_session": ""}, token_from=page)
    assert missing.status_code == 422 and 'href="#target_session"' in missing.text
    copied = post_form(client, f"{page}/duplicate", {"target_session": str(target.id)}, token_from=page)
    copy = session.exec(select(Round).where(Round.session_id == target.id)).one()
    assert copied.status_code == 303 and copied.headers["location"] == f"/sessions/{target.id}/rounds/{copy.id}"
    assert copy.status == "draft" and "This round is a copy" in client.get(copied.headers["location"]).text


def test_unmerge_and_domain_on_the_outcome_page(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    a, b = accepted_ids(session, workshop, 2)
    proposals.merge_outcomes(session, facilitator, workshop.id, a, [b])
    sign_in(client, facilitator)
    merged = f"/sessions/{workshop.id}/outcomes/{b}"
    page = client.get(merged).text
    assert 'id="unmerge-reason"' in page and 'data-confirm="Un-merge' in page and 'id="domain"' not in page
    assert f'{merged}"' in client.get(f"/sessions/{workshop.id}/outcomes/{a}").text  # listed on the target
    empty = post_form(client, f"{merged}/unmerge", {"reason": ""}, token_from=merged)
    assert empty.status_code == 422 and 'href="#unmerge-reason"' in empty.text
    done = post_form(client, f"{merged}/unmerge", {"reason": "Two different things"}, token_from=merged)
    assert done.status_code == 303 and session.get_one(Outcome, b).status == "accepted"

    domains = session.exec(select(Domain).where(Domain.population_group_id == workshop.population_group_id)).all()
    page = client.get(merged).text
    assert 'id="domain"' in page and all(d.name in page for d in domains)
    bad = post_form(client, f"{merged}/domain", {"domain": "<script>"}, token_from=merged)
    assert bad.status_code == 422 and 'href="#domain"' in bad.text and "<script>" not in bad.text
    chosen = domains[-1]
    assert post_form(client, f"{merged}/domain", {"domain": chosen.key}, token_from=merged).status_code == 303
    assert session.get_one(Outcome, b).domain_key == chosen.key
    assert f"Domain: {chosen.name}" in client.get(merged).text
