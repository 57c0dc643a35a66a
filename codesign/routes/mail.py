"""A panel's mail (staff only): how many messages are waiting, sent, failed or cancelled; each
failure with its error and "Try again"; and who unsubscribed. Addresses are not shown here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign.mail import outbox
from codesign.queries import online as queries
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.templating import render

FLASH = "mail_flash"


@auth.requires(*auth.STAFF)
async def panel_mail(request: Request) -> Response:
    view = await read(request, queries.panel_mail, request.path_params["panel_id"])
    return render(request, "online/mail.html", {"view": view, "flash": request.session.pop(FLASH, None)})


@auth.requires(*auth.FACILITATORS)
async def retry(request: Request) -> Response:
    panel_id, message_id = request.path_params["panel_id"], request.path_params["message_id"]
    await request.form()
    await write(request, outbox.retry, auth.current_user(request), panel_id, message_id)
    request.session[FLASH] = f"Message {message_id} will be tried again within a minute."
    return redirect(request, str(request.url_for("panel_mail", panel_id=panel_id)))


routes = [
    Route("/panels/{panel_id:id}/mail", panel_mail, name="panel_mail"),
    Route("/panels/{panel_id:id}/mail/{message_id:id}/retry", retry, methods=["POST"], name="retry_mail"),
]
