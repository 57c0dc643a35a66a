"""Everything the facilitator's round page shows, read in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from codesign.models import Outcome, PopulationGroup, Round, RoundStatus, WorkshopSession
from codesign.queries.overview import get_session_and_group
from codesign.queries.progress import RoundProgress, groups_under, round_progress
from codesign.queries.reasons import ChangeReason, list_change_reasons
from codesign.queries.rounds import RoundResults, get_round, round_outcomes, round_results

__all__ = ["RoundConsole", "get_round_console"]


@dataclass(frozen=True)
class RoundConsole:
    round: Round
    session: WorkshopSession
    group: PopulationGroup
    progress: RoundProgress
    outcomes: list[Outcome]
    results: RoundResults | None  # once closed
    small_groups: list[tuple[str, int]]  # a draft round: groups in the room under its minimum size
    reasons: list[ChangeReason]  # once closed: reasons given for answers (feedback rounds)
    earlier: Round | None  # the round a feedback round follows

    @property
    def rule(self) -> dict[str, Any]:
        return dict(json.loads(self.round.rule_json))

    @property
    def options(self) -> dict[str, Any]:
        return dict(json.loads(self.round.options_json))


def get_round_console(db: Session, session_id: int, round_id: int) -> RoundConsole:
    found = get_round(db, session_id, round_id)
    session, group = get_session_and_group(db, session_id)
    closed = found.status == RoundStatus.closed
    rule = json.loads(found.rule_json)
    return RoundConsole(
        round=found, session=session, group=group, progress=round_progress(db, found),
        outcomes=round_outcomes(db, round_id),
        results=round_results(db, session_id, round_id) if closed else None,
        small_groups=groups_under(db, session_id, int(rule.get("min_group_size", 5)))
        if found.status == RoundStatus.draft else [],
        reasons=list_change_reasons(db, found) if closed else [],
        earlier=db.get(Round, found.feedback_round_id) if found.feedback_round_id else None,
    )
