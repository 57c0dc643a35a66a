"""Facilitator pages for voting rounds: create, open, close, reveal, reset, import, results."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import Conflict, ValidationFailed
from codesign.export.ballots_csv import pseudonym_key, write_ballots_csv
from codesign.export.round_csv import write_reasons_csv, write_round_results_csv
from codesign.export.tally_ballots import outcome_names, round_voter, write_tally_ballots
from codesign.queries.tally_files import TallyFile, round_tally_file
from codesign.services import round_import, rounds
from codesign.validation import first_value, normalise_text, parse_id
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import is_htmx, redirect
from codesign.web.results_view import PROJECTOR_PAGE_SIZE, paginate, results_context
from codesign.web.templating import render


def _ids(request: Request) -> tuple[int, int]:
    return request.path_params["session_id"], request.path_params["round_id"]


def _round_url(request: Request) -> str:
    session_id, round_id = _ids(request)
    return str(request.url_for("round", session_id=session_id, round_id=round_id))


def _form_dict(form: object) -> dict[str, str]:
    items = form.multi_items()  # type: ignore[attr-defined]
    data = {k: v for k, v in items if isinstance(v, str)}
    data["outcomes"] = ",".join(v for k, v in items if k == "outcomes" and isinstance(v, str))
    return data


def new_round_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    """The form, listing the accepted outcomes in the order the facilitator has arranged so far."""
    by_id = {o.id: o for o in context["view"].accepted if o.id is not None}
    arranged = [by_id[i] for i in rounds.arrange(list(by_id), context["values"].get("arrangement", ""))]
    return render(request, "rounds/new.html", {**context, "arranged": arranged}, status_code=status_code)


@auth.requires(*auth.FACILITATORS)
async def new_round(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    view = await read(request, queries.get_console, session_id)
    existing = await read(request, queries.list_rounds, session_id)
    feedback_id = request.query_params.get("feedback", "")
    context = {"view": view, "rounds": existing, "methods": rounds.METHODS, "combines": rounds.COMBINES,
               "orders": rounds.ORDER_CHOICES, "errors": {},
               "values": {"feedback_round_id": feedback_id, "min_group_size": str(rounds.NEW_ROUND_MIN_GROUP_SIZE)},
               "feedback": await read(request, queries.get_feedback_source, session_id, feedback_id), "focus": None}
    if request.method == "GET":
        return new_round_page(request, context)
    form = _form_dict(await request.form())
    if "move" in form:  # "Move up" / "Move down": the same form again in the new order; nothing is saved
        arranged, focus = rounds.move_outcome(
            rounds.arrange([o.id for o in view.accepted if o.id is not None], form.get("arrangement", "")),
            form["move"])
        form["arrangement"] = ",".join(map(str, arranged))
        context.update(values=form, focus=focus, feedback=await read(
            request, queries.get_feedback_source, session_id, form.get("feedback_round_id", "")))
        return new_round_page(request, context)
    try:
        created = await write(request, rounds.create_round, auth.current_user(request), session_id, form)
    except ValidationFailed as exc:
        context.update(values=form, errors=exc.errors, feedback=await read(
            request, queries.get_feedback_source, session_id, form.get("feedback_round_id", "")))
        return new_round_page(request, context, 422)
    return redirect(request, str(request.url_for("round", session_id=session_id, round_id=created.id)))


async def round_page(request: Request, *, errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, status_code: int = 200,
                      unsent: int | None = None) -> Response:
    session_id, round_id = _ids(request)
    # The change fingerprint first, alone (one statement): an unchanged refresh ends here.
    fingerprint = await read(request, queries.round_poll_fingerprint, session_id, round_id)
    if is_htmx(request) and fingerprint is not None and request.query_params.get("fp") == fingerprint:
        return Response(status_code=204, headers={"Vary": "HX-Request"})
    view = await read(request, queries.get_round_console, session_id, round_id)
    found = view.round
    context = {"view": view, "session": view.session, "group": view.group, "round": found,
               "progress": view.progress, "outcomes": view.outcomes, "fingerprint": fingerprint,
               "rule": view.rule, "options": view.options, "methods": rounds.METHODS,
               "errors": errors or {}, "values": values or {}, "unsent_warning": unsent,
               # Sessions this round can be copied into (not needed by the polled fragment).
               "copy_targets": [] if is_htmx(request) else await read(request, queries.list_copy_targets, session_id),
               **(results_context(view.results) if view.results else {})}
    return render(request, "rounds/console.html", context, fragment="rounds/_progress.html", status_code=status_code)


@auth.requires(*auth.STAFF)
async def round_console(request: Request) -> Response:
    return await round_page(request)


def _action(service, *extra: object):  # type: ignore[no-untyped-def]
    @auth.requires(*auth.FACILITATORS)
    async def handler(request: Request) -> Response:
        session_id, round_id = _ids(request)
        await write(request, service, auth.current_user(request), session_id, round_id, *extra)
        return redirect(request, _round_url(request))

    return handler


@auth.requires(*auth.FACILITATORS)
async def open_round(request: Request) -> Response:
    """Open, after the facilitator has seen which groups are too small to show (and may set the
    smallest group to show for this round)."""
    session_id, round_id = _ids(request)
    form = await request.form()
    size, acknowledged = first_value(form, "min_group_size"), first_value(form, "acknowledge_small") == "yes"
    try:
        await write(request, rounds.open_round, auth.current_user(request), session_id, round_id,
                    min_group_size=size, acknowledge_small=acknowledged)
    except ValidationFailed as exc:
        return await round_page(request, errors=exc.errors, values={"min_group_size": size}, status_code=422)
    return redirect(request, _round_url(request))


@auth.requires(*auth.FACILITATORS)
async def close_round(request: Request) -> Response:
    """Close; if lists are unsent, say how many and ask again ("Close anyway")."""
    session_id, round_id = _ids(request)
    form = await request.form()
    try:
        await write(request, rounds.close_round, auth.current_user(request), session_id, round_id,
                    confirm_unsent=first_value(form, "confirm_unsent") == "yes")
    except rounds.UnsentLists as exc:
        return await round_page(request, status_code=409, unsent=exc.count)
    return redirect(request, _round_url(request))


@auth.requires(*auth.FACILITATORS)
async def reset(request: Request) -> Response:
    session_id, round_id = _ids(request)
    form = await request.form()
    reason = form.get("reason", "")
    try:
        await write(request, rounds.reset_round, auth.current_user(request), session_id, round_id,
                    reason if isinstance(reason, str) else "")
    except ValidationFailed as exc:
        return await round_page(request, errors=exc.errors, values={"reason": str(reason)}, status_code=422)
    return redirect(request, _round_url(request))


@auth.requires(*auth.FACILITATORS)
async def import_csv(request: Request) -> Response:
    session_id, round_id = _ids(request)
    text = ""
    name = "upload.csv"
    async with request.form() as form:  # closes the uploaded file's temporary copy
        upload = form.get("ballots")
        if upload is not None and not isinstance(upload, str):
            # The browser's file name is shown and audited: cleaned like any text, kept short.
            name = normalise_text(upload.filename)[:100] or name
            raw = await upload.read()
    if upload is not None and not isinstance(upload, str):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return await round_page(request, errors={"ballots": f"{name} is not UTF-8 text. Save it as CSV UTF-8."},
                                     status_code=422)
    try:
        # Read and checked first, with nothing locked; then saved (on SQLite votes wait only for that).
        checked = await read(request, round_import.check_import, session_id, round_id, text, name)
        report = await write(request, round_import.save_import, auth.current_user(request), session_id, round_id,
                             checked)
    except ValidationFailed as exc:
        return await round_page(request, errors=exc.errors, status_code=422)
    request.session["flash"] = report.describe()
    return redirect(request, _round_url(request))


async def _closed_results(request: Request) -> queries.RoundResults:
    """Results only once the round has closed, as on the console: nobody sees a running count."""
    session_id, round_id = _ids(request)
    found = await read(request, queries.get_round, session_id, round_id)
    if found.status != "closed":
        raise Conflict("Results can be downloaded once the round has closed.")
    return await read(request, queries.round_results, session_id, round_id)


@auth.requires(*auth.STAFF)
async def results_json(request: Request) -> Response:
    results = await _closed_results(request)
    session_id, round_id = _ids(request)
    document = await read(request, queries.results_document, session_id, round_id)
    return JSONResponse(document, headers={
        "Content-Disposition": f'attachment; filename="{_file_name(request, results, "results.json")}"'})


def _file_name(request: Request, results: queries.RoundResults, what: str) -> str:
    """A round's download, named with its session: two sessions' "round 1" files saved in one folder
    must not overwrite each other."""
    return f"session-{_ids(request)[0]}-round-{results.round.number}-{what}"


def _csv_download(text: str, name: str) -> Response:
    """A CSV download as Excel opens it: UTF-8 with a byte order mark (without one, Excel reads the
    file as the machine's legacy code page and "’" or "é" come out garbled). Only the HTTP download
    gets the mark: `codesign tally` and `codesign results` print plain UTF-8 for other tools."""
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@auth.requires(*auth.STAFF)
async def reasons_csv(request: Request) -> Response:
    """The reasons people gave for their answers in a feedback round, by outcome and group."""
    results = await _closed_results(request)
    reasons = await read(request, queries.list_change_reasons, results.round)
    buffer = io.StringIO()
    write_reasons_csv(reasons, buffer)
    return _csv_download(buffer.getvalue(), _file_name(request, results, "reasons.csv"))


@auth.requires(*auth.STAFF)
async def results_csv(request: Request) -> Response:
    results = await _closed_results(request)
    buffer = io.StringIO()
    write_round_results_csv(results, buffer)
    return _csv_download(buffer.getvalue(), _file_name(request, results, "results.csv"))


@auth.requires(*auth.STAFF)
async def ballots_csv(request: Request) -> Response:
    """Every answer, one row each, with a pseudonymous voter id (export/ballots_csv.py): for analysts."""
    results = await _closed_results(request)
    rows = await read(request, queries.list_ballot_rows, results.round)
    buffer = io.StringIO()
    write_ballots_csv(rows, round_id=results.round.id or 0, method=results.round.method, labels=results.labels,
                      key=pseudonym_key(request.app.state.settings.secret_key), stream=buffer)
    return _csv_download(buffer.getvalue(), _file_name(request, results, "answers.csv"))


def tally_ballots_download(found: TallyFile, voter: Callable[[str], str]) -> Response:
    """The ballots in `codesign tally`'s format (export/tally_ballots.py), as a CSV download."""
    buffer = io.StringIO()
    write_tally_ballots(found.frame, found.results.round.method, outcomes=outcome_names(found.labels), voter=voter,
                        stream=buffer)
    return _csv_download(buffer.getvalue(), found.name)


@auth.requires(*auth.STAFF)
async def tally_csv(request: Request) -> Response:
    """The counted ballots, to recount with `codesign tally` (pseudonyms as in answers.csv)."""
    found = await read(request, round_tally_file, *_ids(request))
    return tally_ballots_download(found, round_voter(pseudonym_key(request.app.state.settings.secret_key), found.id))


@auth.requires(*auth.STAFF)
async def round_projector(request: Request) -> Response:
    session_id, round_id = _ids(request)
    fingerprint = await read(request, queries.round_poll_fingerprint, session_id, round_id)
    if is_htmx(request) and fingerprint is not None and request.query_params.get("fp") == fingerprint:
        return Response(status_code=204, headers={"Vary": "HX-Request"})
    found = await read(request, queries.get_round, session_id, round_id)
    session, _group = await read(request, queries.get_session_and_group, session_id)
    progress = await read(request, queries.round_progress, found)
    results = await read(request, queries.round_results, session_id, round_id) if found.revealed else None
    page = parse_id(request.query_params.get("page", "")) or 1
    # The room is a public audience: groups below the minimum size are not shown on the big screen.
    shown = paginate(results_context(results, public=True), page, PROJECTOR_PAGE_SIZE) if results else {}
    context = {"session": session, "round": found, "progress": progress, "fingerprint": fingerprint,
               "methods": rounds.METHODS, **shown}
    return render(request, "rounds/projector.html", context, fragment="rounds/_projector_live.html")


ROUND = "/sessions/{session_id:id}/rounds/{round_id:id}"
routes = [
    Route("/sessions/{session_id:id}/rounds/new", new_round, methods=["GET", "POST"], name="new_round"),
    Route(ROUND, round_console, name="round"),
    Route(ROUND + "/open", open_round, methods=["POST"], name="open_round"),
    Route(ROUND + "/close", close_round, methods=["POST"], name="close_round"),
    Route(ROUND + "/reveal", _action(rounds.set_revealed, True), methods=["POST"], name="reveal_round"),
    Route(ROUND + "/hide", _action(rounds.set_revealed, False), methods=["POST"], name="hide_round"),
    Route(ROUND + "/reset", reset, methods=["POST"], name="reset_round"),
    Route(ROUND + "/import", import_csv, methods=["POST"], name="import_round"),
    Route(ROUND + "/results.json", results_json, name="round_results_json"),
    Route(ROUND + "/results.csv", results_csv, name="round_results_csv"),
    Route(ROUND + "/reasons.csv", reasons_csv, name="round_reasons_csv"),
    Route(ROUND + "/answers.csv", ballots_csv, name="round_ballots_csv"),
    Route(ROUND + "/ballots.csv", tally_csv, name="round_tally_csv"),
    Route(ROUND + "/projector", round_projector, name="round_projector"),
]
