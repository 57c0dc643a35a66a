"""Downloads never write and never serve a changed file; the version page warns when a check fails.

Tampering is simulated as a database owner would do it (triggers dropped or disabled)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.export.canonical import canonical_json, snapshot_sha256
from codesign.models import AuditEvent, FrameworkExport
from codesign.services import framework_versions
from codesign.services.exports import store_every_format, store_export
from codesign.web.exports import render_export
from tests.conftest import post_form, sign_in
from tests.export.clock import A_SECOND_LATER, ONE, set_clock
from tests.framework_helpers import ready_draft
from tests.integrity_helpers import as_owner, frozen_version

WARNING = "This version failed its integrity checks"
REFUSED = "This file failed its integrity check"


def _count(session: Session, model: type) -> int:
    session.commit()
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_download_never_writes_and_the_freeze_stores_and_audits_every_export(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    frozen = framework_versions.freeze(session, facilitator, version.id)
    sign_in(client, facilitator)
    exports, events = _count(session, FrameworkExport), _count(session, AuditEvent)
    first = client.get(f"/frameworks/{version.id}/export/csv")
    assert first.status_code == 200 and first.content.startswith(b"rank")
    assert client.get(f"/frameworks/{version.id}/export/json").status_code == 200
    # Rendered on the fly and served, but not stored: a GET changes nothing.
    assert (_count(session, FrameworkExport), _count(session, AuditEvent)) == (exports, events)
    assert client.get(f"/frameworks/{version.id}/export/csv").content == first.content

    # The freeze POST is what stores them, each with its SHA-256 in the audit log.
    other, _ = ready_draft(session, facilitator, workshop)
    url = f"/frameworks/{other.id}"
    assert post_form(client, f"{url}/freeze", {}, token_from=url).status_code == 303
    stored = session.exec(select(FrameworkExport).where(FrameworkExport.version_id == other.id)).all()
    audited = {json.loads(e.details)["format"]: json.loads(e.details)["sha256"] for e in session.exec(
        select(AuditEvent).where(AuditEvent.action == "framework.export_stored", AuditEvent.object_id == other.id))}
    assert audited == {x.format: hashlib.sha256(x.content).hexdigest() for x in stored}
    assert sorted(audited) == ["csv", "docx", "fhir", "json", "pdf", "xlsx"]
    assert frozen.sha256 and WARNING not in client.get(url).text


def test_a_frozen_version_downloads_as_the_same_docx_and_xlsx_as_it_stores(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator, workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the user trial did it: a frozen version with no stored exports (the demo's, before the demo
    stored them) downloaded twice, a second apart; then stored, and downloaded again."""
    version, _ = ready_draft(session, facilitator, workshop)
    framework_versions.freeze(session, facilitator, version.id)
    sign_in(client, facilitator)
    set_clock(monkeypatch, ONE)
    first = {fmt: client.get(f"/frameworks/{version.id}/export/{fmt}").content for fmt in ("docx", "xlsx")}
    set_clock(monkeypatch, A_SECOND_LATER)
    for fmt in ("docx", "xlsx"):
        assert client.get(f"/frameworks/{version.id}/export/{fmt}").content == first[fmt], fmt
    # Stored later (a second later again), each is the file already downloaded, and so its audited
    # SHA-256 is the hash of a copy saved before it was stored.
    stored = {x.format: x for x in store_every_format(session, version.id)}
    for fmt in ("docx", "xlsx"):
        assert stored[fmt].content == first[fmt], fmt
        assert client.get(f"/frameworks/{version.id}/export/{fmt}").content == first[fmt], fmt


def test_a_changed_stored_export_is_not_served(client: TestClient, engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                               facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    frozen = framework_versions.freeze(session, facilitator, version.id)
    content = render_export(json.loads(frozen.snapshot_json or ""), frozen.sha256 or "", "csv")
    kept = store_export(session, version.id, "csv", content)
    kept_id = kept.id
    sign_in(client, facilitator)
    assert client.get(f"/frameworks/{version.id}/export/csv").content == content
    forged = content.replace(b"rank", b"RANK")
    as_owner(engine, f"UPDATE framework_export SET content = :c WHERE id = {kept_id}", tables=("framework_export",),
             params={"c": forged})
    refused = client.get(f"/frameworks/{version.id}/export/csv")
    assert refused.status_code == 409 and REFUSED in refused.text and "RANK" not in refused.text
    assert "attachment" not in refused.headers.get("content-disposition", "")
    assert (f"framework_export {kept_id} (version id {version.id}, csv): its content does not match its stored "
            "SHA-256") in refused.text
    # Rewriting the stored hash to match does not help: the audit log holds the original one.
    as_owner(engine, f"UPDATE framework_export SET sha256 = '{hashlib.sha256(forged).hexdigest()}' WHERE id = {kept_id}",
             tables=("framework_export",))
    refused = client.get(f"/frameworks/{version.id}/export/csv")
    assert refused.status_code == 409 and "its stored SHA-256 differs from the audited one" in refused.text
    page = client.get(f"/frameworks/{version.id}")
    assert WARNING in page.text and f"framework_export {kept_id} (version id {version.id}, csv)" in page.text


def test_a_changed_snapshot_is_not_exported_even_with_its_hash_recomputed(  # type: ignore[no-untyped-def]
        client: TestClient, engine: Engine, session: Session, facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    frozen = framework_versions.freeze(session, facilitator, version.id)
    snapshot = json.loads(frozen.snapshot_json or "")
    snapshot["framework"]["title"] = "A different framework"
    as_owner(engine, f"UPDATE framework_version SET snapshot_json = :s, sha256 = :h WHERE id = {version.id}",
             tables=("framework_version",),
             params={"s": canonical_json(snapshot).decode("utf-8"), "h": snapshot_sha256(snapshot)})
    sign_in(client, facilitator)
    for fmt in ("json", "csv"):
        refused = client.get(f"/frameworks/{version.id}/export/{fmt}")
        assert refused.status_code == 409 and REFUSED in refused.text
        assert "its SHA-256 differs from the one recorded when it was frozen" in refused.text


def test_the_version_page_warns_when_any_check_fails(client: TestClient, engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                     facilitator, workshop) -> None:
    frozen = frozen_version(session, facilitator, workshop)
    url = f"/frameworks/{frozen.version.id}"
    approval_id, version_id, user_id = frozen.approval.id, frozen.version.id, frozen.approver.id
    sign_in(client, facilitator)
    clean = client.get(url)
    assert clean.status_code == 200 and WARNING not in clean.text
    as_owner(engine, f"UPDATE framework_approval SET note = '<b>Unconditional</b>' WHERE id = {approval_id}",
             tables=("framework_approval",))
    page = client.get(url)
    assert page.status_code == 200 and WARNING in page.text and 'class="nhsuk-warning-callout" id="integrity"' in page.text
    assert (f"framework_approval {approval_id} (version id {version_id}, user {user_id}): its note differs from "
            "the audited one") in page.text
    assert "<b>Unconditional</b>" not in page.text and "&lt;b&gt;Unconditional&lt;/b&gt;" in page.text
    # An edited event that anchors the version (its freezing) is reported too.
    frozen_event = session.exec(select(AuditEvent).where(AuditEvent.action == "framework.frozen")).one()
    as_owner(engine, f"UPDATE audit_event SET summary = 'Nothing' WHERE id = {frozen_event.id}", tables=("audit_event",))
    assert f"audit_event seq {frozen_event.seq} (id {frozen_event.id}): hash does not match its contents" in client.get(url).text
    # The draft after it has nothing to check.
    assert WARNING not in client.get(f"/frameworks/{frozen.draft.id}").text
