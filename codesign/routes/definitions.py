"""Measurement definitions (one per shortlisted outcome) and the payment page (terms, weights, preview)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from codesign import queries
from codesign.contract import definition as defs
from codesign.contract import report
from codesign.contract.money import parse_percent_bp
from codesign.errors import NotFound, ValidationFailed
from codesign.library import indicator_library, suggest_indicators
from codesign.services import definition_evidence, shortlist
from codesign.services import framework_versions as versions
from codesign.validation import parse_id
from codesign.web import auth
from codesign.web.dbcall import read, write
from codesign.web.evidence_view import evidence_panel
from codesign.web.htmx import redirect
from codesign.web.payment_view import payment_preview
from codesign.web.templating import render


def _ids(request: Request) -> tuple[int, int]:
    return int(request.path_params["version_id"]), int(request.path_params["item_id"])


async def _definition_page(request: Request, *, errors: dict[str, str] | None = None,
                           values: dict[str, object] | None = None, status_code: int = 200) -> Response:
    version_id, item_id = _ids(request)
    view = await read(request, queries.get_version_view, version_id)
    item = next((i for i in view.items + view.excluded if i.item.id == item_id), None)
    if item is None:
        raise NotFound("No such outcome in this framework")
    definition = item.definition
    if values:  # re-rendering a refused form: show what was typed
        definition = {**definition, **{k: v for k, v in values.items() if k in defs.BY_NAME}}
        definition["targets"] = [{"year": t["year"], "value": values.get(f"target-{i}", t["value"])}
                                 for i, t in enumerate(item.definition["targets"])]
    suggestions = suggest_indicators(item.outcome.statement, item.outcome.library_key, view.group.template_slug)
    evidence = await read(request, queries.definition_evidence, version_id, item_id)
    # Drawing the charts is CPU work: off the event loop, as the database reads are.
    panel = await run_in_threadpool(evidence_panel, evidence, [t["year"] for t in item.definition["targets"]],
                                    item.definition)
    return render(request, "framework/definition.html", {
        "view": view, "item": item, "definition": definition, "fields": defs.FIELDS, "sections": defs.SECTIONS,
        "labels": {"indicator_type": defs.INDICATOR_TYPES, "unit": defs.UNITS, "direction": defs.DIRECTIONS,
                   "achievement": defs.ACHIEVEMENT, "payment_thresholds": defs.PAYMENT_THRESHOLDS},
        "choices": {f.name: defs.choices_for(f, view.group.template_slug, definition.get(f.name, ""))
                    for f in defs.FIELDS if f.kind == "choice"},
        "suggestions": suggestions, "errors": errors or {}, "flash": request.session.pop("flash", None),
        "evidence": evidence, "panel": panel, "frozen": bool(view.version.snapshot_json),
    }, status_code=status_code)


@auth.requires(*auth.STAFF)
async def definition_page(request: Request) -> Response:
    return await _definition_page(request)


@auth.requires(*auth.COMMISSIONERS)
async def save_definition(request: Request) -> Response:
    version_id, item_id = _ids(request)
    raw = await request.form()
    form: dict[str, object] = {k: v for k, v in raw.items() if isinstance(v, str)}
    form["breakdowns"] = [v for v in raw.getlist("breakdowns") if isinstance(v, str)]
    try:
        missing = await write(request, shortlist.save_definition, auth.current_user(request), version_id, item_id, form)
    except ValidationFailed as exc:
        return await _definition_page(request, errors=exc.errors, values=form, status_code=422)
    request.session["flash"] = ("Saved. " + (f"Still to fill in: {', '.join(missing)}." if missing
                                              else "This definition is complete."))
    return redirect(request, str(request.url_for("definition", version_id=version_id, item_id=item_id)))


@auth.requires(*auth.COMMISSIONERS)
async def use_indicator(request: Request) -> Response:
    version_id, item_id = _ids(request)
    form = await request.form()
    key = form.get("indicator")
    indicator = indicator_library().get(key if isinstance(key, str) else "")
    if indicator is None:
        return await _definition_page(request, errors={"indicator": "Choose one of the suggested indicators"},
                                      status_code=422)
    version = await read(request, queries.get_version, version_id)
    years = [y["label"] for y in queries.version_years(version)]
    await write(request, shortlist.apply_indicator, auth.current_user(request), version_id, item_id, indicator, years)
    request.session["flash"] = f"Filled in from “{indicator['name']}”. Check every field and add the local figures."
    return redirect(request, str(request.url_for("definition", version_id=version_id, item_id=item_id)))


@auth.requires(*auth.COMMISSIONERS)
async def use_evidence_baseline(request: Request) -> Response:
    """"Use this as the baseline" (and, with targets=yes, the suggested targets) from the linked data."""
    version_id, item_id = _ids(request)
    form = await request.form()
    with_targets = form.get("targets") == "yes"
    try:
        await write(request, definition_evidence.use_evidence_baseline, auth.current_user(request), version_id,
                    item_id, with_targets=with_targets)
    except ValidationFailed as exc:
        return await _definition_page(request, errors=exc.errors, status_code=422)
    request.session["flash"] = ("Baseline, comparator" + (" and targets" if with_targets else "")
                                + " filled in from the indicator data. Check them: you can change any of them.")
    return redirect(request, str(request.url_for("definition", version_id=version_id, item_id=item_id)))


async def _payment_page(request: Request, *, errors: dict[str, str] | None = None,
                        values: Mapping[str, object] | None = None, status_code: int = 200) -> Response:
    version_id = int(request.path_params["version_id"])
    view = await read(request, queries.get_version_view, version_id)
    level = parse_percent_bp(request.query_params.get("level", "50")) or 0
    return render(request, "framework/payment.html", {
        "view": view, "mechanisms": versions.MECHANISMS, "preview": payment_preview(view, level),
        "report_fields": report.FIELDS, "conflict_label": report.CONFLICT_LABEL,
        "level": level // 100, "errors": errors or {}, "values": values or {},
        "flash": request.session.pop("flash", None)}, status_code=status_code)


@auth.requires(*auth.STAFF)
async def payment_page(request: Request) -> Response:
    return await _payment_page(request)


@auth.requires(*auth.COMMISSIONERS)
async def save_terms(request: Request) -> Response:
    version_id = int(request.path_params["version_id"])
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        await write(request, versions.save_terms, auth.current_user(request), version_id, form)
    except ValidationFailed as exc:
        return await _payment_page(request, errors=exc.errors, values=form, status_code=422)
    request.session["flash"] = "Payment terms saved."
    return redirect(request, str(request.url_for("payment", version_id=version_id)))


@auth.requires(*auth.COMMISSIONERS)
async def save_weights(request: Request) -> Response:
    version_id = int(request.path_params["version_id"])
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        if form.get("action") == "suggest":
            await write(request, shortlist.suggest_weights, auth.current_user(request), version_id)
            request.session["flash"] = "Weights suggested from the combined scores. Adjust them as agreed."
        else:
            weights = {item_id: v for k, v in form.items()
                       if k.startswith("weight-") and (item_id := parse_id(k.removeprefix("weight-"))) is not None}
            await write(request, shortlist.save_weights, auth.current_user(request), version_id, weights)
            request.session["flash"] = "Payment weights saved."
    except ValidationFailed as exc:
        return await _payment_page(request, errors=exc.errors, values=form, status_code=422)
    return redirect(request, str(request.url_for("payment", version_id=version_id)) + "#weights")


ITEM = "/frameworks/{version_id:id}/outcomes/{item_id:id}"
routes = [
    Route(ITEM, definition_page, name="definition"),
    Route(ITEM, save_definition, methods=["POST"], name="save_definition"),
    Route(ITEM + "/indicator", use_indicator, methods=["POST"], name="use_indicator"),
    Route(ITEM + "/baseline-from-data", use_evidence_baseline, methods=["POST"], name="use_evidence_baseline"),
    Route("/frameworks/{version_id:id}/payment", payment_page, name="payment"),
    Route("/frameworks/{version_id:id}/payment/terms", save_terms, methods=["POST"], name="save_terms"),
    Route("/frameworks/{version_id:id}/payment/weights", save_weights, methods=["POST"], name="save_weights"),
]
