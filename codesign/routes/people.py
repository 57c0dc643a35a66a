"""The facilitator's people list for a session: who joined, their group and table, how far each got
in every round; and on each person's page, fixing the room's mistakes (services.people)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import ValidationFailed
from codesign.services import people
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import redirect
from codesign.web.paging import page_number, search_text
from codesign.web.templating import render

FLASH = "people_flash"


@auth.requires(*auth.STAFF)
async def people_list(request: Request) -> Response:
    """One page of the session's people (?page=), found by ?q= (number, name or ballot-file
    reference), ?group= (a stakeholder group's key) and ?who= (room, left, imported)."""
    view = await read(request, queries.get_people, request.path_params["session_id"], search=search_text(request),
                      group=search_text(request, "group"), who=search_text(request, "who"),
                      page=page_number(request))
    return render(request, "people/list.html", {"view": view, "flash": request.session.pop(FLASH, None)})


async def _person_page(request: Request, *, form: str = "", values: dict[str, object] | None = None,
                       errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    view = await read(request, queries.get_person, request.path_params["session_id"],
                      request.path_params["participant_id"])
    return render(request, "people/person.html",
                  {"view": view, "form": form, "values": values or {}, "errors": errors or {}},
                  status_code=status_code)


@auth.requires(*auth.STAFF)
async def person(request: Request) -> Response:
    return await _person_page(request)


Action = Callable[[Request, dict[str, str]], Awaitable[str]]


def _form_action(name: str, act: Action) -> auth.Endpoint:
    """A form on the person's page: on error that page again with the form's errors (422); on
    success back to the list, which says what happened."""

    @auth.requires(*auth.FACILITATORS)
    async def handler(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
        try:
            done = await act(request, form)
        except ValidationFailed as exc:
            return await _person_page(request, form=name, values={**form, **exc.values}, errors=exc.errors,
                                      status_code=422)
        request.session[FLASH] = done
        return redirect(request, str(request.url_for("people", session_id=request.path_params["session_id"])))

    return handler


def _args(request: Request) -> tuple[int, int]:
    return request.path_params["session_id"], request.path_params["participant_id"]


async def _edit(request: Request, form: dict[str, str]) -> str:
    found = await write(request, people.edit_person, auth.current_user(request), *_args(request), form)
    return f"Saved the changes to {queries.participant_label(found)}."


async def _remove(request: Request, form: dict[str, str]) -> str:
    found = await write(request, people.remove_person, auth.current_user(request), *_args(request),
                        form.get("reason", ""), form.get("answers", ""))
    return f"{queries.participant_label(found)} has been removed from the session."


async def _merge(request: Request, form: dict[str, str]) -> str:
    done = await write(request, people.merge_people, auth.current_user(request), *_args(request), form)
    into, twice = queries.participant_label(done.person), queries.participant_label(done.duplicate)
    dropped = (f"{done.dropped} of {twice}’s answers were dropped because {into} had already answered those "
               "questions." if done.dropped else f"None of {twice}’s answers were dropped.")
    return f"{twice} is now part of {into}: {done.moved} answers moved. {dropped}"


PERSON = "/sessions/{session_id:id}/people/{participant_id:id}"
routes = [
    Route("/sessions/{session_id:id}/people", people_list, name="people"),
    Route(PERSON, person, name="person"),
    Route(PERSON + "/edit", _form_action("edit", _edit), methods=["POST"], name="edit_person"),
    Route(PERSON + "/remove", _form_action("remove", _remove), methods=["POST"], name="remove_person"),
    Route(PERSON + "/merge", _form_action("merge", _merge), methods=["POST"], name="merge_person"),
]
