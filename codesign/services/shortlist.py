"""The shortlist of a draft framework, its measurement definitions and payment weights.

From a round's results the consensus-IN outcomes are preselected in rank order. Including an
outcome the computed result did not put in, or leaving out one it did, needs a reason, which is
kept and shown in every export.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from codesign.contract import definition as defs
from codesign.contract import money
from codesign.errors import NotFound, ValidationFailed
from codesign.models import (
    FrameworkVersion,
    Outcome,
    OutcomeStatus,
    Panel,
    PanelRound,
    Round,
    RoundStatus,
    ShortlistItem,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.naming import round_label
from codesign.queries.definition_evidence import unit_conflict
from codesign.queries.framework import get_version_view, version_years
from codesign.queries.pooled import pooled_view
from codesign.queries.rounds import round_results
from codesign.services import audit
from codesign.services.framework_versions import refuse_if_frozen
from codesign.validation import check_text, normalise_paragraphs
from codesign.voting.results import OutcomeResult


def _version(db: Session, actor: User, version_id: int, attempted: str) -> FrameworkVersion:
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    refuse_if_frozen(db, actor, version, attempted)
    return version


def _item(db: Session, version: FrameworkVersion, item_id: int) -> ShortlistItem:
    item = db.get(ShortlistItem, item_id)
    if item is None or item.version_id != version.id:
        raise NotFound("No such outcome in this framework")
    return item


def _log(db: Session, actor: User, version: FrameworkVersion, action: str, summary: str, **details: object) -> None:
    audit.record(db, actor, action, summary=summary, object_type="framework_version", object_id=version.id,
                 population_group_id=version.population_group_id, details=dict(details))


def build_from_round(db: Session, actor: User, version_id: int, round_id: int) -> int:
    """Take a closed round's results into the shortlist: every outcome with its computed rank and
    consensus; consensus-IN ones included in rank order. Outcomes already listed keep the decision
    made about them, and their computed result is updated. Returns how many were added."""
    version = _version(db, actor, version_id, "building the shortlist")
    found = db.get(Round, round_id)
    if found is None or found.status != RoundStatus.closed:
        raise ValidationFailed({"round": "Choose a closed round"})
    session = db.get(WorkshopSession, found.session_id)
    if session is None or session.population_group_id != version.population_group_id:
        # Another population group's votes were about other people: never this framework's evidence.
        raise ValidationFailed({"round": "Choose a round from a session of this population group"})
    results = round_results(db, found.session_id, round_id)
    if results.results is None:
        raise ValidationFailed({"round": "That round has no counted votes"})
    added = _take(db, version_id, found.method, results.results.outcomes, round_id, None)
    _log(db, actor, version, "shortlist.built", f"Shortlist of version {version.number} built from "
         f"{round_label(found)}: {added} outcomes added", round_id=round_id, added=added)
    db.commit()
    return added


def build_from_panel_round(db: Session, actor: User, version_id: int, panel_round_id: int) -> int:
    """As build_from_round, from a pooled round's results (every session's ballots, each person
    once: services.pooled), counted once its last member round closed."""
    version = _version(db, actor, version_id, "building the shortlist")
    found = db.get(PanelRound, panel_round_id)
    panel = db.get(Panel, found.panel_id) if found is not None else None
    if found is None or panel is None or panel.population_group_id != version.population_group_id:
        raise ValidationFailed({"round": "Choose a pooled round of this population group"})
    view = pooled_view(db, found.panel_id, panel_round_id)
    if view.pooled is None or view.pooled.results is None:
        raise ValidationFailed({"round": "That pooled round has not been counted yet: it is counted when the round "
                                         "has closed in every session"})
    added = _take(db, version_id, view.pooled.round.method, view.pooled.results.outcomes, None, panel_round_id)
    _log(db, actor, version, "shortlist.built", f"Shortlist of version {version.number} built from pooled round "
         f"{found.number} “{found.title}” of “{panel.name}”: {added} outcomes added",
         panel_round_id=panel_round_id, added=added)
    db.commit()
    return added


def _take(db: Session, version_id: int, method: str, outcomes: Sequence[OutcomeResult], round_id: int | None,
          panel_round_id: int | None) -> int:
    """Every outcome of a result with its computed rank and consensus; consensus-IN ones included
    in rank order. Outcomes already listed keep the decision made about them, but every item's
    computed fields are replaced: one not in this result has none ("Not voted"), so nothing on the
    page still shows another round's rank. A reason given against another round's result argued
    against figures no longer shown, so it is cleared wherever the computed result changed: where
    the decision still departs, the checklist asks for a reason again."""
    existing = {i.outcome_id: i for i in db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id))}
    last = int(db.exec(select(func.coalesce(func.max(ShortlistItem.position), 0)).where(
        ShortlistItem.version_id == version_id)).one())
    added = 0
    for result in outcomes:
        outcome_id = int(result.outcome)
        outcome = db.get(Outcome, outcome_id)
        if outcome is None or outcome.status != OutcomeStatus.accepted:
            continue
        item = existing.pop(outcome_id, None)
        if item is None:
            last += 1
            item = ShortlistItem(version_id=version_id, outcome_id=outcome_id, position=last,
                                 included=computed_in(method, result.consensus, result.rank))
            added += 1
        _recompute(db, item, round_id, panel_round_id, result.rank, result.score, result.consensus,
                   computed_in(method, result.consensus, result.rank))
    for item in existing.values():  # listed before, not in this result
        _recompute(db, item, None, None, None, None, None, False)
    _renumber(db, version_id)
    return added


def _recompute(db: Session, item: ShortlistItem, round_id: int | None, panel_round_id: int | None,
               rank: int | None, score: float | None, consensus: str | None, put_in: bool) -> None:
    before = (item.source_round_id, item.source_panel_round_id, item.computed_rank, item.computed_consensus,
              item.computed_in)
    if item.id is not None and before != (round_id, panel_round_id, rank, consensus, put_in):
        item.reason = ""
    item.source_round_id, item.source_panel_round_id = round_id, panel_round_id
    item.computed_rank, item.computed_score, item.computed_consensus = rank, score, consensus
    item.computed_in = put_in
    item.updated_at = utcnow()
    db.add(item)


TOP_N = 7  # NHS guidance (2016): 3 to 7 outcomes in an outcome-based contract


def computed_in(method: str, consensus: str | None, rank: int) -> bool:
    """What the computed result puts in: consensus IN for rating rounds (the rule declared before
    voting); the top seven of the combined list for ranking, points and pairwise, which have no
    consensus rule."""
    return consensus == "in" if method == "rating" else rank <= TOP_N


def _renumber(db: Session, version_id: int) -> None:
    db.flush()
    items = db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id)).all()
    ordered = sorted(items, key=lambda i: (not i.included, i.position, i.computed_rank or 10**6, i.id or 0))
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            item.position = position
            db.add(item)


def set_included(db: Session, actor: User, version_id: int, item_id: int, include: bool, reason: str) -> ShortlistItem:
    version = _version(db, actor, version_id, "changing the shortlist")
    item = _item(db, version, item_id)
    outcome = db.get(Outcome, item.outcome_id)
    assert outcome is not None
    why = normalise_paragraphs(reason)
    errors: dict[str, str] = {}
    departs = include != item.computed_in
    check_text(errors, "reason", why, label="the reason for departing from the computed result",
               required=departs, max_length=1000)
    if errors:
        raise ValidationFailed(errors, {"reason": reason, "item": str(item_id)})
    item.included = include
    item.reason = why if departs else ""
    if include:
        item.position = 10**6  # to the end of the included list
    else:
        item.payment_weight_bp = 0
    item.updated_at = utcnow()
    db.add(item)
    _renumber(db, version_id)
    verb = "included" if include else "left out"
    _log(db, actor, version, f"shortlist.{'included' if include else 'excluded'}",
         f"“{outcome.statement}” {verb}" + (f" against the computed result. Reason: {why}" if departs else ""),
         outcome_id=outcome.id, reason=why, departs=departs)
    db.commit()
    return item


def add_outcome(db: Session, actor: User, version_id: int, outcome_id: int, reason: str) -> ShortlistItem:
    """Add an accepted outcome that no round put on the shortlist (a departure: reason required).

    A refused add writes nothing: the new row is only flushed, and set_included commits it together
    with the decision or raises before any commit (the caller's session then rolls it back)."""
    version = _version(db, actor, version_id, "changing the shortlist")
    outcome = db.get(Outcome, outcome_id)
    if outcome is None or outcome.population_group_id != version.population_group_id:
        raise NotFound("No such outcome in this population group")
    if outcome.status != OutcomeStatus.accepted:
        raise ValidationFailed({"outcome": "Choose one of the options: only an accepted outcome can be added"},
                               {"outcome": str(outcome_id), "reason": reason})
    existing = db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id,
                                                   ShortlistItem.outcome_id == outcome_id)).first()
    if existing is None:
        existing = ShortlistItem(version_id=version_id, outcome_id=outcome_id, position=10**6, included=False)
        try:
            with db.begin_nested():  # a savepoint: another request adding the same outcome may win the race
                db.add(existing)
        except IntegrityError:
            existing = db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id,
                                                           ShortlistItem.outcome_id == outcome_id)).one()
    try:
        return set_included(db, actor, version_id, existing.id or 0, True, reason)
    except ValidationFailed as exc:  # shown on the "add" form, where it was typed, not on a listed row
        raise ValidationFailed(exc.errors, {"outcome": str(outcome_id), "reason": reason}) from None


def move(db: Session, actor: User, version_id: int, item_id: int, direction: str) -> None:
    version = _version(db, actor, version_id, "reordering the shortlist")
    item = _item(db, version, item_id)
    items = [i for i in db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id,
                                                            ShortlistItem.included == True)  # noqa: E712
                                .order_by(col(ShortlistItem.position)))]
    index = next((n for n, i in enumerate(items) if i.id == item.id), None)
    other = None if index is None else index + (-1 if direction == "up" else 1)
    if index is None or other is None or not 0 <= other < len(items):
        return
    items[index].position, items[other].position = items[other].position, items[index].position
    db.add(items[index])
    db.add(items[other])
    _log(db, actor, version, "shortlist.reordered", f"Shortlist order changed in version {version.number}",
         item_id=item_id, direction=direction)
    db.commit()


def save_weights(db: Session, actor: User, version_id: int, weights: Mapping[int, str]) -> None:
    """Payment weights in % (up to two decimals) per included item. They need not add to 100% to
    save (the checklist says so); each must be a valid percentage."""
    version = _version(db, actor, version_id, "changing payment weights")
    items = {i.id: i for i in db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id,
                                                                  ShortlistItem.included == True))}  # noqa: E712
    errors: dict[str, str] = {}
    parsed: dict[int, int] = {}
    for item_id, raw in weights.items():
        if item_id not in items:
            continue
        bp = money.parse_percent_bp(raw or "0")
        if bp is None:
            errors[f"weight-{item_id}"] = "Enter a percentage between 0 and 100 with at most two decimals, like 12.5"
        else:
            parsed[item_id] = bp
    if errors:
        raise ValidationFailed(errors, {f"weight-{k}": v for k, v in weights.items()})
    before = {k: items[k].payment_weight_bp for k in parsed}
    for item_id, bp in parsed.items():
        items[item_id].payment_weight_bp = bp
        db.add(items[item_id])
    _log(db, actor, version, "framework.weights_changed", f"Payment weights of version {version.number} changed "
         f"(now {sum(i.payment_weight_bp for i in items.values()) / 100:g}% in all)", before=before, after=parsed)
    db.commit()


def suggest_weights(db: Session, actor: User, version_id: int) -> list[int]:
    """Weights proportional to the combined scores, adding to 100%; measurability gaps get 0%."""
    version = _version(db, actor, version_id, "changing payment weights")
    items = list(db.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id,
                                                     ShortlistItem.included == True)  # noqa: E712
                         .order_by(col(ShortlistItem.position))))
    eligible = [not defs.is_gap(json.loads(i.definition_json or "{}")) for i in items]
    suggested = money.suggest_weights([i.computed_score for i in items], eligible)
    for item, bp in zip(items, suggested, strict=True):
        item.payment_weight_bp = bp
        db.add(item)
    _log(db, actor, version, "framework.weights_suggested", f"Payment weights of version {version.number} set "
         "from the combined scores (editable)", weights={i.id: bp for i, bp in zip(items, suggested, strict=True)})
    db.commit()
    return suggested


def save_definition(db: Session, actor: User, version_id: int, item_id: int, form: Mapping[str, object],
                    *, today: date | None = None) -> list[str]:
    """Save a measurement definition, part-done allowed; refuse inconsistent values. Returns what is
    still missing."""
    version = _version(db, actor, version_id, "changing a measurement definition")
    item = _item(db, version, item_id)
    years = version_years(version)
    labels = [y["label"] for y in years]
    paid = [y["label"] for y in years if not y.get("shadow") and y.get("share_bp", 0) > 0]
    definition, errors = defs.parse_form(form, labels, today=today or date.today(), paid_years=paid)
    code = definition.get("indicator_code")
    if code and "indicator_code" not in errors:
        # Locks the version row (PostgreSQL), so two saves cannot both take the same code.
        db.exec(select(FrameworkVersion).where(FrameworkVersion.id == version_id).with_for_update()).one()
        view = get_version_view(db, version_id)
        other = next((v for v in view.items + view.excluded
                      if v.item.id != item_id and v.definition.get("indicator_code") == code), None)
        if other is not None:
            errors["indicator_code"] = (f"{code} is already the code of “{other.outcome.statement}”; each indicator "
                                        "in a framework version needs its own code")
    if not {"unit", "evidence_indicator", "evidence_area"} & errors.keys():
        # Compared in the wrong unit, the opportunity is 100 times out and the interval misplaced.
        conflict = unit_conflict(db, definition)
        if conflict:
            errors["unit"] = conflict
    if errors:
        raise ValidationFailed(errors, dict(form))
    item.definition_json = json.dumps(definition, sort_keys=True)
    item.updated_at = utcnow()
    db.add(item)
    outcome = db.get(Outcome, item.outcome_id)
    still = defs.missing(definition, paid_years=paid)
    _log(db, actor, version, "definition.saved",
         f"Measurement definition saved for “{outcome.statement if outcome else item.outcome_id}”"
         + (f" ({len(still)} fields still missing)" if still else " (complete)"),
         item_id=item_id, missing=still, gap=defs.is_gap(definition))
    db.commit()
    return still


def apply_indicator(db: Session, actor: User, version_id: int, item_id: int, indicator: Mapping[str, object],
                    years: Sequence[str]) -> None:
    """Prefill a definition from a library indicator (fields stay editable)."""
    version = _version(db, actor, version_id, "changing a measurement definition")
    item = _item(db, version, item_id)
    current = json.loads(item.definition_json or "{}")
    item.definition_json = json.dumps(defs.from_indicator(indicator, current, years), sort_keys=True)
    item.updated_at = utcnow()
    db.add(item)
    _log(db, actor, version, "definition.prefilled", f"Definition prefilled from the library indicator "
         f"“{indicator.get('name')}”", item_id=item_id, indicator=indicator.get("key"))
    db.commit()
