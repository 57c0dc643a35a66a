"""The frozen snapshot as JSON: {"sha256": ..., "snapshot": {...}} (docs/framework-snapshot.md).

The embedded snapshot is exactly what was frozen, so anyone can recompute its SHA-256 with the
standard library (canonical JSON: keys sorted, no spaces, UTF-8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, BinaryIO

from codesign.export import _labels as L


def write_json(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO) -> None:
    """Write `{"sha256": sha256, "snapshot": snapshot}` pretty-printed as UTF-8 to `stream`."""
    L.check_sha256(snapshot, sha256)
    text = json.dumps({"sha256": sha256, "snapshot": snapshot}, indent=2, ensure_ascii=False, allow_nan=False)
    stream.write(text.encode("utf-8") + b"\n")
