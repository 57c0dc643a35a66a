"""The demo's outcomes framework: a shortlist of about eight outcomes from the demo's last rating
round, complete measurement definitions (one measurability gap), payment terms, a frozen and
approved version 1, and a draft version 2 with one change. Uses the real services throughout."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from codesign import queries
from codesign.contract import evidence_fill
from codesign.library import suggest_indicators
from codesign.models import FrameworkVersion, Round, RoundStatus, User, WorkshopSession
from codesign.services import framework_versions, shortlist

SHORTLIST_SIZE = 8
PROVIDER = "Demo Community Diabetes Partnership (example)"
# Figures the ICB takes from a national release: the provider submits nothing for these.
NATIONAL_SOURCES = ("National Diabetes Audit", "QOF", "HES/SUS", "ONS mortality")
GAP_PLAN = ("An annual local survey of people with diabetes, run by the lead provider from the first contract year; "
            "reported in shadow form until two years of results allow a fair baseline and target.")
LOCAL = {
    "population": "Adults (18 and over) with type 1 or type 2 diabetes registered with a GP practice in Haringey "
                  "or Islington",
    "baseline_period": "2025/26", "baseline_source": "Local extract for 2025/26, validated by the CSU",
    "achievement": "linear",
    "consequence_of_breach": "A remedial action plan within 30 days; the withheld sum for that outcome is not "
                             "earned back for the year.",
    "accountable_providers": f"Lead provider: {PROVIDER}, with its sub-contractors",
    "evidence": "Quarterly indicator report with numerator, denominator and breakdowns, signed off by the lead "
                "provider's medical director",
    "review_date": "2028-09-30",
    "exclusions": "People who registered or left during the measurement period; people on palliative care registers.",
    "time_base": "Rolling 12 months",
    "measurement_period": "For each contract year, the latest 12 months of data published by 31 March of that year "
                          "(after the reporting lag); paid on at year-end reconciliation.",
    "data_submission": "The lead provider submits the quarterly extract (numerator, denominator, breakdowns) to the "
                       "ICB contracts team through the secure data portal within 20 working days of each quarter.",
    "payment_thresholds": "targets",
    "payment_timing": "The sum withheld for the outcome is earned back at year-end reconciliation against the "
                      "validated annual figure.",
    "floor_cap": "Floor: nothing is earned at or below the baseline. Cap: 100% of the outcome's money at stake.",
    "breach_applies": "from the first paid contract year, when the year-end figure misses that year's target",
    "dispute_route": "Data queries to the joint data quality group within 20 working days; unresolved disputes go to "
                     "the contract's dispute resolution procedure.",
}
# The co-design annex's report fields (COS-STAR items the workshops do not record): demo wording.
REPORT = {
    "protocol_reference": "Demo protocol DEMO-COS-2026-01 (example; published on the ICB website)",
    "ethics_consent": "Service improvement, not research (HRA decision tool): no research ethics review. Each "
                      "participant agreed to take part and to anonymous use of their answers.",
    "funding": "The ICB's transformation budget (example). The funder ran the workshops but had no vote of its own "
               "beyond the commissioners' group.",
    "eligibility": "Adults living with diabetes and carers, invited through GP practices and local support groups; "
                   "clinicians and commissioners invited by role. Anyone who came could take part.",
    "limitations": "Participants chose to come, so the groups may not represent everyone; small groups are not "
                   "reported, so their views are counted but not shown.",
}


def _figures(unit: str, direction: str, step: int) -> dict[str, str]:
    """Plausible local baselines and targets that respect the direction (demo figures, not real data);
    green is the final target, so the band is never easier to reach than what the contract pays on."""
    if direction == "lower":
        base = 4.2 + step * 0.3 if unit.startswith("rate") else 18.0 + step
        targets = [base, base * 0.93, base * 0.87]
        green, amber = targets[2], base
    else:
        base = 58.0 + step * 3 if unit == "percent" else 60.0 + step
        targets = [base, base + 4, base + 8]
        green, amber = targets[2], base
    text = [f"{v:.1f}" for v in targets]
    return {"baseline_value": f"{base:.1f}", "rag_green": f"{green:.1f}", "rag_amber": f"{amber:.1f}",
            "target-0": text[0], "target-1": text[1], "target-2": text[2]}


def _last_rating_round(db: Session, session_id: int) -> Round | None:
    rounds = db.exec(select(Round).where(Round.session_id == session_id, Round.status == RoundStatus.closed,
                                         Round.method == "rating").order_by(col(Round.number).desc())).all()
    return rounds[0] if rounds else None


def _definition(indicator: dict[str, Any] | None, step: int) -> dict[str, object]:
    if indicator is None or not indicator.get("routine_data", True):
        name = indicator["name"] if indicator else "Local survey measure (to be agreed)"
        return {**LOCAL, "rationale": "Chosen by the workshop groups; no routine measure exists yet.",
                "indicator_name": name, "indicator_type": (indicator or {}).get("type", "PROM"),
                "instrument": (indicator or {}).get("instrument", ""), "no_routine_data": "yes", "gap_plan": GAP_PLAN,
                "unit": (indicator or {}).get("unit", "mean_score"),
                "direction": (indicator or {}).get("direction", "higher")}  # distress: lower is better
    form: dict[str, object] = {**LOCAL, "rationale": f"Chosen by the workshop groups; measured by {indicator['name']}."}
    for key in ("numerator", "denominator", "unit", "direction", "case_mix_adjustment", "instrument",
                "instrument_licence_note", "time_points", "data_source", "data_owner", "collection_frequency",
                "reporting_frequency", "small_number_rule", "comparator"):
        if indicator.get(key):
            form[key] = str(indicator[key])
    form.update(indicator_name=indicator["name"], indicator_type=indicator["type"], indicator_key=indicator["key"],
                reporting_lag_months=str(indicator.get("reporting_lag_months", 3)),
                breakdowns=list(indicator.get("breakdowns", [])))
    form.update(_figures(str(indicator.get("unit", "percent")), str(indicator.get("direction", "higher")), step))
    source, frequency = str(indicator.get("data_source", "")), str(indicator.get("reporting_frequency", "quarterly"))
    if source in NATIONAL_SOURCES:
        form["data_submission"] = (f"Nothing from the provider: the ICB's analysts take the figure from each "
                                   f"{frequency} {source} release and share it with the provider within 10 "
                                   "working days.")
    else:
        form["data_submission"] = (f"The lead provider submits a {frequency} extract (numerator, denominator, "
                                   "breakdowns) to the ICB contracts team through the secure data portal within "
                                   "20 working days of each period.")
    return form


def _from_data(db: Session, indicator: dict[str, Any] | None, area: str | None, years: list[str]) -> dict[str, object]:
    """For an indicator the demo's illustrative data cover: the link, and the baseline, comparator
    and targets from the data (best-5 mean by the final year), with green at the final target."""
    if indicator is None or area is None or not indicator.get("routine_data", True):
        return {}
    link: dict[str, object] = {"evidence_indicator": str(indicator["key"]), "evidence_area": area}
    found = queries.linked_evidence(db, {**link, "direction": indicator.get("direction"),
                                         "unit": indicator.get("unit")})
    if not found or not found.get("available") or found.get("value") is None:
        return {}
    targets = evidence_fill.suggest_targets(found, years)
    if targets is None:
        return link
    baseline = evidence_fill.baseline_fields(found)
    return {**link, **baseline, **{f"target-{i}": t for i, t in enumerate(targets)},
            "rag_green": targets[-1], "rag_amber": baseline["baseline_value"]}


def seed_demo_framework(db: Session, commissioner: User, approver: User, session: WorkshopSession,
                        area: str | None = None) -> None:
    """`area`: the demo area in the illustrative indicator data, which the definitions link to."""
    if db.exec(select(FrameworkVersion).where(
            FrameworkVersion.population_group_id == session.population_group_id)).first() is not None:
        return
    source = _last_rating_round(db, session.id or 0)
    if source is None or source.id is None:
        return
    version = framework_versions.start_draft(db, commissioner, session.population_group_id)
    assert version.id is not None
    shortlist.build_from_round(db, commissioner, version.id, source.id)
    view = queries.get_version_view(db, version.id)
    template = view.group.template_slug

    def best(item: Any) -> dict[str, Any] | None:
        suggestions = suggest_indicators(item.outcome.statement, item.outcome.library_key, template)
        routine = [s for s in suggestions if s.get("routine_data", True)]
        return routine[0] if routine else (suggestions[0] if suggestions else None)

    def is_gap(indicator: dict[str, Any] | None) -> bool:
        return indicator is None or not indicator.get("routine_data", True)

    chosen = {item.item.id: best(item) for item in view.items}
    gaps = sum(is_gap(i) for i in chosen.values())
    for candidate in sorted(view.excluded, key=lambda i: i.item.computed_rank or 999):
        if len(chosen) >= SHORTLIST_SIZE:
            break
        indicator = best(candidate)
        # The demo shows one measurability gap, listed and unpaid, rather than several.
        if candidate.item.computed_consensus == "out" or (is_gap(indicator) and gaps >= 1):
            continue
        gaps += is_gap(indicator)
        shortlist.set_included(db, commissioner, version.id, candidate.item.id or 0, True,
                               f"Ranked {candidate.item.computed_rank} in the final round and rated critical by most "
                               "people in every group, though short of the 70% consensus threshold; the commissioning "
                               "board agreed to include it (board minute 2026/31).")
        chosen[candidate.item.id] = indicator
    view = queries.get_version_view(db, version.id)
    years = [y["label"] for y in queries.version_years(version)]
    for step, item in enumerate(view.items):
        indicator = chosen.get(item.item.id)
        shortlist.save_definition(db, commissioner, version.id, item.item.id or 0,
                                  {**_definition(indicator, step % 4), **_from_data(db, indicator, area, years)})
    framework_versions.save_terms(db, commissioner, version.id, {
        "title": "Appendix A: Outcomes framework, adults with diabetes", "contract_value": "12,000,000",
        "mechanism": "withhold", "commissioner": "NHS Demo Integrated Care Board (example)",
        "provider": PROVIDER, "contract_reference": "DEMO-ICB-2027-014",
        **{f"year-{i}-{k}": str(v) if k != "shadow" else ("yes" if v else "")
           for i, y in enumerate(queries.version_years(version)) for k, v in
           (("label", y["label"]), ("share", int(y["share_bp"]) / 100), ("shadow", y["shadow"]))},
        **REPORT, **{f"coi-{g.key}": "Nothing declared" for g in view.stakeholder_groups}})
    shortlist.suggest_weights(db, commissioner, version.id)
    frozen = framework_versions.freeze(db, commissioner, version.id)
    framework_versions.approve(db, approver, frozen.id or 0, "Checked against the board paper of the integrated "
                               "care board; weights as agreed.")
    draft = framework_versions.new_draft_from(db, commissioner, frozen.id or 0)
    assert draft.id is not None
    items = queries.get_version_view(db, draft.id).items
    paid = [i for i in items if not i.gap]
    if len(paid) >= 2:  # version 2's one change: move up to five points of weight between two outcomes
        first, second = paid[0].item, paid[1].item
        delta = min(500, second.payment_weight_bp)
        shortlist.save_weights(db, commissioner, draft.id, {
            first.id or 0: f"{(first.payment_weight_bp + delta) / 100:g}",
            second.id or 0: f"{(second.payment_weight_bp - delta) / 100:g}"})
