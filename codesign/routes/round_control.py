"""Facilitator pages for undoing round mistakes: edit or delete a draft, reopen, copy elsewhere."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import ValidationFailed
from codesign.routes.rounds import ROUND, _form_dict, _ids, _round_url, new_round_page, round_page
from codesign.services import round_control, rounds
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect


@auth.requires(*auth.FACILITATORS)
async def edit_round(request: Request) -> Response:
    """The "new round" form, filled in with the draft round's settings (409 once it has opened)."""
    session_id, round_id = _ids(request)
    found, values = await read(request, queries.draft_round_values, session_id, round_id)
    context = {"view": await read(request, queries.get_console, session_id),
               "rounds": [r for r in await read(request, queries.list_rounds, session_id) if r.id != round_id],
               "methods": rounds.METHODS, "combines": rounds.COMBINES, "orders": rounds.ORDER_CHOICES,
               "values": values, "errors": {}, "editing": found, "focus": None,
               "feedback": await read(request, queries.get_feedback_source, session_id, values["feedback_round_id"])}
    if request.method == "GET":
        return new_round_page(request, context)
    form = _form_dict(await request.form())
    if "move" in form:  # "Move up" / "Move down": the same form again in the new order; nothing is saved
        view = context["view"]
        arranged, focus = rounds.move_outcome(
            rounds.arrange([o.id for o in view.accepted if o.id is not None], form.get("arrangement", "")),  # type: ignore[attr-defined]
            form["move"])
        form["arrangement"] = ",".join(map(str, arranged))
        context.update(values=form, focus=focus)
        return new_round_page(request, context)
    try:
        await write(request, round_control.update_round, auth.current_user(request), session_id, round_id, form)
    except ValidationFailed as exc:
        context.update(values=form, errors=exc.errors, feedback=await read(
            request, queries.get_feedback_source, session_id, form.get("feedback_round_id", "")))
        return new_round_page(request, context, 422)
    return redirect(request, _round_url(request))


@auth.requires(*auth.FACILITATORS)
async def delete_round(request: Request) -> Response:
    session_id, round_id = _ids(request)
    await write(request, round_control.delete_round, auth.current_user(request), session_id, round_id)
    request.session["flash"] = "The draft round was deleted. Its settings are kept in the audit log."
    return redirect(request, str(request.url_for("console", session_id=session_id)))


@auth.requires(*auth.FACILITATORS)
async def reopen_round(request: Request) -> Response:
    session_id, round_id = _ids(request)
    reason = first_value(await request.form(), "reopen_reason")
    try:
        await write(request, round_control.reopen_round, auth.current_user(request), session_id, round_id, reason)
    except ValidationFailed as exc:
        # The reset form on the same page has its own "reason": this one is named apart.
        return await round_page(request, errors={"reopen_reason": exc.errors.get("reason", str(exc))},
                                 values={"reopen_reason": reason}, status_code=422)
    return redirect(request, _round_url(request))


@auth.requires(*auth.FACILITATORS)
async def duplicate_round(request: Request) -> Response:
    session_id, round_id = _ids(request)
    target = first_value(await request.form(), "target_session")
    try:
        copy = await write(request, round_control.duplicate_round, auth.current_user(request), session_id, round_id,
                           target)
    except ValidationFailed as exc:
        return await round_page(request, errors=exc.errors, values={"target_session": target}, status_code=422)
    request.session["flash"] = "This round is a copy, made as a draft: check it, then open it when the room is ready."
    return redirect(request, str(request.url_for("round", session_id=copy.session_id, round_id=copy.id)))


routes = [
    Route(ROUND + "/edit", edit_round, methods=["GET", "POST"], name="edit_round"),
    Route(ROUND + "/delete", delete_round, methods=["POST"], name="delete_round"),
    Route(ROUND + "/reopen", reopen_round, methods=["POST"], name="reopen_round"),
    Route(ROUND + "/duplicate", duplicate_round, methods=["POST"], name="duplicate_round"),
]
