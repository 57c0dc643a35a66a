"""Everything the facilitator's round page shows, read in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from codesign.models import Outcome, PopulationGroup, Round, RoundStatus, WorkshopSession
from codesign.queries.basic import list_stakeholder_groups
from codesign.queries.overview import get_session_and_group
from codesign.queries.pooled import stored_pooled_results
from codesign.queries.progress import RoundProgress, groups_under, round_progress
from codesign.queries.reasons import ChangeReason, list_change_reasons
from codesign.queries.rounds import RoundResults, get_round, round_outcomes, round_results
from codesign.voting.disclosure import disclosure
from codesign.voting.order import Presentation, split_options

__all__ = ["FeedbackSource", "RoundConsole", "get_feedback_source", "get_round_console"]


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

    @property
    def presentation(self) -> Presentation:
        """The order people see the outcomes in (`outcomes` is the facilitator's order)."""
        return split_options(self.options)[1]


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


@dataclass(frozen=True)
class FeedbackSource:
    """What a round 2 made from `round` will show: the round's figures only once revealed, and
    never those of groups (or outcomes) too small to show."""

    round: Round
    revealed: bool
    hidden_groups: list[str]
    hidden_cells: int  # outcomes in shown groups answered by too few people


def get_feedback_source(db: Session, session_id: int, raw_id: str) -> FeedbackSource | None:
    """The closed round of this session named by `raw_id` (a form or query value), or None."""
    if not (0 < len(raw_id) <= 9 and raw_id.isascii() and raw_id.isdecimal()):
        return None
    found = db.get(Round, int(raw_id))
    if found is None or found.session_id != session_id or found.status != RoundStatus.closed:
        return None
    # A round that is part of a pooled round feeds back the pooled spread (queries.voting_page
    # ._earlier_results), so what may be shown is judged on the pooled counts, not this session's.
    pooled = stored_pooled_results(db, found.panel_round_id) if found.panel_round_id is not None else None
    results = (pooled if pooled is not None else round_results(db, session_id, int(raw_id))).results
    if results is None:
        return FeedbackSource(found, found.revealed, [], 0)
    rules = disclosure(results)
    names = {g.key: g.name for g in list_stakeholder_groups(db, get_session_and_group(db, session_id)[1].id or 0)}
    return FeedbackSource(found, found.revealed, [names.get(g, g) for g in sorted(rules.hidden_groups)],
                          len(rules.hidden_cells))
