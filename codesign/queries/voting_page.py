"""What one participant sees in a round: their answers so far, the next question, and (round 2)
their earlier answer with each group's distribution (Delphi feedback).

`ParticipantRound.outcomes` is in the order this person is shown them (voting.order: the
facilitator's order, or their own random order), so "Question 3", the "your answers" list and a
ranking's "choose from" list all mean the same outcome for the same person on every page."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from codesign.errors import Conflict
from codesign.models import Ballot, BallotAnswer, Outcome, PairwiseAnswer, Participant, Round, RoundStatus
from codesign.queries.pooled import stored_pooled_results
from codesign.queries.rounds import RoundResults, read_draft, round_outcomes, round_results, voter_key
from codesign.voting import MethodOptions, next_pair, plain
from codesign.voting.disclosure import disclosure
from codesign.voting.order import parse_options, presented

__all__ = ["Feedback", "ParticipantRound", "draft_version", "get_participant_round", "list_participant_rounds",
           "order_voter"]


@dataclass(frozen=True)
class Feedback:
    """Round-2 feedback for one outcome: my earlier rating and each group's distribution."""

    mine: int | None  # None = unable to score / not answered
    answered: bool
    groups: dict[str, tuple[int, ...]]  # group name -> counts of 1..9 then unable
    # group name -> (its people in that round, what they said in plain words: voting.plain)
    words: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ParticipantRound:
    round: Round
    participant: Participant
    outcomes: list[Outcome]
    options: MethodOptions
    answers: dict[int, int | None]  # submitted: rating (None = unable), rank position, points
    reasons: dict[int, str]
    draft: dict[int, int]
    submitted: bool
    pair: tuple[Outcome, Outcome] | None
    pairs_answered: int
    feedback: dict[int, Feedback] = field(default_factory=dict)
    results: RoundResults | None = None  # only once revealed
    finished: bool = False
    draft_version: str = ""
    # Round 2: False when the earlier round's results are not revealed (only "you said" is shown).
    feedback_revealed: bool = True

    @property
    def k(self) -> int:
        return self.options.ranking_depth(len(self.outcomes))

    @property
    def answered_count(self) -> int:
        return len(self.answers)

    @property
    def draft_changed(self) -> bool:
        return self.draft != {o: v for o, v in self.answers.items() if v is not None}

    @property
    def dots_left(self) -> int:
        return self.options.budget - sum(self.draft.values())

    def ranked(self) -> list[Outcome]:
        by_id = {o.id: o for o in self.outcomes}
        return [by_id[o] for o, _ in sorted(self.draft.items(), key=lambda item: item[1]) if o in by_id]

    def unranked(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.id not in self.draft]


def list_participant_rounds(db: Session, session_id: int) -> list[Round]:
    """Rounds a participant can see: open ones, and closed ones (results once revealed)."""
    return list(db.exec(select(Round).where(Round.session_id == session_id, Round.status != RoundStatus.draft)
                        .order_by(col(Round.number))))


def _ballot(db: Session, found: Round, participant: Participant) -> Ballot | None:
    try:
        key = voter_key(found, participant)
    except Conflict:  # a table round and no table number: no ballot yet
        return None
    return db.exec(select(Ballot).where(Ballot.round_id == found.id, Ballot.voter_key == key)).first()


def order_voter(found: Round, participant: Participant) -> str:
    """Whose order a person is shown: their own, or in a table round their table's (the tablets
    of one table edit one list, so they show it alike)."""
    try:
        return voter_key(found, participant)
    except Conflict:  # a table round and no table number: they cannot vote, but can look
        return f"p:{participant.id}"


def _earlier_results(db: Session, earlier: Round) -> RoundResults:
    """What a Delphi round feeds back: the whole study's spread when the earlier round was run in
    several sessions at once and its pooled results are counted, else the earlier round's own."""
    if earlier.panel_round_id is not None:
        pooled = stored_pooled_results(db, earlier.panel_round_id)
        if pooled is not None:
            return pooled
    return round_results(db, earlier.session_id, earlier.id or 0)


def _feedback(db: Session, found: Round, participant: Participant) -> tuple[dict[int, Feedback], bool]:
    """Each outcome's earlier answer, and each group's spread only once the earlier round's results
    have been revealed, without groups or outcomes too small to show (voting.disclosure)."""
    if found.feedback_round_id is None:
        return {}, True
    earlier = db.get(Round, found.feedback_round_id)
    if earlier is None:
        return {}, True
    ballot = _ballot(db, earlier, participant)
    mine: dict[int, int | None] = {}
    if ballot is not None:
        mine = {a.outcome_id: a.value for a in db.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id))}
    shown = earlier.status == RoundStatus.closed and earlier.revealed
    previous = _earlier_results(db, earlier) if shown else None
    res = previous.results if previous is not None else None
    rules = disclosure(res) if res is not None else None
    feedback: dict[int, Feedback] = {}
    for outcome_id in (o.id for o in round_outcomes(db, earlier.id or 0) if o.id is not None):
        key = str(outcome_id)
        groups: dict[str, tuple[int, ...]] = {}
        words: dict[str, tuple[str, tuple[str, ...]]] = {}
        if previous is not None and res is not None and rules is not None:
            by_group = res.outcome(key).groups
            # In the population group's order (patients first), then any group no longer listed.
            for group_key in [*previous.group_names, *sorted(set(by_group) - set(previous.group_names))]:
                go = by_group.get(group_key)
                if go is not None and go.distribution is not None and rules.cell_shown(key, group_key):
                    name = previous.group_names.get(group_key, group_key)
                    groups[name] = go.distribution
                    said = plain.plain_cell("rating", name, res.groups[group_key].n, go)
                    words[name] = (said.people_words, said.lines)
        feedback[outcome_id] = Feedback(mine.get(outcome_id), outcome_id in mine, groups, words)
    return feedback, shown


def _next_pair(db: Session, found: Round, outcomes: list[Outcome], ballot: Ballot | None,
               participant: Participant) -> tuple[tuple[Outcome, Outcome] | None, int]:
    answered: set[frozenset[str]] = set()
    if ballot is not None:
        for left, right in db.exec(select(PairwiseAnswer.left_outcome_id, PairwiseAnswer.right_outcome_id)
                                   .where(PairwiseAnswer.ballot_id == ballot.id)):
            answered.add(frozenset((str(left), str(right))))
    appearances: dict[str, int] = {}
    rows = db.exec(select(PairwiseAnswer.left_outcome_id, PairwiseAnswer.right_outcome_id, func.count())
                   .join(Ballot, col(Ballot.id) == col(PairwiseAnswer.ballot_id)).where(Ballot.round_id == found.id)
                   .group_by(col(PairwiseAnswer.left_outcome_id), col(PairwiseAnswer.right_outcome_id))).all()
    for left, right, count in rows:
        appearances[str(left)] = appearances.get(str(left), 0) + int(count)
        appearances[str(right)] = appearances.get(str(right), 0) + int(count)
    # Seeded per participant and progress, so a reload shows the same pair rather than a new one.
    rng = random.Random(f"{found.id}:{participant.id}:{len(answered)}")
    pair = next_pair([str(o.id) for o in outcomes], appearances, answered, rng)
    if pair is None:
        return None, len(answered)
    by_id = {str(o.id): o for o in outcomes}
    return (by_id[pair[0]], by_id[pair[1]]), len(answered)


def get_participant_round(db: Session, found: Round, participant: Participant) -> ParticipantRound:
    options, presentation = parse_options(found.options_json)
    listed = {o.id: o for o in round_outcomes(db, found.id or 0)}
    outcomes = [listed[i] for i in presented([i for i in listed if i is not None], presentation,
                                             order_voter(found, participant))]
    ballot = _ballot(db, found, participant)
    answers: dict[int, int | None] = {}
    reasons: dict[int, str] = {}
    if ballot is not None:
        for a in db.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id)):
            answers[a.outcome_id] = a.value
            reasons[a.outcome_id] = a.reason
    pair: tuple[Outcome, Outcome] | None = None
    pairs_answered = 0
    if found.method == "pairwise" and found.status == RoundStatus.open:
        pair, pairs_answered = _next_pair(db, found, outcomes, ballot, participant)
    results = round_results(db, found.session_id, found.id or 0) if found.revealed else None
    feedback, feedback_revealed = _feedback(db, found, participant) if found.method == "rating" else ({}, True)
    return ParticipantRound(
        round=found, participant=participant, outcomes=outcomes,
        options=options, answers=answers, reasons=reasons,
        draft=read_draft(ballot) if ballot is not None and ballot.draft_json else
        {o: v for o, v in answers.items() if v is not None},
        submitted=ballot is not None and ballot.submitted_at is not None,
        pair=pair, pairs_answered=pairs_answered,
        feedback=feedback, results=results, finished=ballot is not None and ballot.finished_at is not None,
        draft_version=draft_version(ballot), feedback_revealed=feedback_revealed,
    )


def draft_version(ballot: Ballot | None) -> str:
    """Changes whenever a ranking or points draft does: a page sends the version it showed with
    each change, and a change made from a stale copy is refused (services.ballots.set_draft)."""
    return hashlib.sha256((ballot.draft_json if ballot is not None else "").encode()).hexdigest()[:16]
