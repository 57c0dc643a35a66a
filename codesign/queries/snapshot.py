"""Build the framework snapshot (docs/framework-snapshot.md) from the database.

Freezing stores this document; drafts build it on the fly for previews and comparison. It names
no participant: provenance gives stakeholder groups and the words proposed, nothing else.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from codesign.contract import money
from codesign.contract.definition import is_gap
from codesign.errors import NotFound
from codesign.export.canonical import SCHEMA
from codesign.models import (
    FrameworkVersion,
    OutcomeRevision,
    OutcomeSource,
    Round,
    ShortlistItem,
    StakeholderGroup,
    User,
    WorkshopSession,
)
from codesign.queries.definition_evidence import linked_evidence
from codesign.queries.framework import ItemView, VersionView, get_version_view
from codesign.queries.rounds import RoundResults, round_results
from codesign.queries.snapshot_fates import considered, proposal_stages
from codesign.queries.snapshot_pooled import pooled_entries
from codesign.queries.study_snapshot import study_section
from codesign.voting.disclosure import disclosure
from codesign.voting.order import split_options
from codesign.voting.results import Results

__all__ = ["TIE_BREAK", "build_snapshot", "consensus_text", "get_snapshot"]

TIE_BREAK = ("Higher combined score; then the higher share rating 7-9 (rating) or of first places (ranking); "
             "then the Schulze (Condorcet) order; then alphabetical by wording.")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _score(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def consensus_text(rule: dict[str, Any]) -> str:
    pct = {k: f"{rule[k] * 100:g}%" for k in ("in_min_pct_7_9", "in_max_pct_1_3", "out_min_pct_1_3", "out_max_pct_7_9")}
    text = (f"IN when at least {pct['in_min_pct_7_9']} of every group rate an outcome 7-9 and fewer than "
            f"{pct['in_max_pct_1_3']} rate it 1-3; OUT when at least {pct['out_min_pct_1_3']} rate it 1-3 and fewer "
            f"than {pct['out_max_pct_7_9']} rate it 7-9; otherwise no consensus. Declared before voting.")
    if rule.get("patient_veto_in"):
        text += " Patient veto-in: an outcome the patient group alone rates IN is IN."
    return text + f" Groups with fewer than {rule.get('min_group_size', 5)} people are not reported."


def _votes(results: RoundResults | None, outcome_id: int) -> dict[str, Any]:
    """Each group's figures for one outcome, with what may not be shown suppressed (voting.disclosure):
    groups under the minimum size, and groups whose own count for this outcome fell under it."""
    if results is None or results.results is None:
        return {"groups": {}}
    res: Results = results.results
    try:
        outcome = res.outcome(str(outcome_id))
    except KeyError:
        return {"groups": {}}
    rules = disclosure(res)
    groups: dict[str, Any] = {}
    for key, _info in sorted(res.groups.items()):
        go = outcome.groups.get(key)
        suppressed = not rules.cell_shown(outcome.outcome, key)
        hidden = suppressed or go is None
        groups[key] = {
            "name": results.group_names.get(key, key), "suppressed": suppressed,
            "n": None if hidden else go.n, "score": None if hidden else _score(go.score),  # type: ignore[union-attr]
            "rank": None if hidden else go.rank,  # type: ignore[union-attr]
            "pct_7_9": None if hidden or go.pct_7_9 is None else round(go.pct_7_9, 1),  # type: ignore[union-attr]
            "pct_1_3": None if hidden or go.pct_1_3 is None else round(go.pct_1_3, 1),  # type: ignore[union-attr]
        }
    return {"groups": groups}


def _computed(rank: int | None, score: float | None, consensus: str | None,
              results: RoundResults | None, outcome_id: int) -> dict[str, Any] | None:
    """The computed result; its combined score and consensus are left out when a group or count
    too small to show went into them (voting.disclosure: the score could be worked back to that
    group's score, and "in" or "out" would say how its few people answered)."""
    if rank is None:
        return None
    suppressed = False
    if results is not None and results.results is not None:
        try:
            suppressed = not disclosure(results.results).combined_shown(results.results.outcome(str(outcome_id)))
        except KeyError:
            suppressed = False
    return {"rank": rank, "score": None if suppressed else _score(score),
            "consensus": None if suppressed else consensus,
            **({"score_suppressed": True, "consensus_suppressed": True} if suppressed else {})}


def _provenance(db: Session, outcome_id: int, groups: dict[int, str], sessions: dict[int, str]) -> dict[str, Any]:
    sources = db.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == outcome_id)
                      .order_by(col(OutcomeSource.id))).all()
    history = db.exec(select(OutcomeRevision).where(
        OutcomeRevision.outcome_id == outcome_id,
        col(OutcomeRevision.action).in_(("reworded", "merged_in", "restored", "withdrawn")))
        .order_by(col(OutcomeRevision.id))).all()
    return {
        "sources": [{"kind": s.kind, "group": groups.get(s.stakeholder_group_id or 0),
                     "statement": s.statement, "session": sessions.get(s.session_id or 0),
                     "via_merge": s.via_outcome_id is not None} for s in sources],
        "history": [{"action": h.action, "from": h.old_statement, "to": h.new_statement, "reason": h.reason,
                     "at": _iso(h.created_at)} for h in history],
    }


def _round_entry(found: Round, session: WorkshopSession, results: RoundResults) -> dict[str, Any]:
    res = results.results
    names = results.group_names
    # A group below the minimum size is named but not counted (suppressed in every output).
    participants = {names.get(k, k): (None if g.small else g.n) for k, g in sorted(res.groups.items())} if res else {}
    within = {} if res is None else {
        names.get(k, k): (None if w is None or res.groups[k].small else round(w.w, 4))
        for k, w in sorted(res.agreement.kendall_w.items())}
    between = None if res is None or res.agreement.between_groups is None else round(res.agreement.between_groups.w, 4)
    return {
        "id": found.id, "number": found.number, "title": found.title, "session": session.title,
        "method": found.method, "rule": json.loads(found.rule_json),
        # How outcomes were shown (order, seed) is not part of the counting settings exported.
        "options": split_options(json.loads(found.options_json))[0],
        "combine": found.combine,
        "weights": {names.get(k, k): w for k, w in sorted(json.loads(found.weights_json or "{}").items())},
        "opened_at": _iso(found.opened_at), "closed_at": _iso(found.closed_at), "participants": participants,
        "suppressed_groups": [names.get(k, k) for k, g in sorted(res.groups.items()) if g.small] if res else [],
        "agreement": {"kendall_w": within, "between_groups": between},
    }


def _item(view: ItemView, rank: int, results: RoundResults | None, years: list[dict[str, Any]],
          at_stake: dict[int, list[int]], db: Session, groups: dict[int, str],
          sessions: dict[int, str], source: dict[str, Any] | None) -> dict[str, Any]:
    item, outcome = view.item, view.outcome
    assert outcome.id is not None and item.id is not None
    computed = _computed(item.computed_rank, item.computed_score, item.computed_consensus, results, outcome.id)
    return {
        "rank": rank, "outcome_id": outcome.id, "statement": outcome.statement, "description": outcome.description,
        "domain": None if view.domain is None else {"key": view.domain.key, "name": view.domain.name},
        "payment_weight_bp": item.payment_weight_bp, "measurability_gap": is_gap(view.definition),
        "decision": {"action": "added", "reason": item.reason} if view.departs else None,
        "source_round": source, "computed": computed,
        "votes": _votes(results, outcome.id), "definition": view.definition,
        # The figures the baseline and comparator came from, kept so the version is reproducible
        # without the indicator data (docs/framework-snapshot.md).
        "indicator_data": linked_evidence(db, view.definition),
        "money": [{"year": y["label"], "at_stake_pence": at_stake[item.id][i]} for i, y in enumerate(years)],
        "provenance": _provenance(db, outcome.id, groups, sessions),
    }


def build_snapshot(db: Session, version_id: int) -> dict[str, Any]:
    view: VersionView = get_version_view(db, version_id)
    version: FrameworkVersion = view.version
    groups = {g.id or 0: g.name for g in db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == view.group.id))}
    sessions = {s.id or 0: s.title for s in db.exec(select(WorkshopSession).where(
        WorkshopSession.population_group_id == view.group.id))}
    source_ids = {v.item.source_round_id for v in view.items + view.excluded if v.item.source_round_id}
    # Every closed round of the work is reported, not only the ones the shortlist was built from.
    round_ids = sorted(source_ids | {r.id for r, _s in view.rounds if r.id is not None})
    results: dict[int, RoundResults] = {}
    round_info: dict[int, dict[str, Any]] = {}
    methods_rounds = []
    for rid in round_ids:
        found = db.get(Round, rid)
        if found is None:
            continue
        results[rid] = round_results(db, found.session_id, rid)
        round_info[rid] = {"id": rid, "number": found.number, "title": found.title,
                           "session": sessions.get(found.session_id)}
        session = db.get(WorkshopSession, found.session_id)
        assert session is not None
        methods_rounds.append({**_round_entry(found, session, results[rid]), "source": rid in source_ids})
    contract = version.contract_value_pence or 0
    years = view.years
    year_totals = [0 if y.get("shadow") else money.share_of(contract, int(y.get("share_bp", 0))) for y in years]
    weights = [v.item.payment_weight_bp for v in view.items]
    per_year = [money.allocate(total, weights) for total in year_totals]
    at_stake = {v.item.id or 0: [per_year[y][i] for y in range(len(years))] for i, v in enumerate(view.items)}
    study = pooled_entries(db, view)  # a panel's pooled rounds: one round run in several sessions

    def source(item: ShortlistItem) -> tuple[RoundResults | None, dict[str, Any] | None]:
        """The results an item was built from and how the snapshot names them: a round or a pooled round."""
        if item.source_panel_round_id:
            found = study.get(item.source_panel_round_id)
            return (found.results, found.source) if found else (None, None)
        return results.get(item.source_round_id or 0), round_info.get(item.source_round_id or 0)

    outcomes = [_item(v, rank, source(v.item)[0], years, at_stake, db, groups, sessions, source(v.item)[1])
                for rank, v in enumerate(view.items, start=1)]
    excluded = [{"outcome_id": v.outcome.id, "statement": v.outcome.statement,
                 "computed": _computed(v.item.computed_rank, v.item.computed_score, v.item.computed_consensus,
                                       source(v.item)[0], v.outcome.id or 0),
                 "reason": v.item.reason} for v in view.excluded if v.departs]
    frozen_by: User | None = view.frozen_by
    rule = next((r["rule"] for r in methods_rounds if r["source"]), methods_rounds[0]["rule"] if methods_rounds else {})
    return {
        "schema": SCHEMA,
        "framework": {
            "version": version.number, "title": version.title,
            "contract": {"commissioner": version.commissioner, "provider": version.provider,
                         "reference": version.contract_reference},
            "population_group": {"name": view.group.name, "description": view.group.description,
                                 "attribution": view.group.attribution},
            "previous_version": _previous_number(db, version),
            "frozen_at": _iso(version.frozen_at),
            "frozen_by": None if frozen_by is None else {"name": frozen_by.name or frozen_by.email,
                                                         "role": frozen_by.role},
            "report": {**view.report, "conflicts": {g.name: (view.report.get("conflicts") or {}).get(g.name, "")
                                                    for g in view.stakeholder_groups}},
        },
        "payment": {
            "contract_value_pence": contract, "mechanism": version.mechanism,
            "years": [{"label": y["label"], "outcome_share_bp": int(y.get("share_bp", 0)),
                       "shadow": bool(y.get("shadow")), "at_stake_pence": year_totals[i]} for i, y in enumerate(years)],
            "total_at_stake_pence": sum(year_totals), "rounding": money.ROUNDING_NOTE,
        },
        "outcomes": outcomes,
        "excluded": excluded,
        "methods": {
            "rounds": methods_rounds, "tie_break": TIE_BREAK,
            "considered": considered(db, view, groups),
            "stages": proposal_stages(db, view.group.id or 0, groups, sessions, int(rule.get("min_group_size", 5))),
            "consensus_text": consensus_text(rule) if rule else "",
            # Only when the study has any, so that snapshots without panels stay as they were.
            **({"pooled_rounds": [p.entry for _id, p in sorted(study.items())]} if study else {}),
            "departures": [{"outcome_id": o["outcome_id"], "statement": o["statement"], "action": "added",
                            "reason": o["decision"]["reason"]} for o in outcomes if o["decision"]]
            + [{"outcome_id": e["outcome_id"], "statement": e["statement"], "action": "removed",
                "reason": e["reason"]} for e in excluded],
            # Only a population group with a panel (issue 14) has a study section.
            **_study(db, view.group.id or 0),
        },
        "summary": {"outcome_count": len(outcomes), "measurability_gaps": sum(o["measurability_gap"] for o in outcomes),
                    "weights_total_bp": sum(weights)},
    }


def _study(db: Session, population_group_id: int) -> dict[str, Any]:
    section = study_section(db, population_group_id)
    return {} if section is None else {"study": section}


def _previous_number(db: Session, version: FrameworkVersion) -> int | None:
    if version.created_from_id is None:
        return None
    previous = db.get(FrameworkVersion, version.created_from_id)
    return None if previous is None else previous.number


def get_snapshot(db: Session, version_id: int) -> tuple[FrameworkVersion, dict[str, Any]]:
    """A frozen version's stored snapshot, or a draft's snapshot as it would be frozen now."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    if version.snapshot_json:
        return version, json.loads(version.snapshot_json)
    return version, build_snapshot(db, version_id)
