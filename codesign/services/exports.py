"""Keep each export of a frozen version once made (they never change; see FrameworkExport).

Only the background rendering that follows a freeze stores exports (a GET never writes). Each
stored file's SHA-256 goes into the audit log with it, and is checked whenever it is served.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

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
