"""Reads for undoing round mistakes: a draft round as its form's values, and where it can be copied."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from codesign.errors import Conflict
from codesign.models import Round, RoundOutcome, RoundStatus, WorkshopSession
from codesign.queries.rounds import get_round
from codesign.uk_time import form_value
from codesign.voting.order import split_options

__all__ = ["draft_round_values", "list_copy_targets"]


def _pct(share: object, default: float) -> str:
    return str(round(float(share if isinstance(share, (int, float)) else default) * 100))


def draft_round_values(db: Session, session_id: int, round_id: int) -> tuple[Round, dict[str, str]]:
    """A draft round and the values the round form shows for it (the form posts them back)."""
    found = get_round(db, session_id, round_id)
    if found.status != RoundStatus.draft:
        raise Conflict(f"Round {found.number} has opened, so it can no longer be edited. "
                       "Reset it (with a reason) to return it to draft, or create a new round.")
    options, shown = split_options(json.loads(found.options_json))
    rule = json.loads(found.rule_json)
    ids = db.exec(select(RoundOutcome.outcome_id).where(RoundOutcome.round_id == round_id)
                  .order_by(col(RoundOutcome.position))).all()
    values = {
        "title": found.title, "method": found.method, "combine": found.combine,
        "top_k": str(options.get("top_k") or ""), "budget": str(options.get("budget") or 10),
        "max_per_outcome": str(options.get("max_per_outcome") or ""),
        "in_min": _pct(rule.get("in_min_pct_7_9"), 0.7), "in_max_low": _pct(rule.get("in_max_pct_1_3"), 0.15),
        "out_min": _pct(rule.get("out_min_pct_1_3"), 0.7), "out_max_high": _pct(rule.get("out_max_pct_7_9"), 0.15),
        "min_group_size": str(rule.get("min_group_size", 5)),
        "patient_veto_in": "yes" if rule.get("patient_veto_in") else "",
        "table_based": "yes" if found.table_based else "",
        "feedback_round_id": str(found.feedback_round_id or ""),
        "outcomes": ",".join(str(i) for i in ids),
        "order": shown.order,
        "arrangement": ",".join(str(i) for i in ids),  # the round's own order first on the form
        "opens_at": form_value(found.opens_at), "closes_at": form_value(found.closes_at),  # online rounds
    }
    return found, values


def list_copy_targets(db: Session, session_id: int) -> list[WorkshopSession]:
    """The other sessions of this session's population group (a round can be copied into them)."""
    here = db.get(WorkshopSession, session_id)
    if here is None:
        return []
    return list(db.exec(select(WorkshopSession).where(
        WorkshopSession.population_group_id == here.population_group_id, WorkshopSession.id != session_id)
        .order_by(col(WorkshopSession.held_on), col(WorkshopSession.id))))
