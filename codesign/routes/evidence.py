"""Indicator data and peer groups: upload a Fingertips-layout file, upload or edit peer groups.

Staff who run workshops or frameworks only (permissions.Action.manage_evidence); participants and
observers are refused.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import ValidationFailed
from codesign.services import evidence
from codesign.validation import normalise_text
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.templating import render


async def _data_page(request: Request, *, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    indicators = await read(request, queries.list_indicators)
    return render(request, "evidence/data.html", {"indicators": indicators, "errors": errors or {},
                                                   "flash": request.session.pop("flash", None)},
                  status_code=status_code)


async def _peers_page(request: Request, *, errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    groups = await read(request, queries.list_peer_groups)
    if values is None:
        area = normalise_text(request.query_params.get("area", ""))[:100]
        current = next((g for g in groups if g.area_code == area), None)
        values = {"area": area, "peers": "\n".join(code for code, _ in current.peers) if current else ""}
    return render(request, "evidence/peers.html", {"groups": groups, "errors": errors or {}, "values": values,
                                                    "flash": request.session.pop("flash", None)},
                  status_code=status_code)


async def _upload(request: Request) -> tuple[str, str, str | None]:
    """(text, file name, why it cannot be read)."""
    name, raw = "upload.csv", b""
    async with request.form() as form:  # closes the uploaded file's temporary copy
        upload = form.get("file")
        if upload is not None and not isinstance(upload, str):
            name = normalise_text(upload.filename)[:100] or name
            raw = await upload.read()
    try:
        return raw.decode("utf-8-sig"), name, None
    except UnicodeDecodeError:
        return "", name, f"{name} is not UTF-8 text. Save it as CSV UTF-8."


@auth.requires(*auth.EVIDENCE)
async def data_page(request: Request) -> Response:
    return await _data_page(request)


@auth.requires(*auth.EVIDENCE)
async def import_data(request: Request) -> Response:
    text, name, problem = await _upload(request)
    if problem:
        return await _data_page(request, errors={"file": problem}, status_code=422)
    try:
        summary = await write(request, evidence.import_indicators, auth.current_user(request), text, name)
    except ValidationFailed as exc:
        return await _data_page(request, errors=exc.errors, status_code=422)
    request.session["flash"] = (f"Imported {summary.rows} figures from {name}: {summary.added} new, "
                                f"{summary.updated} updated.")
    return redirect(request, str(request.url_for("evidence")))


@auth.requires(*auth.EVIDENCE)
async def peers_page(request: Request) -> Response:
    return await _peers_page(request)


@auth.requires(*auth.EVIDENCE)
async def import_peers(request: Request) -> Response:
    text, name, problem = await _upload(request)
    if problem:
        return await _peers_page(request, errors={"file": problem}, status_code=422)
    try:
        groups = await write(request, evidence.import_peers, auth.current_user(request), text, name)
    except ValidationFailed as exc:
        return await _peers_page(request, errors=exc.errors, status_code=422)
    request.session["flash"] = f"Set the peers of {len(groups)} areas from {name}."
    return redirect(request, str(request.url_for("evidence_peers")))


@auth.requires(*auth.EVIDENCE)
async def save_peers(request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {"area": form.get("area", ""), "peers": form.get("peers", "")}
    try:
        chosen = await write(request, evidence.save_peers, auth.current_user(request), values["area"], values["peers"])
    except ValidationFailed as exc:
        return await _peers_page(request, errors=exc.errors, values=values, status_code=422)
    area = normalise_text(values["area"])
    request.session["flash"] = (f"Saved {len(chosen)} peers for {area}." if chosen
                                else f"Removed the peers of {area}.")
    return redirect(request, str(request.url_for("evidence_peers")))


routes = [
    Route("/evidence", data_page, name="evidence"),
    Route("/evidence/import", import_data, methods=["POST"], name="import_evidence"),
    Route("/evidence/peers", peers_page, name="evidence_peers"),
    Route("/evidence/peers", save_peers, methods=["POST"], name="save_peers"),
    Route("/evidence/peers/import", import_peers, methods=["POST"], name="import_peers"),
]
