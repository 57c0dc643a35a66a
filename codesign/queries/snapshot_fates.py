"""For the co-design annex: every outcome considered and what became of it, and how many people
proposed outcomes in each workshop session (groups under the minimum size not reported)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from codesign.models import Outcome, OutcomeRevision, OutcomeSource, OutcomeStatus
from codesign.queries.framework import VersionView

# The fates, in the order the annex lists them.
FATES = ("in_framework", "added", "left_out", "dropped_by_vote", "not_shortlisted", "merged", "withdrawn",
         "not_moderated")


def considered(db: Session, view: VersionView, groups: dict[int, str]) -> list[dict[str, Any]]:
    """One row per outcome ever proposed for the population group: its fate, and why."""
    items = {v.outcome.id: v for v in view.items + view.excluded}
    outcomes = db.exec(select(Outcome).where(Outcome.population_group_id == view.group.id)
                       .order_by(col(Outcome.id))).all()
    statements = {o.id: o.statement for o in outcomes}
    revisions: dict[int, list[OutcomeRevision]] = {}
    for r in db.exec(select(OutcomeRevision).where(col(OutcomeRevision.outcome_id).in_(list(statements)))
                     .order_by(col(OutcomeRevision.id))):
        revisions.setdefault(r.outcome_id, []).append(r)
    rows = []
    for o in outcomes:
        history = revisions.get(o.id or 0, [])
        last = {r.action: r for r in history}
        reason, fate = "", "not_shortlisted"
        item = items.get(o.id)
        if o.status == OutcomeStatus.merged:
            fate = "merged"
            merged = last.get("merged") or last.get("merged_into")
            reason = merged.reason if merged else ""
        elif o.status == OutcomeStatus.withdrawn:
            fate, reason = "withdrawn", (last["withdrawn"].reason if "withdrawn" in last else "")
        elif o.status == OutcomeStatus.proposed:
            fate = "not_moderated"
        elif item is not None and item.item.included:
            fate, reason = ("added", item.item.reason) if item.departs else ("in_framework", "")
        elif item is not None:
            fate, reason = ("left_out", item.item.reason) if item.departs else ("dropped_by_vote", "")
        rows.append({
            "outcome_id": o.id, "statement": o.statement, "fate": fate, "reason": reason,
            "merged_into": statements.get(o.merged_into_id) if o.merged_into_id else None,
            "reworded_from": [r.old_statement for r in history if r.action == "reworded"],
            "source": o.source,
        })
    return sorted(rows, key=lambda r: (FATES.index(r["fate"]), r["statement"].casefold()))


def proposal_stages(db: Session, group_id: int, groups: dict[int, str], sessions: dict[int, str],
                    min_size: int) -> list[dict[str, Any]]:
    """People who proposed outcomes, per session and stakeholder group (counts under `min_size`: None)."""
    rows = db.exec(select(OutcomeSource.session_id, OutcomeSource.stakeholder_group_id,
                          func.count(func.distinct(OutcomeSource.participant_id)))
                   .join(Outcome, col(Outcome.id) == col(OutcomeSource.outcome_id))
                   .where(Outcome.population_group_id == group_id, col(OutcomeSource.participant_id).is_not(None),
                          col(OutcomeSource.via_outcome_id).is_(None))
                   .group_by(col(OutcomeSource.session_id), col(OutcomeSource.stakeholder_group_id))).all()
    stages: dict[int, dict[str, int | None]] = {}
    for session_id, group, n in rows:
        name = groups.get(group or 0, "No group")
        stages.setdefault(session_id or 0, {})[name] = None if int(n) < min_size else int(n)
    return [{"session": sessions.get(sid, "Without a session"), "participants": dict(sorted(counts.items()))}
            for sid, counts in sorted(stages.items())]
