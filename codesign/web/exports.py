"""Serving Appendix A exports: render once (outside any database transaction), keep, reuse."""

from __future__ import annotations

import io
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from codesign import export, queries
from codesign.errors import Conflict
from codesign.services.exports import store_export
from codesign.web.dbcall import read, write


def render_export(snapshot: dict[str, Any], sha256: str, fmt: str) -> bytes:
    buffer = io.BytesIO()
    export.export(snapshot, sha256, fmt, buffer)
    return buffer.getvalue()


async def export_bytes(request: Request, version_id: int, fmt: str) -> tuple[bytes, str]:
    """The file and its download name, rendered now only if no process has rendered it before."""
    version = await read(request, queries.get_version, version_id)
    if version.status != "frozen" or not version.snapshot_json or not version.sha256:
        raise Conflict("Only a frozen version can be exported. Freeze it first.")
    snapshot = json.loads(version.snapshot_json)
    name = export.filename(snapshot, fmt)
    kept = await read(request, queries.get_export, version_id, fmt)
    if kept is not None:
        return kept.content, name
    content = await run_in_threadpool(render_export, snapshot, version.sha256, fmt)
    stored = await write(request, store_export, version_id, fmt, content)
    return stored.content, name


async def prepare_all(request: Request, version_id: int) -> None:
    """After freezing: render every format in the background so the first download is instant."""
    for fmt in export.FORMATS:
        await export_bytes(request, version_id, fmt)
