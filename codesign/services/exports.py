"""Keep each export of a frozen version once made (they never change; see FrameworkExport).

The background rendering that follows a freeze or an approval stores exports (a GET never writes),
and so does loading the demo, whose version is frozen without that request (store_every_format). Each
stored file's SHA-256 goes into the audit log with it, and is checked whenever it is served.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from codesign import export, integrity
from codesign.errors import Conflict, NotFound
from codesign.models import FrameworkExport, FrameworkVersion, VersionStatus
from codesign.services import audit


def _kept(db: Session, version_id: int, fmt: str) -> FrameworkExport | None:
    return db.exec(select(FrameworkExport).where(FrameworkExport.version_id == version_id,
                                                 FrameworkExport.format == fmt)).first()


def store_export(db: Session, version_id: int, fmt: str, content: bytes) -> FrameworkExport:
    """Store a rendered export and audit its SHA-256; if another process stored it first, keep theirs."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    if version.status != VersionStatus.frozen:
        raise Conflict("Only a frozen version can be exported. Freeze it first.")
    existing = _kept(db, version_id, fmt)
    if existing is not None:
        return existing
    digest = hashlib.sha256(content).hexdigest()
    row = FrameworkExport(version_id=version_id, format=fmt, content=content, sha256=digest)
    try:
        db.add(row)
        db.flush()
        audit.record(db, None, "framework.export_stored",
                     summary=f"{fmt.upper()} export of version {version.number} stored with SHA-256 {digest}",
                     object_type="framework_version", object_id=version_id,
                     population_group_id=version.population_group_id,
                     details={"export_id": row.id, "format": fmt, "sha256": digest, "bytes": len(content)})
        db.commit()
    except IntegrityError:  # stored meanwhile by another worker (a unique key, or on SQLite the trigger)
        db.rollback()
        kept = _kept(db, version_id, fmt)
        if kept is None:
            raise
        return kept
    return row


def store_every_format(db: Session, version_id: int, fhir_base: str = "") -> list[FrameworkExport]:
    """Render and store each format's edition (for the approvals there are now) that is not stored yet,
    as the background rendering after a freeze or approval does (web/exports.prepare_all). For a
    version frozen without that request, such as the demo's (seeded through the services), so that
    its downloads are served stored and `codesign verify` checks them. Refuses a tampered version."""
    kept = []
    for fmt in export.FORMATS:
        download = integrity.checked_download(db, version_id, fmt)
        if download.stored is not None:
            kept.append(download.stored)
            continue
        content = export.render(json.loads(download.version.snapshot_json or ""), download.version.sha256 or "",
                                fmt, fhir_base, download.approvals)
        kept.append(store_export(db, version_id, download.edition, content))
    return kept
