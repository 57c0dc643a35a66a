"""Keep each export of a frozen version once made (they never change; see FrameworkExport)."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from codesign.errors import Conflict, NotFound
from codesign.models import FrameworkExport, FrameworkVersion, VersionStatus


def store_export(db: Session, version_id: int, fmt: str, content: bytes) -> FrameworkExport:
    """Store a rendered export; if another process stored it first, keep theirs."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    if version.status != VersionStatus.frozen:
        raise Conflict("Only a frozen version can be exported. Freeze it first.")
    row = FrameworkExport(version_id=version_id, format=fmt, content=content,
                          sha256=hashlib.sha256(content).hexdigest())
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        existing = db.exec(select(FrameworkExport).where(FrameworkExport.version_id == version_id,
                                                         FrameworkExport.format == fmt)).one()
        return existing
    return row
