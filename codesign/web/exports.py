"""Serving Appendix A exports. A GET never writes: it serves the stored file (after checking it
against its SHA-256 and the audited one), or, for a format not stored yet, renders one on the fly
from the (checked) snapshot. Storing is done by the background rendering after the freeze POST."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from codesign import export, integrity
from codesign.export import render as render_export
from codesign.services.exports import store_export
from codesign.web.dbcall import read, write


def _fhir_base(request: Request) -> str:
    return str(request.app.state.settings.fhir_base_url)


async def export_bytes(request: Request, version_id: int, fmt: str) -> tuple[bytes, str]:
    """The file and its download name: the edition for the approvals there are now. Raises
    TamperingDetected rather than serve a changed file."""
    download = await read(request, integrity.checked_download, version_id, fmt)
    snapshot = json.loads(download.version.snapshot_json or "")
    name = export.filename(snapshot, fmt, len(download.approvals))
    if download.stored is not None:
        return download.stored.content, name
    content = await run_in_threadpool(render_export, snapshot, download.version.sha256 or "", fmt,
                                      _fhir_base(request), download.approvals)
    return content, name


async def prepare_all(request: Request, version_id: int) -> None:
    """After freezing or approving (a POST): render and store every format's edition for the
    approvals there are now, so each download is immediate and the same bytes every time.
    services.exports.store_every_format does the same in one transaction (for `seed-demo`); here
    each file is rendered between a read and a write, so no vote waits on SQLite's write lock
    while a PDF is drawn."""
    for fmt in export.FORMATS:
        download = await read(request, integrity.checked_download, version_id, fmt)
        if download.stored is None:
            snapshot = json.loads(download.version.snapshot_json or "")
            content = await run_in_threadpool(render_export, snapshot, download.version.sha256 or "", fmt,
                                              _fhir_base(request), download.approvals)
            await write(request, store_export, version_id, download.edition, content)
