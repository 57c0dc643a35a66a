"""Jinja2 set-up (our templates first, then the NHS.UK frontend macros) and the render helper."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import BytecodeCache, ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from jinja2.bccache import Bucket
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from codesign import paths, permissions
from codesign.contract.money import format_pence
from codesign.naming import round_label
from codesign.uk_time import uk_clock, uk_datetime
from codesign.web import text_size
from codesign.web.csrf import csrf_token
from codesign.web.htmx import is_htmx


@lru_cache(maxsize=256)
def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(request: Request, path: str) -> str:
    """URL of a file in static/, with a content hash so it can be cached for a year."""
    url = str(request.app.url_path_for("static", path=path))
    file = paths.STATIC / path
    return f"{url}?v={_file_hash(file)}" if file.is_file() else url


def back_url(request: Request) -> str:
    """The page a refused request came from, on this site (its Referer; the app sends one only to
    itself), so an error page can offer the way back rather than only the start page."""
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.scheme not in ("http", "https") or parts.netloc != request.url.netloc:
        return ""
    if not parts.path.startswith("/") or parts.path.startswith("//") or parts.path == request.url.path:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _context(request: Request) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token(request),
        "current_user": request.scope.get("codesign.user"),
        "settings": request.app.state.settings,
        "is_htmx": is_htmx(request),
        "cspNonce": request.scope.get("codesign.csp_nonce", ""),
        "static_url": lambda path: static_url(request, path),
        "large_text": text_size.is_large(request),
    }


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the life of the process, so every app it makes (a test makes one
    each) loads a template without lexing and compiling it again: 0.85 s for all of them here.
    Keyed by name and checked against the source's checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def make_templates(directory: Path = paths.TEMPLATES, *, auto_reload: bool = True) -> Jinja2Templates:
    """`auto_reload`: look at each template file's time on every use, for editing while it runs."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(directory), PackageLoader("nhsuk_frontend_jinja")]),
        bytecode_cache=_COMPILED,
        auto_reload=auto_reload,
        undefined=ChainableUndefined,  # the NHS.UK macros read optional nested params
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates = Jinja2Templates(env=env, context_processors=[_context])
    env.filters["plural"] = plural
    env.filters["fromjson"] = json.loads
    env.filters["pence"] = format_pence
    env.filters["round_label"] = round_label  # "Round 2: with feedback", never "Round 2: Round 2: ..."
    env.globals["error_list"] = error_list
    env.filters["seconds_left"] = seconds_left
    env.filters["uk_datetime"] = uk_datetime  # online round windows, in UK time (codesign.uk_time)
    env.filters["uk_clock"] = uk_clock
    env.globals["can"] = permissions.can  # {% if can(current_user, "run_workshop") %}: who may do what
    env.globals["can_approve"] = permissions.can_approve
    env.globals["field_error"] = field_error
    env.globals["back_url"] = back_url
    env.filters["role_option"] = lambda role, selected: {"value": role, "text": role.capitalize(),
                                                         "selected": role == selected}
    return templates


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def error_list(errors: Mapping[str, str], ids: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """NHS.UK error summary items: each message links to its field (id = field name by default)."""
    ids = ids or {}
    return [{"text": message, "href": "#" + ids.get(field, field)} for field, message in errors.items()]


def field_error(errors: Mapping[str, str], field: str) -> dict[str, str] | None:
    """The errorMessage parameter of an NHS.UK form macro, or None when the field is fine."""
    message = errors.get(field)
    return {"text": message} if message else None


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render `template`, or `fragment` when htmx asked; responses vary on HX-Request."""
    templates: Jinja2Templates = request.app.state.templates
    name = fragment if fragment is not None and is_htmx(request) else template
    response = templates.TemplateResponse(request, name, dict(context or {}), status_code=status_code)
    if headers:
        response.headers.update(headers)
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def seconds_left(ends: datetime | None) -> int:
    """Whole seconds from now until `ends` (0 when past or unset); naive times are UTC (SQLite)."""
    if ends is None:
        return 0
    if ends.tzinfo is None:
        ends = ends.replace(tzinfo=UTC)
    return max(0, int((ends - datetime.now(UTC)).total_seconds()))
