"""Shared set-up for framework tests: a closed rating round with realistic ballots, and a draft
framework built from it with complete definitions."""

from __future__ import annotations

import itertools
from typing import Any

from sqlmodel import Session, select

from codesign import queries
from codesign.models import Outcome, OutcomeStatus, User
from codesign.services import ballots, framework_versions, rounds, sessions, shortlist

# Ratings per group for the first five outcomes: 0-1 clearly IN, 2 disputed, 3 clearly OUT, 4 middling.
PATTERN = {
    "patient": [9, 8, 9, 2, 5],
    "carer": [8, 9, 8, 1, 6],
    "clinician": [9, 8, 4, 2, 5],
    "commissioner": [8, 9, 5, 1, 6],
}


def closed_rating_round(db: Session, actor: User, workshop: Any, people_per_group: int = 5,
                        sizes: dict[str, int] | None = None) -> Any:
    outcomes = db.exec(select(Outcome).where(Outcome.population_group_id == workshop.population_group_id,
                                             Outcome.status == OutcomeStatus.accepted).order_by(Outcome.id)).all()[:5]
    form = {"title": "Round 1", "method": "rating", "combine": "weighted", "in_min": "70", "in_max_low": "15",
            "out_min": "70", "out_max_high": "15", "min_group_size": "5", "budget": "10",
            "outcomes": ",".join(str(o.id) for o in outcomes)}
    found = rounds.create_round(db, actor, workshop.id, form)
    rounds.open_round(db, actor, workshop.id, found.id, acknowledge_small=True)
    keys = itertools.count()
    for group, values in PATTERN.items():
        for _ in range((sizes or {}).get(group, people_per_group)):
            person = sessions.join_session(db, workshop.id, group)
            for outcome, value in zip(outcomes, values, strict=True):
                ballots.answer_rating(db, found.id, person.id, outcome.id, str(value), f"key-{next(keys):06d}")
    rounds.close_round(db, actor, workshop.id, found.id)
    return found


COMPLETE = {
    "population": "Adults with diabetes registered with a local GP", "indicator_name": "Indicator",
    "indicator_type": "outcome", "numerator": "People meeting it", "denominator": "People on the register",
    "unit": "percent", "direction": "higher", "data_source": "National Diabetes Audit", "data_owner": "NHS England",
    "collection_frequency": "quarterly", "reporting_frequency": "quarterly", "reporting_lag_months": "3",
    "small_number_rule": "Suppress counts below 5", "baseline_value": "40", "baseline_period": "2025/26",
    "baseline_source": "NDA 2025/26", "rag_green": "50", "rag_amber": "45", "achievement": "linear",
    "consequence_of_breach": "Remedial action plan", "accountable_providers": "Lead provider",
    "evidence": "Quarterly extract", "review_date": "2030-03-31", "target-0": "40", "target-1": "45", "target-2": "50",
    "rationale": "It matters to every group", "exclusions": "None", "time_base": "Rolling 12 months",
    "measurement_period": "The 12 months to 31 December in each contract year",
    "data_submission": "Quarterly extract to the ICB by the 15th working day", "payment_thresholds": "targets",
    "payment_timing": "On account quarterly; reconciled at year end", "floor_cap": "Floor at baseline; cap 100%",
    "breach_applies": "From the first paid year", "dispute_route": "Joint data quality group, then GC14",
}


# The payment terms a ready draft gets (a form as the payment page posts it).
TERMS = {"title": "Outcomes framework", "contract_value": "12,000,000", "mechanism": "withhold",
         "commissioner": "Example ICB", "provider": "Example Trust", "contract_reference": "EX-1",
         "year-0-label": "2026/27", "year-0-share": "0", "year-0-shadow": "yes",
         "year-1-label": "2027/28", "year-1-share": "10", "year-2-label": "2028/29", "year-2-share": "15",
         # The co-design annex's report fields (contract/report.py), with conflicts for the workshop's groups.
         "protocol_reference": "Protocol EX-1", "ethics_consent": "Service improvement; consent recorded",
         "funding": "ICB budget", "eligibility": "Invited through GP practices", "limitations": "Self-selected",
         **{f"coi-{g}": "None declared" for g in ("patient", "carer", "clinician", "commissioner")}}


def ready_draft(db: Session, actor: User, workshop: Any, sizes: dict[str, int] | None = None) -> Any:
    found = closed_rating_round(db, actor, workshop, sizes=sizes)
    version = framework_versions.start_draft(db, actor, workshop.population_group_id)
    shortlist.build_from_round(db, actor, version.id, found.id)
    framework_versions.save_terms(db, actor, version.id, TERMS)
    view = queries.get_version_view(db, version.id)
    for item in view.items:
        shortlist.save_definition(db, actor, version.id, item.item.id, {**COMPLETE, "indicator_name": item.outcome.statement[:50]})
    shortlist.suggest_weights(db, actor, version.id)
    return version, found
