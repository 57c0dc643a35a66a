"""Reads for outcomes framework versions: the working view of a draft and its readiness checklist."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from codesign.contract import definition as defs
from codesign.contract import report
from codesign.contract.advice import PaidOutcome, PaidYear, framework_warnings
from codesign.errors import NotFound
from codesign.models import (
    Domain,
    FrameworkApproval,
    FrameworkExport,
    FrameworkVersion,
    Outcome,
    Panel,
    PanelRound,
    PopulationGroup,
    Round,
    RoundStatus,
    ShortlistItem,
    StakeholderGroup,
    User,
    VersionStatus,
    WorkshopSession,
)
from codesign.naming import round_label

__all__ = [
    "ItemView",
    "VersionView",
    "get_export",
    "get_version",
    "get_version_by_token",
    "get_version_view",
    "list_closed_rounds",
    "list_counted_pooled_rounds",
    "list_versions",
    "version_years",
]


def list_versions(db: Session, population_group_id: int) -> list[FrameworkVersion]:
    return list(db.exec(select(FrameworkVersion).where(FrameworkVersion.population_group_id == population_group_id)
                        .order_by(col(FrameworkVersion.number).desc())))


def get_version(db: Session, version_id: int) -> FrameworkVersion:
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    return version


def get_version_by_token(db: Session, token: str) -> FrameworkVersion:
    version = db.exec(select(FrameworkVersion).where(FrameworkVersion.public_token == token)).first()
    if version is None or version.status != VersionStatus.frozen or not token:
        raise NotFound("We could not find that framework. Check the link you were given.")
    return version


def version_years(version: FrameworkVersion) -> list[dict[str, Any]]:
    years: list[dict[str, Any]] = json.loads(version.years_json or "[]")
    return years


def list_closed_rounds(db: Session, population_group_id: int) -> list[tuple[Round, WorkshopSession]]:
    rows = db.exec(select(Round, WorkshopSession)
                   .join(WorkshopSession, col(Round.session_id) == col(WorkshopSession.id))
                   .where(WorkshopSession.population_group_id == population_group_id,
                          Round.status == RoundStatus.closed).order_by(col(Round.closed_at).desc())).all()
    return [(r, s) for r, s in rows]


def list_counted_pooled_rounds(db: Session, population_group_id: int) -> list[tuple[PanelRound, Panel]]:
    rows = db.exec(select(PanelRound, Panel).join(Panel, col(PanelRound.panel_id) == col(Panel.id))
                   .where(Panel.population_group_id == population_group_id,
                          col(PanelRound.results_json).is_not(None)).order_by(col(PanelRound.counted_at).desc())).all()
    return [(r, p) for r, p in rows]


@dataclass(frozen=True)
class ItemView:
    item: ShortlistItem
    outcome: Outcome
    domain: Domain | None
    definition: dict[str, Any]
    missing: list[str]

    @property
    def gap(self) -> bool:
        return defs.is_gap(self.definition)

    @property
    def departs(self) -> bool:
        """Included though the computed result left it out, or left out though it put it in."""
        return self.item.included != self.item.computed_in


@dataclass(frozen=True)
class VersionView:
    version: FrameworkVersion
    group: PopulationGroup
    years: list[dict[str, Any]]
    items: list[ItemView]  # included, in order
    excluded: list[ItemView]
    approvals: list[tuple[FrameworkApproval, User]]
    frozen_by: User | None
    rounds: list[tuple[Round, WorkshopSession]]
    open_draft: FrameworkVersion | None = None  # the group's draft, if one is being edited
    # Counted pooled rounds of the group's panels (one round run in several sessions), newest first.
    pooled: list[tuple[PanelRound, Panel]] = field(default_factory=list)
    stakeholder_groups: list[StakeholderGroup] = field(default_factory=list)

    @property
    def report(self) -> dict[str, Any]:
        """The co-design annex's report fields (contract/report.py)."""
        return report.load(self.version.report_json)

    @property
    def built_from(self) -> str:
        """The round(s) the shortlist's computed results come from, in words ("" before any build).
        Each build replaces every item's source (services.shortlist), so this is normally one."""
        listed = self.items + self.excluded
        pooled_ids = {i.item.source_panel_round_id for i in listed} - {None}
        round_ids = {i.item.source_round_id for i in listed} - {None}
        names = [f"pooled round {pr.number} “{pr.title}” of “{panel.name}”" for pr, panel in self.pooled
                 if pr.id in pooled_ids]
        names += [f"{round_label(r)} in “{s.title}”" for r, s in self.rounds if r.id in round_ids]
        return "; ".join(names)

    @property
    def weights_total_bp(self) -> int:
        return sum(i.item.payment_weight_bp for i in self.items)

    @property
    def paid_years(self) -> list[str]:
        return [y["label"] for y in self.years if not y.get("shadow") and y.get("share_bp", 0) > 0]

    def checklist(self) -> list[str]:
        """Everything still missing before the version can be frozen; empty means ready."""
        problems: list[str] = []
        if not self.version.contract_value_pence:
            problems.append("Payment terms: enter the annual contract value")
        if not self.years:
            problems.append("Payment terms: add at least one contract year")
        if not self.items:
            problems.append("Shortlist: include at least one outcome")
        for view in self.items + self.excluded:
            if view.departs and not view.item.reason.strip():
                verb = "included against" if view.item.included else "left out against"
                problems.append(f"“{view.outcome.statement}”: give a reason — it is {verb} the computed result")
        if self.items and self.weights_total_bp != 10_000:
            problems.append(f"Payment weights add up to {self.weights_total_bp / 100:g}%; "
                            "they must add up to exactly 100%")
        problems += [f"Co-design annex: {gap}" for gap in report.missing(
            self.report, [g.name for g in self.stakeholder_groups])]
        for code in sorted(defs.duplicate_codes([v.definition.get("indicator_code", "") for v in self.items])):
            problems.append(f"Indicator code {code} is used by more than one outcome; each needs its own")
        for view in self.items:
            if view.gap and view.item.payment_weight_bp:
                problems.append(f"“{view.outcome.statement}” has no routine data source, so its payment weight "
                                "must be 0% (reported only)")
            if not view.gap and view.item.computed_score is None and not view.item.payment_weight_bp:
                # No votes gave it a score, so suggested weights leave it at 0%: never silently.
                problems.append(f"“{view.outcome.statement}” has no votes, so it has 0% of the payment: give it "
                                "a weight, or leave it out of the shortlist")
            if view.missing:
                problems.append(f"“{view.outcome.statement}” measurement definition is missing: "
                                + ", ".join(view.missing))
            # Saved before a rule existed, or made wrong later (a shadow year turned into a paid one).
            wrong = defs.consistency_errors(view.definition, paid_years=self.paid_years)
            if wrong:
                problems.append(f"“{view.outcome.statement}” measurement definition has numbers to correct: "
                                + "; ".join(wrong.values()))
        return problems

    def warnings(self, floor_pence: int) -> list[str]:
        """Advice that does not block freezing (contract.advice): too many paid outcomes, or an
        outcome with less than `floor_pence` at stake in a paid year."""
        years = [PaidYear(str(y["label"]), 0 if y.get("shadow") else int(y.get("share_bp", 0))) for y in self.years]
        outcomes = [PaidOutcome(v.outcome.statement, v.item.payment_weight_bp) for v in self.items]
        return framework_warnings(outcomes, self.version.contract_value_pence or 0, years, floor_pence)


def get_version_view(db: Session, version_id: int) -> VersionView:
    version = get_version(db, version_id)
    group = db.get(PopulationGroup, version.population_group_id)
    assert group is not None
    years = version_years(version)
    labels = [y["label"] for y in years]
    paid = [y["label"] for y in years if not y.get("shadow") and y.get("share_bp", 0) > 0]
    domains = {d.key: d for d in db.exec(select(Domain).where(Domain.population_group_id == group.id))}
    rows = db.exec(select(ShortlistItem, Outcome).join(Outcome, col(ShortlistItem.outcome_id) == col(Outcome.id))
                   .where(ShortlistItem.version_id == version_id)
                   .order_by(col(ShortlistItem.position), col(ShortlistItem.id))).all()
    included = [(i, o) for i, o in rows if i.included] + [(i, o) for i, o in rows if not i.included]
    definitions = [defs.normalise(json.loads(item.definition_json or "{}"), labels) for item, _o in included]
    # Codes not given are defaulted from the group and the position (DIAB-01 is the first included).
    codes = defs.default_codes(defs.code_prefix(group.name, group.template_slug),
                               [str(d.get("indicator_code") or "") for d in definitions])
    views = []
    for (item, outcome), definition, code in zip(included, definitions, codes, strict=True):
        definition["indicator_code"] = code
        views.append(ItemView(item, outcome, domains.get(outcome.domain_key or ""), definition,
                              defs.missing(definition, paid_years=paid)))
    approvals = [(a, u) for a, u in db.exec(select(FrameworkApproval, User).join(
        User, col(FrameworkApproval.user_id) == col(User.id)).where(FrameworkApproval.version_id == version_id))]
    return VersionView(
        version=version, group=group, years=years,
        items=[v for v in views if v.item.included], excluded=[v for v in views if not v.item.included],
        approvals=approvals, frozen_by=db.get(User, version.frozen_by_id) if version.frozen_by_id else None,
        rounds=list_closed_rounds(db, group.id or 0),
        pooled=list_counted_pooled_rounds(db, group.id or 0),
        open_draft=db.exec(select(FrameworkVersion).where(
            FrameworkVersion.population_group_id == group.id, FrameworkVersion.status == VersionStatus.draft)).first(),
        stakeholder_groups=list(db.exec(select(StakeholderGroup).where(
            StakeholderGroup.population_group_id == group.id).order_by(col(StakeholderGroup.position)))),
    )


def get_export(db: Session, version_id: int, fmt: str) -> FrameworkExport | None:
    return db.exec(select(FrameworkExport).where(FrameworkExport.version_id == version_id,
                                                 FrameworkExport.format == fmt)).first()
