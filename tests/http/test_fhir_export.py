"""The FHIR bundle beside the other downloads: stored at freeze, served as application/fhir+json,
its canonical URLs under the configured base, and checked by `codesign verify` like the others."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign import export, integrity
from codesign.config import Settings
from codesign.models import AuditEvent, FrameworkExport, FrameworkVersion
from tests.conftest import post_form, sign_in
from tests.framework_helpers import ready_draft
from tests.integrity_helpers import as_owner

PUBLIC = "https://codesign.example.nhs.uk"


def _settings(database_url: str) -> Settings:
    from tests.conftest import SECRET

    return Settings(database_url=database_url, env="test", secret_key=SECRET, secure_cookies=False,
                    public_url=PUBLIC)


def test_freeze_stores_the_bundle_and_the_download_serves_it(session: Session, engine: Engine,  # type: ignore[no-untyped-def]
                                                             database_url: str, facilitator, workshop) -> None:
    from codesign.app import create_app

    version, _ = ready_draft(session, facilitator, workshop)
    url = f"/frameworks/{version.id}"
    with TestClient(create_app(_settings(database_url)), follow_redirects=False) as client:
        sign_in(client, facilitator)
        assert post_form(client, f"{url}/freeze", {}, token_from=url).status_code == 303
        frozen = session.get(FrameworkVersion, version.id)
        assert frozen is not None and frozen.sha256
        stored = session.exec(select(FrameworkExport).where(FrameworkExport.version_id == version.id,
                                                            FrameworkExport.format == "fhir")).one()
        bundle = json.loads(stored.content)
        assert bundle["resourceType"] == "Bundle" and bundle["id"] == frozen.sha256
        # No CODESIGN_FHIR_BASE: the canonical URLs hang off the public URL.
        assert all(e["fullUrl"].startswith(f"{PUBLIC}/fhir/Measure/") for e in bundle["entry"])
        audited = [json.loads(e.details) for e in session.exec(select(AuditEvent).where(
            AuditEvent.action == "framework.export_stored", AuditEvent.object_id == version.id))]
        assert {"format": "fhir", "sha256": hashlib.sha256(stored.content).hexdigest()}.items() <= \
            next(d for d in audited if d["format"] == "fhir").items()

        page = client.get(url).text
        assert f'{url}/export/fhir">HL7 FHIR' in page and "HL7 FHIR R4 Measure bundle" in page
        download = client.get(f"{url}/export/fhir")
        assert download.status_code == 200 and download.content == stored.content
        assert download.headers["content-type"] == "application/fhir+json"
        name = export.filename(json.loads(frozen.snapshot_json or ""), "fhir")
        assert name.endswith("-v1.fhir.json")
        assert download.headers["content-disposition"] == f'attachment; filename="{name}"'

    # `codesign verify` checks it like the other stored exports: fine as stored, caught when changed.
    with Session(engine) as db:
        found = integrity.verify(db)
        assert found.problems == [] and found.counts["stored exports"] == 6
    forged = stored.content.replace(b'"status": "active"', b'"status": "retired"', 1)
    assert forged != stored.content
    as_owner(engine, f"UPDATE framework_export SET content = :c WHERE id = {stored.id}",
             tables=("framework_export",), params={"c": forged})
    with Session(engine) as db:
        problems = [str(p) for p in integrity.verify(db).problems]
    assert problems == [f"framework_export {stored.id} (version id {version.id}, fhir): its content does not match "
                        "its stored SHA-256 (the file was changed)"]


def test_a_download_before_the_bundle_is_stored_uses_the_configured_base(  # type: ignore[no-untyped-def]
        session: Session, database_url: str, facilitator, workshop) -> None:
    """A version frozen without the web page (no background rendering) is rendered on the fly."""
    from codesign.app import create_app
    from codesign.services import framework_versions

    version, _ = ready_draft(session, facilitator, workshop)
    framework_versions.freeze(session, facilitator, version.id)
    base = "https://fhir.example.nhs.uk/r4"
    app = create_app(_settings(database_url).with_overrides(fhir_base=base))
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, facilitator)
        download = client.get(f"/frameworks/{version.id}/export/fhir")
    assert download.status_code == 200 and download.headers["content-type"] == "application/fhir+json"
    bundle = json.loads(download.content)
    assert all(e["fullUrl"].startswith(f"{base}/Measure/") for e in bundle["entry"])
    assert session.exec(select(FrameworkExport).where(FrameworkExport.version_id == version.id)).all() == []

