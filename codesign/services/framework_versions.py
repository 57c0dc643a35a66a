"""Framework versions: start a draft, payment terms, freeze (snapshot + SHA-256), approve, and
start a new draft from a frozen version. A frozen version is never edited: every attempt is
refused and the refusal is audited."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import date
from typing import NoReturn

from sqlalchemy import func
from sqlmodel import Session, col, select

from codesign import permissions
from codesign.contract import money, report
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.export.canonical import canonical_json, snapshot_sha256
from codesign.models import (
    FrameworkApproval,
    FrameworkVersion,
    PopulationGroup,
    ShortlistItem,
    StakeholderGroup,
    User,
    VersionStatus,
    utcnow,
)
from codesign.queries.framework import get_version_view
from codesign.queries.snapshot import build_snapshot
from codesign.services import audit
from codesign.validation import check_text, normalise_text

MECHANISMS = {"withhold": "Withhold: a share of the contract value is withheld and earned back",
              "bonus": "Bonus: paid on top of the contract value"}
# The parties to the contract: field -> (label in messages, most characters).
PARTIES = {"commissioner": ("the commissioner", 200), "provider": ("the provider", 200),
           "contract_reference": ("the contract reference", 100)}
MAX_YEARS = 10


def default_years(today: date) -> list[dict[str, object]]:
    """Three contract years from next April: a shadow year, then 10%, then 15% (as Cambridgeshire did)."""
    start = today.year + (1 if today.month >= 4 else 0)
    shares = ((0, True), (1000, False), (1500, False))
    return [{"label": f"{start + i}/{str(start + i + 1)[2:]}", "share_bp": bp, "shadow": shadow}
            for i, (bp, shadow) in enumerate(shares)]


def refuse_if_frozen(db: Session, actor: User | None, version: FrameworkVersion, attempted: str) -> None:
    """Every path that changes a version calls this first."""
    if version.status == VersionStatus.frozen:
        refuse(db, actor, version, attempted)


def refuse(db: Session, actor: User | None, version: FrameworkVersion, attempted: str) -> NoReturn:
    db.rollback()
    audit.record(db, actor, "framework.change_refused",
                 summary=f"Refused: {attempted} on frozen version {version.number} (frozen versions never change)",
                 object_type="framework_version", object_id=version.id,
                 population_group_id=version.population_group_id, details={"attempted": attempted})
    db.commit()
    raise Conflict(f"Version {version.number} is frozen and cannot change. Start a new draft to make changes.")


def _log(db: Session, actor: User, version: FrameworkVersion, action: str, summary: str, **details: object) -> None:
    audit.record(db, actor, action, summary=summary, object_type="framework_version", object_id=version.id,
                 population_group_id=version.population_group_id, details=dict(details))


def _next_number(db: Session, group_id: int) -> int:
    return int(db.exec(select(func.coalesce(func.max(FrameworkVersion.number), 0)).where(
        FrameworkVersion.population_group_id == group_id)).one()) + 1


def start_draft(db: Session, actor: User, population_group_id: int, *, today: date | None = None) -> FrameworkVersion:
    group = db.get(PopulationGroup, population_group_id)
    if group is None:
        raise NotFound("No such population group")
    existing = db.exec(select(FrameworkVersion).where(FrameworkVersion.population_group_id == population_group_id,
                                                      FrameworkVersion.status == VersionStatus.draft)).first()
    if existing is not None:
        return existing
    number = _next_number(db, population_group_id)
    version = FrameworkVersion(population_group_id=population_group_id, number=number,
                               title=f"Outcomes framework: {group.name}", created_by_id=actor.id,
                               years_json=json.dumps(default_years(today or date.today())))
    db.add(version)
    db.flush()
    _log(db, actor, version, "framework.draft_started", f"Draft version {number} of the outcomes framework started")
    db.commit()
    return version


def new_draft_from(db: Session, actor: User, version_id: int) -> FrameworkVersion:
    """Copy a frozen version (shortlist, definitions, weights, terms) into a new editable draft."""
    source = db.get(FrameworkVersion, version_id)
    if source is None:
        raise NotFound("No such framework version")
    if source.status != VersionStatus.frozen:
        raise Conflict("Only a frozen version can be copied into a new draft; this one is still a draft.")
    open_draft = db.exec(select(FrameworkVersion).where(
        FrameworkVersion.population_group_id == source.population_group_id,
        FrameworkVersion.status == VersionStatus.draft)).first()
    if open_draft is not None:
        raise Conflict(f"Version {open_draft.number} is already a draft. Finish or freeze it first.")
    draft = FrameworkVersion(
        population_group_id=source.population_group_id, number=_next_number(db, source.population_group_id),
        title=source.title, commissioner=source.commissioner, provider=source.provider,
        contract_reference=source.contract_reference, contract_value_pence=source.contract_value_pence,
        mechanism=source.mechanism, years_json=source.years_json, report_json=source.report_json,
        created_from_id=source.id, created_by_id=actor.id)
    db.add(draft)
    db.flush()
    assert draft.id is not None
    for item in db.exec(select(ShortlistItem).where(ShortlistItem.version_id == source.id)):
        db.add(ShortlistItem(
            version_id=draft.id, outcome_id=item.outcome_id, position=item.position, included=item.included,
            source_round_id=item.source_round_id, source_panel_round_id=item.source_panel_round_id,
            computed_rank=item.computed_rank,
            computed_score=item.computed_score, computed_consensus=item.computed_consensus,
            computed_in=item.computed_in, reason=item.reason,
            payment_weight_bp=item.payment_weight_bp, definition_json=item.definition_json))
    _log(db, actor, draft, "framework.draft_started",
         f"Draft version {draft.number} started from frozen version {source.number}", copied_from=source.id)
    db.commit()
    return draft


def save_terms(db: Session, actor: User, version_id: int, form: Mapping[str, str]) -> FrameworkVersion:
    """Contract value (£), mechanism, and each contract year's outcome-linked share (% and shadow)."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    refuse_if_frozen(db, actor, version, "changing the payment terms")
    errors: dict[str, str] = {}
    title = normalise_text(form.get("title", version.title))
    check_text(errors, "title", title, label="a title", max_length=200)
    parties = {key: normalise_text(form.get(key, getattr(version, key))) for key in PARTIES}
    for key, (label, limit) in PARTIES.items():
        check_text(errors, key, parties[key], label=label, required=False, max_length=limit)
    contract = money.parse_pounds(form.get("contract_value", ""))
    if form.get("contract_value", "").strip() and (contract is None or contract <= 0):
        errors["contract_value"] = "Enter the annual contract value in pounds, like 12,000,000"
    elif contract is not None and contract > money.MAX_CONTRACT_PENCE:
        errors["contract_value"] = (f"The contract value can be at most {money.format_pence(money.MAX_CONTRACT_PENCE)} "
                                    "in this version of codesign")
    mechanism = form.get("mechanism", version.mechanism)
    if mechanism not in MECHANISMS:
        errors["mechanism"] = "Choose bonus or withhold"
    years: list[dict[str, object]] = []
    for i in range(MAX_YEARS):
        label = normalise_text(form.get(f"year-{i}-label", ""))
        share = form.get(f"year-{i}-share", "").strip()
        if not label and not share:
            continue
        if not label:
            errors[f"year-{i}-label"] = "Enter the contract year, like 2027/28"
        elif len(label) > 20:
            errors[f"year-{i}-label"] = "The contract year must be 20 characters or fewer"
        elif label in [y["label"] for y in years]:
            errors[f"year-{i}-label"] = f"{label} is listed twice"
        bp = money.parse_percent_bp(share or "0")
        if bp is None:
            errors[f"year-{i}-share"] = "Enter the share as a percentage between 0 and 100, like 10 or 12.5"
        shadow = form.get(f"year-{i}-shadow") == "yes"
        if shadow and bp:
            errors[f"year-{i}-share"] = "A shadow year is for reporting only, so its share must be 0%"
        years.append({"label": label, "share_bp": bp or 0, "shadow": shadow})
    if not years:
        errors["year-0-label"] = "Add at least one contract year"
    groups = [(g.key, g.name) for g in db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == version.population_group_id).order_by(col(StakeholderGroup.position)))]
    annex = report.parse(form, groups, errors)
    if errors:
        raise ValidationFailed(errors, dict(form))
    before = {"contract_value_pence": version.contract_value_pence, "mechanism": version.mechanism,
              "years": json.loads(version.years_json), **{key: getattr(version, key) for key in PARTIES},
              "report": report.load(version.report_json)}
    version.title = title
    for key, value in parties.items():
        setattr(version, key, value)
    version.contract_value_pence = contract
    version.mechanism = mechanism
    version.years_json = json.dumps(years)
    version.report_json = json.dumps(annex, sort_keys=True)
    version.updated_at = utcnow()
    db.add(version)
    _log(db, actor, version, "framework.terms_changed", f"Payment terms of version {version.number} changed",
         before=before, after={"contract_value_pence": contract, "mechanism": mechanism, "years": years, **parties,
                "report": annex})
    db.commit()
    return version


def freeze(db: Session, actor: User, version_id: int) -> FrameworkVersion:
    """Freeze: refuse while the checklist has anything on it; store the snapshot and its SHA-256."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    refuse_if_frozen(db, actor, version, "freezing again")
    problems = get_version_view(db, version_id).checklist()
    if problems:
        raise ValidationFailed({"checklist": f"Not ready to freeze: {_things(len(problems))} missing"},
                               {"problems": problems})
    version.frozen_at = utcnow().replace(microsecond=0)
    version.frozen_by_id = actor.id
    db.add(version)
    db.flush()
    snapshot = build_snapshot(db, version_id)
    version.snapshot_json = canonical_json(snapshot).decode("utf-8")
    version.sha256 = snapshot_sha256(snapshot)
    version.public_token = secrets.token_urlsafe(24)
    version.status = VersionStatus.frozen
    version.updated_at = utcnow()
    db.add(version)
    _log(db, actor, version, "framework.frozen",
         f"Version {version.number} frozen with {snapshot['summary']['outcome_count']} outcomes; "
         f"SHA-256 {version.sha256}",
         sha256=version.sha256)
    db.commit()
    return version


def approve(db: Session, actor: User, version_id: int, note: str = "") -> FrameworkApproval:
    """A second person signs off a frozen version. The approval sits beside the snapshot, never in it."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    if version.status != VersionStatus.frozen:
        raise Conflict("Freeze the version before approving it.")
    refusal = permissions.approval_refusal(actor, version.frozen_by_id)
    if refusal is not None:
        raise Conflict(refusal)
    existing = db.exec(select(FrameworkApproval).where(FrameworkApproval.version_id == version_id,
                                                       FrameworkApproval.user_id == actor.id)).first()
    text = normalise_text(note)[:1000]
    if existing is not None:
        if text and text != existing.note:  # never drop what they typed without saying so
            raise Conflict(f"You approved this version on {existing.created_at:%-d %B %Y}. An approval cannot be "
                           f"changed, so this note was not saved: “{text}”")
        return existing  # the same approval sent twice (a double tap, a resent form): nothing to do
    approval = FrameworkApproval(version_id=version_id, user_id=actor.id or 0, note=text)
    db.add(approval)
    _log(db, actor, version, "framework.approved", f"Version {version.number} approved by {actor.email}", note=text,
         sha256=version.sha256)
    db.commit()
    return approval


def _things(n: int) -> str:
    return "1 thing is" if n == 1 else f"{n} things are"
