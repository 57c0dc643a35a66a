"""Reads for the public "you said, we did" page of a frozen version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from codesign.library import library_wording
from codesign.models import FrameworkVersion, PopulationGroup
from codesign.queries.framework import get_version_by_token

__all__ = ["PublicView", "get_public_view"]


@dataclass(frozen=True)
class PublicView:
    version: FrameworkVersion
    snapshot: dict[str, Any]
    library_wording: dict[str, str]  # library statement -> where it came from, in plain words


def get_public_view(db: Session, token: str) -> PublicView:
    version = get_version_by_token(db, token)
    group = db.get(PopulationGroup, version.population_group_id)
    return PublicView(version, json.loads(version.snapshot_json or "{}"),
                      library_wording(group.template_slug if group else None))
