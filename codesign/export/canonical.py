"""Canonical JSON of a frozen framework snapshot and its SHA-256 (docs/framework-snapshot.md).

Canonical form: keys sorted, no spaces, UTF-8 with non-ASCII characters written as themselves.
Anyone can recompute the hash with the standard library (README shows how).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SCHEMA = "codesign.framework/1"


def canonical_json(snapshot: Any) -> bytes:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def snapshot_sha256(snapshot: Any) -> str:
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()
