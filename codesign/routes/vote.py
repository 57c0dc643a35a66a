"""Participant voting pages, one method each, built for touch. Every answer POST carries the
device-made key (a hidden field the page sets; our script retries with the same key); every change
to a ranking or points list carries the version of the list the page showed."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import Participant, Round, RoundStatus, WorkshopSession
from codesign.queries.voting_page import ParticipantRound
from codesign.services import ballots, sessions
from codesign.validation import first_value
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.htmx import is_htmx, redirect
from codesign.web.list_news import ACTIONS, list_news
from codesign.web.results_view import results_context
from codesign.web.templating import render

# After an answer is saved, the next page says "Saved" (announced by the status region at its top)
# and puts keyboard focus on its heading. The flag rides in the signed session cookie, which is sent
# back on every response anyway, so it costs the hot path no database work and works without
# JavaScript (a plain form post) as well as with it (sendBallot's fetch keeps the cookie too).
SAVED = "saved"
# The next page's heading (id="question", or id="done" on the thank-you page, with tabindex="-1").
# A URL fragment rather than autofocus: it applies only on arrival after an answer, not to someone
# who opens a question from a link, and browsers focus a focusable fragment target on a full
# navigation with or without our script; app.js also focuses it where a browser only scrolls (or
# when the next pair is the same URL, which it reloads).
NEXT_QUESTION, THANKS = "#question", "#done"
# A tap on a ranking or points list (Add, Move up, +...) changes the list in place: with htmx the
# POST redirects to the list's fragment (?part=list), which replaces only the list, so the page does
# not jump to the top; without JavaScript it redirects to the page at the tapped outcome's row.
# What the tap did rides to that next GET in the signed session cookie (as SAVED does) and is said
# in the page's status region there ("Moved X to position 3").
NEWS = "list_news"
LIST_PART = {"ranking": "vote/_ranking_area.html", "points": "vote/_points_area.html"}


async def _context(request: Request) -> tuple[WorkshopSession, Participant, Round] | Response:
    joined = await auth.joined(request)
    if joined is None:  # the same answer whether or not the code exists (web.auth)
        return redirect(request, auth.code_form_url(request))
    session, participant = joined
    found = await read(request, queries.get_round, session.id or 0, request.path_params["round_id"])
    if found.status == RoundStatus.draft:
        raise NotFound("This round has not opened yet.")
    return session, participant, found


def _url(request: Request, name: str, session: WorkshopSession, found: Round, **params: object) -> str:
    return str(request.url_for(name, code=session.join_code, round_id=found.id, **params))


def _page(request: Request, template: str, view: ParticipantRound, session: WorkshopSession,
          status_code: int = 200, fragment: str | None = None, **extra: object) -> Response:
    context = {"view": view, "session": session, "key": uuid.uuid4().hex, "errors": {}, "values": {},
               "version": view.draft_version, "flash": request.session.pop("flash", None),
               "saved": bool(request.session.pop(SAVED, False)), "news": _news(request, view),
               "part": fragment is not None and is_htmx(request), **extra}
    if view.results is not None:
        context.update(results_context(view.results, public=True))
    return render(request, template, context, fragment=fragment, status_code=status_code)


def _news(request: Request, view: ParticipantRound) -> str:
    """What the last tap on this list did, said once (see NEWS)."""
    tapped = request.session.pop(NEWS, None)
    if not isinstance(tapped, list) or len(tapped) != 2 or not isinstance(tapped[1], int):
        return ""
    return list_news(view.round.method, str(tapped[0]), tapped[1], list(view.outcomes), view.draft, view.dots_left)


async def round_home(request: Request) -> Response:
    """Where 'Vote now' leads: the next thing to do in this round."""
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    view = await read(request, queries.get_participant_round, found, participant)
    if found.status == RoundStatus.closed:
        return _page(request, "vote/closed.html", view, session)
    if found.method == "rating":
        position = next((i for i, o in enumerate(view.outcomes, 1) if o.id not in view.answers), None)
        if position is None:
            return redirect(request, _url(request, "vote_done", session, found))
        return redirect(request, _url(request, "vote_question", session, found, n=position))
    template = {"ranking": "vote/ranking.html", "points": "vote/points.html", "pairwise": "vote/pairwise.html"}
    part = LIST_PART.get(found.method) if request.query_params.get("part") == "list" else None
    return _page(request, template[found.method], view, session, fragment=part)


async def question(request: Request) -> Response:
    """Rating: one outcome per screen, 1-9 buttons and 'I cannot score this'."""
    if request.method == "POST":
        return await answer(request)
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    view = await read(request, queries.get_participant_round, found, participant)
    n = int(request.path_params["n"])
    if found.method != "rating" or not 1 <= n <= len(view.outcomes):
        raise NotFound("No such question")
    if found.status == RoundStatus.closed:
        return _page(request, "vote/closed.html", view, session)
    outcome = view.outcomes[n - 1]
    assert outcome.id is not None
    return _page(request, "vote/rating.html", view, session, n=n, outcome=outcome,
                 feedback=view.feedback.get(outcome.id))


async def answer(request: Request) -> Response:
    """POST of one rating: the hot path, one database transaction (ballots.record_rating).
    Only refusals, which are rare, take the slower path that renders a page."""
    code = auth.path_code(request)
    round_id, n = int(request.path_params["round_id"]), int(request.path_params["n"])
    form = await request.form()
    if code is None:  # cannot be a code: never sent to the database
        return redirect(request, auth.code_form_url(request))
    try:
        saved = await write(request, ballots.record_rating, code, auth.participant_tokens(request), round_id, n,
                            first_value(form, "value"), first_value(form, "key"), first_value(form, "reason"))
    except ballots.NotJoined:
        return redirect(request, auth.code_form_url(request))
    except (ValidationFailed, Conflict) as exc:
        return await _refused(request, n, exc)
    request.session[SAVED] = True
    # This request's own path, less "/q/<n>", is the round's URL (cheaper than url_for on a hot path).
    base = request.url.path.rsplit("/q/", 1)[0]
    if first_value(form, "then") == "done" or saved.next_position is None:
        return redirect(request, base + "/done" + THANKS)
    return redirect(request, f"{base}/q/{saved.next_position}{NEXT_QUESTION}")


async def _refused(request: Request, n: int, exc: ValidationFailed | Conflict) -> Response:
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    view = await read(request, queries.get_participant_round, found, participant)
    if isinstance(exc, Conflict) or not 1 <= n <= len(view.outcomes):
        return _page(request, "vote/closed.html", view, session, status_code=409, message=str(exc))
    outcome = view.outcomes[n - 1]
    return _page(request, "vote/rating.html", view, session, status_code=422, n=n, outcome=outcome,
                 feedback=view.feedback.get(outcome.id or 0), errors=exc.errors, values=exc.values)


async def done(request: Request) -> Response:
    """Thank you, what happens next, and every answer with a link to change it while open."""
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    view = await read(request, queries.get_participant_round, found, participant)
    return _page(request, "vote/done.html", view, session)


def _whole(text: str) -> int | None:
    """A non-negative whole number in ASCII digits (at most 9), or None: never int() of "²"."""
    text = text.strip()
    return int(text) if 0 < len(text) <= 9 and text.isascii() and text.isdecimal() else None


def _parse_draft(form: dict[str, str], method: str) -> dict[int, int]:
    """The state the tapped button asked for: `order=12,5,7` (ranking) or `set=OUTCOME:DOTS` on top
    of the current allocation `alloc=12:3,5:1` (points). Anything unreadable is left out, and the
    service then refuses the list as out of date."""
    if method == "ranking":
        ids = [i for i in (_whole(v) for v in form.get("order", "").split(",")) if i is not None]
        return {outcome: position for position, outcome in enumerate(ids, start=1)}
    draft: dict[int, int] = {}
    for part in form.get("alloc", "").split(","):
        outcome, _, dots = part.partition(":")
        key, value = _whole(outcome), _whole(dots)
        if key is not None and value is not None:
            draft[key] = value
    outcome, _, dots = form.get("set", "").partition(":")
    key = _whole(outcome)
    value = -1 if dots.strip() == "-1" else _whole(dots)
    if key is not None and value is not None:
        draft[key] = value
    return draft


async def _refusal(request: Request, exc: ValidationFailed | Conflict, template: str, session: WorkshopSession,
                   participant: Participant, found: Round, fragment: str | None = None) -> Response:
    """An answer not taken: the page again with the reason and what was typed (422), or, when it
    cannot be taken at all (the round closed, a device already at a table), a page that says so (409).
    `fragment`: a list tapped with htmx gets its list back (the list as it is now, with the reason),
    or, when there is no list to show, goes to the round's page, which says why."""
    view = await read(request, queries.get_participant_round, found, participant)
    if isinstance(exc, ValidationFailed):
        return _page(request, template, view, session, status_code=422, errors=exc.errors, values=exc.values,
                     fragment=fragment)
    if isinstance(exc, ballots.StaleDraft):  # the list as it is now, with what happened
        return _page(request, template, view, session, status_code=409, errors={"ballot": str(exc)},
                     fragment=fragment)
    if fragment is not None and is_htmx(request):
        return redirect(request, _url(request, "vote_round", session, found))
    return _page(request, "vote/closed.html", view, session, status_code=409, message=str(exc))


async def draft(request: Request) -> Response:
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    template = "vote/ranking.html" if found.method == "ranking" else "vote/points.html"
    part = LIST_PART.get(found.method)
    try:
        saved = await write(request, ballots.set_draft, found.id or 0, participant.id or 0,
                            _parse_draft(form, found.method), form.get("version"))
    except (ValidationFailed, Conflict) as exc:
        return await _refusal(request, exc, template, session, participant, found, fragment=part)
    url = _url(request, "vote_round", session, found)
    # The tapped button's action says what it did and to which outcome (?did=up&o=12).
    did, tapped = request.query_params.get("did", ""), _whole(request.query_params.get("o", ""))
    anchor = "ballot"
    if did in ACTIONS and tapped is not None:
        request.session[NEWS] = [did, tapped]
        anchor = f"o-{tapped}" if found.method == "points" else f"{'ranked' if tapped in saved else 'other'}-{tapped}"
    return redirect(request, f"{url}#{anchor}", fragment_url=f"{url}?part=list")


async def submit(request: Request) -> Response:
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    form = await request.form()
    template = "vote/ranking.html" if found.method == "ranking" else "vote/points.html"
    try:
        await write(request, ballots.submit_draft, found.id or 0, participant.id or 0, first_value(form, "key"),
                    first_value(form, "version") or None)
    except (ValidationFailed, Conflict) as exc:
        return await _refusal(request, exc, template, session, participant, found)
    request.session[SAVED] = True
    return redirect(request, _url(request, "vote_done", session, found) + THANKS)


async def table(request: Request) -> Response:
    """A participant who joined without a table number gives one, to vote in a table round."""
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    form = await request.form()
    try:
        await write(request, sessions.set_table_number, participant.id or 0, first_value(form, "table_number"))
    except (ValidationFailed, Conflict) as exc:
        return await _refusal(request, exc, "vote/ranking.html", session, participant, found)
    return redirect(request, _url(request, "vote_round", session, found))


async def pair(request: Request) -> Response:
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    form = await request.form()
    left, right = _whole(first_value(form, "left")), _whole(first_value(form, "right"))
    try:
        await write(request, ballots.answer_pair, found.id or 0, participant.id or 0, left or 0, right or 0,
                    first_value(form, "choice"), first_value(form, "key"))
    except (ValidationFailed, Conflict) as exc:
        return await _refusal(request, exc, "vote/pairwise.html", session, participant, found)
    request.session[SAVED] = True
    return redirect(request, _url(request, "vote_round", session, found) + NEXT_QUESTION)


async def finish(request: Request) -> Response:
    """"I have finished": a rating round with questions left unanswered, or a pairwise round."""
    got = await _context(request)
    if isinstance(got, Response):
        return got
    session, participant, found = got
    form = await request.form()
    try:
        await write(request, ballots.finish, found.id or 0, participant.id or 0, first_value(form, "key"))
    except (ValidationFailed, Conflict) as exc:
        return await _refusal(request, exc, "vote/done.html", session, participant, found)
    request.session[SAVED] = True
    return redirect(request, _url(request, "vote_done", session, found) + THANKS)


ROUND = "/s/{code}/rounds/{round_id:id}"
routes = [
    Route(ROUND, round_home, name="vote_round"),
    Route(ROUND + "/q/{n:id}", question, methods=["GET", "POST"], name="vote_question"),
    Route(ROUND + "/done", done, name="vote_done"),
    Route(ROUND + "/draft", draft, methods=["POST"], name="vote_draft"),
    Route(ROUND + "/submit", submit, methods=["POST"], name="vote_submit"),
    Route(ROUND + "/table", table, methods=["POST"], name="vote_table"),
    Route(ROUND + "/pair", pair, methods=["POST"], name="vote_pair"),
    Route(ROUND + "/finish", finish, methods=["POST"], name="vote_finish"),
]
