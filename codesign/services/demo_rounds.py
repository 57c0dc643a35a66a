"""The demo's voting rounds, so a newcomer sees populated round screens.

Round 1 rates ten outcomes 1-9: the twelve people in the room plus 32 online-survey respondents
(imported from a generated CSV), so every group has at least eight people. Round 2 asks again
with each person's round-1 answer and every group's spread beside it (Delphi feedback); some
answers move towards the rest and a few people say why. Round 3 ranks the top five.

Everything goes through the real services (create, open, answer, import, close, reveal), so the
audit log shows the whole workshop. The answers are made up but deterministic (a seeded random
generator, and exact shares per group), and were chosen so that the results show:
a clear IN (severe hypos, amputation), a clear OUT (weight), and outcomes patients and clinicians
see differently (seeing the same nurse; blood sugar over time, i.e. HbA1c).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from codesign.models import Outcome, Participant, Round, StakeholderGroup, User
from codesign.services import ballots, round_import, rounds

# Outcome wordings from the diabetes template, or from the demo's own accepted proposals.
HYPOS = "I do not have severe hypos where I need someone else to help me"
AMPUTATION = "Fewer people needing a foot amputation"
WEIGHT = "I get support to reach and stay at a weight that is healthy for me"
SAME_NURSE = "I can see the same diabetes nurse each time"
HBA1C = "My blood sugar stays in a safe range over time"
MOOD = "I get help with low mood and worry about my diabetes"
CARERS = "Carers get a break and some support"
HEART = "I avoid a heart attack or stroke"
CONFIDENCE = "I can manage my diabetes with confidence"
EYES = "My eyes are checked regularly and I keep my sight"
OUTCOMES = (HYPOS, AMPUTATION, WEIGHT, SAME_NURSE, HBA1C, MOOD, CARERS, HEART, CONFIDENCE, EYES)

# Shares of answers (value -> weight; None = unable to score).
Profile = Mapping[int | None, float]
CRITICAL: Profile = {9: 4, 8: 3, 7: 2, 6: 1}
HIGH: Profile = {9: 2, 8: 3, 7: 3, 6: 1, 5: 1}
FAIRLY_HIGH: Profile = {8: 2, 7: 3, 6: 3, 5: 1, None: 1}
MIDDLING: Profile = {7: 2, 6: 3, 5: 3, 4: 2}
LOW: Profile = {1: 2, 2: 3, 3: 4, 4: 1}
GROUPS = ("patient", "carer", "clinician", "commissioner")
PROFILES: dict[str, dict[str, Profile]] = {
    HYPOS: dict.fromkeys(GROUPS, CRITICAL),
    AMPUTATION: {"patient": CRITICAL, "carer": CRITICAL, "clinician": HIGH, "commissioner": HIGH},
    WEIGHT: {"patient": LOW, "carer": LOW, "clinician": {1: 1, 2: 3, 3: 4, 4: 1, 5: 1}, "commissioner": LOW},
    SAME_NURSE: {"patient": {9: 5, 8: 4, 7: 1}, "carer": HIGH, "clinician": {5: 4, 4: 4, 6: 1, 3: 1},
                 "commissioner": MIDDLING},
    HBA1C: {"patient": {6: 4, 5: 4, 7: 1, 4: 1}, "carer": MIDDLING, "clinician": {9: 4, 8: 4, 7: 2},
            "commissioner": HIGH},
    MOOD: {"patient": HIGH, "carer": HIGH, "clinician": FAIRLY_HIGH, "commissioner": FAIRLY_HIGH},
    CARERS: {"patient": FAIRLY_HIGH, "carer": CRITICAL, "clinician": MIDDLING, "commissioner": MIDDLING},
    HEART: {"patient": FAIRLY_HIGH, "carer": FAIRLY_HIGH, "clinician": CRITICAL, "commissioner": HIGH},
    CONFIDENCE: {"patient": HIGH, "carer": FAIRLY_HIGH, "clinician": HIGH, "commissioner": FAIRLY_HIGH},
    EYES: {"patient": HIGH, "carer": FAIRLY_HIGH, "clinician": FAIRLY_HIGH, "commissioner": FAIRLY_HIGH},
}
SURVEY_RESPONDENTS = {"patient": 8, "carer": 8, "clinician": 8, "commissioner": 8}
SURVEY_SOURCE = "online-survey.csv"
REASONS = (
    "Hearing the carers' side changed my mind.",
    "I had not thought about how often this goes wrong.",
    "Other groups rate it lower, and I can see why now.",
    "It matters, but less than the things that keep people out of hospital.",
)


@dataclass(frozen=True)
class Voter:
    """A person in the room (participant) or a survey respondent (ref, imported)."""

    group: str
    participant: Participant | None = None
    ref: str = ""


def _spread(rng: random.Random, n: int, profile: Profile) -> list[int | None]:
    """n answers with the profile's shares (largest remainder, so every share is met), shuffled."""
    total = sum(profile.values())
    exact = {value: n * weight / total for value, weight in profile.items()}
    counts = {value: int(share) for value, share in exact.items()}
    leftovers = sorted(exact, key=lambda v: (-(exact[v] - counts[v]), -1 if v is None else v))
    for value in leftovers[: n - sum(counts.values())]:
        counts[value] += 1
    answers = [value for value, count in counts.items() for _ in range(count)]
    rng.shuffle(answers)
    return answers


def _critical(value: int | None) -> bool | None:
    return None if value is None else value >= 7


def _rating_text(value: int | None) -> str:
    return "U" if value is None else str(value)


def _survey_csv(voters: Sequence[Voter], outcome_ids: Sequence[int], answers: Mapping[tuple[int, int], int | None],
                *, ranking: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["participant", "group", "outcome", "value"])
    for index, voter in enumerate(voters):
        if voter.participant is not None:
            continue
        for outcome_id in outcome_ids:
            value = answers.get((index, outcome_id), -1)
            if value == -1:
                continue  # not ranked
            writer.writerow([voter.ref, voter.group, outcome_id, str(value) if ranking else _rating_text(value)])
    return out.getvalue()


def _round(db: Session, actor: User, session_id: int, outcome_ids: Sequence[int], **form: str) -> Round:
    made = rounds.create_round(db, actor, session_id, {
        "combine": "weighted", "in_min": "70", "in_max_low": "15", "out_min": "70", "out_max_high": "15",
        "min_group_size": "5", "budget": "10", "top_k": "5", "outcomes": ",".join(map(str, outcome_ids)), **form})
    assert made.id is not None
    # The demo is made up: its small groups are known and shown as the demo round sets.
    return rounds.open_round(db, actor, session_id, made.id, acknowledge_small=True)


def _finish(db: Session, actor: User, session_id: int, found: Round) -> None:
    assert found.id is not None
    rounds.close_round(db, actor, session_id, found.id)
    rounds.set_revealed(db, actor, session_id, found.id, True)


def _rate(db: Session, actor: User, session_id: int, found: Round, voters: Sequence[Voter],
          outcome_ids: Sequence[int], answers: Mapping[tuple[int, int], int | None],
          reasons: Mapping[tuple[int, int], str], source: str) -> None:
    assert found.id is not None
    for index, voter in enumerate(voters):
        if voter.participant is None or voter.participant.id is None:
            continue
        for outcome_id in outcome_ids:
            ballots.answer_rating(db, found.id, voter.participant.id, outcome_id,
                                  "unable" if answers[index, outcome_id] is None else str(answers[index, outcome_id]),
                                  f"demo-{found.number}-{voter.participant.id}-{outcome_id}",
                                  reasons.get((index, outcome_id), ""))
    round_import.import_ballots(db, actor, session_id, found.id, _survey_csv(voters, outcome_ids, answers), source)


def _towards_the_room(rng: random.Random, voters: Sequence[Voter], outcome_ids: Sequence[int],
                      first: Mapping[tuple[int, int], int | None]) -> dict[tuple[int, int], int | None]:
    """Round 2: about half of the answers move one or two points towards everyone's median."""
    second: dict[tuple[int, int], int | None] = {}
    for outcome_id in outcome_ids:
        scored = sorted(v for (_, o), v in first.items() if o == outcome_id and v is not None)
        median = scored[len(scored) // 2]
        for index in range(len(voters)):
            value = first[index, outcome_id]
            if value is not None and value != median and rng.random() < 0.5:
                step = min(abs(median - value), rng.choice((1, 1, 2)))
                value += step if median > value else -step
            second[index, outcome_id] = value
    return second


def seed_demo_rounds(db: Session, actor: User, session_id: int, population_group_id: int,
                     people: Sequence[Participant]) -> list[Round]:
    """Run the demo's three rounds in `session_id`; does nothing if the session already has rounds."""
    if db.exec(select(Round).where(Round.session_id == session_id)).first() is not None:
        return []
    by_statement = {o.statement: o.id for o in db.exec(select(Outcome).where(
        Outcome.population_group_id == population_group_id, Outcome.status == "accepted"))}
    outcome_ids = [by_statement[s] for s in OUTCOMES if by_statement.get(s) is not None]
    ids = [i for i in outcome_ids if i is not None]
    statements = {i: s for s, i in by_statement.items()}
    keys = {g.id: g.key for g in db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == population_group_id))}
    voters = [Voter(keys[p.stakeholder_group_id], participant=p) for p in people]
    for group, count in SURVEY_RESPONDENTS.items():
        voters += [Voter(group, ref=f"OS-{group[:3].upper()}-{n:02d}") for n in range(1, count + 1)]
    rng = random.Random(20260320)  # the workshop's date: the same demo every time

    first: dict[tuple[int, int], int | None] = {}
    for outcome_id in ids:
        for group in GROUPS:
            members = [i for i, v in enumerate(voters) if v.group == group]
            for index, value in zip(members, _spread(rng, len(members), PROFILES[statements[outcome_id]][group]),
                                    strict=True):
                first[index, outcome_id] = value
    round_1 = _round(db, actor, session_id, ids, method="rating", title="How important is each outcome?")
    _rate(db, actor, session_id, round_1, voters, ids, first, {}, SURVEY_SOURCE)
    _finish(db, actor, session_id, round_1)

    second = _towards_the_room(rng, voters, ids, first)
    # A few people in the room say why they moved across the "critical" line (7).
    reasons: dict[tuple[int, int], str] = {}
    for index, voter in enumerate(voters):
        moved = [o for o in ids if voter.participant is not None and _critical(first[index, o]) is not None
                 and _critical(second[index, o]) not in (None, _critical(first[index, o]))]
        if moved and len(reasons) < len(REASONS):
            reasons[index, moved[0]] = REASONS[len(reasons)]
    round_2 = _round(db, actor, session_id, ids, method="rating", title="How important, now you have "
                     "seen everyone's answers?", feedback_round_id=str(round_1.id))
    _rate(db, actor, session_id, round_2, voters, ids, second, reasons, "online-survey-round-2.csv")
    _finish(db, actor, session_id, round_2)

    # Round 3: everyone's top five, in the order of their round-2 ratings (ties broken at random).
    ranks: dict[tuple[int, int], int | None] = {}
    for index in range(len(voters)):
        order = sorted(ids, key=lambda o: (-(second[index, o] or 0), rng.random()))[:5]
        ranks.update({(index, o): position for position, o in enumerate(order, start=1)})
    round_3 = _round(db, actor, session_id, ids, method="ranking", title="Your top five")
    assert round_3.id is not None
    for index, voter in enumerate(voters):
        if voter.participant is not None and voter.participant.id is not None:
            mine = {o: p for (i, o), p in ranks.items() if i == index and p is not None}
            ballots.set_draft(db, round_3.id, voter.participant.id, mine)
            ballots.submit_draft(db, round_3.id, voter.participant.id, f"demo-3-{voter.participant.id}")
    round_import.import_ballots(db, actor, session_id, round_3.id,
                                _survey_csv(voters, ids, ranks, ranking=True), "online-survey-ranking.csv")
    _finish(db, actor, session_id, round_3)
    return [round_1, round_2, round_3]
