"""The frozen snapshot as JSON: {"sha256": ..., "snapshot": {...}} (docs/framework-snapshot.md).

The embedded snapshot is exactly what was frozen, so anyone can recompute its SHA-256 with the
standard library (canonical JSON: keys sorted, no spaces, UTF-8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, BinaryIO

from codesign.export import _labels as L
from codesign.export._signoff import SIGN_OFF, without_sign_off


def write_json(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO) -> None:
    """Write `{"sha256": sha256, "snapshot": snapshot}` pretty-printed as UTF-8 to `stream`, with the
    sign-off beside the snapshot (`"sign_off"`) when it was given: approval is not frozen data."""
    L.check_sha256(snapshot, sha256)
    document: dict[str, Any] = {"sha256": sha256, "snapshot": without_sign_off(snapshot)}
    if SIGN_OFF in snapshot:
        document[SIGN_OFF] = snapshot[SIGN_OFF]
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    stream.write(text.encode("utf-8") + b"\n")
