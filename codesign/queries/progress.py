"""How far a round has got: per group, who joined, started and finished; who has not finished;
each table's list in a table round; ranking and points lists changed but not sent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from codesign.models import Ballot, BallotAnswer, PairwiseAnswer, Participant, Round, StakeholderGroup, WorkshopSession
from codesign.queries.basic import in_room, list_stakeholder_groups
from codesign.queries.rounds import read_draft

__all__ = ["GroupProgress", "RoundBallots", "RoundProgress", "TableProgress", "Waiting", "count_unsent",
           "groups_under", "list_people_in_room", "participant_label", "person_state", "round_ballots",
           "round_progress"]

EMPTY_DRAFTS = ("", "{}")
IMPORTED_KEYS = "x:%"  # voter keys of ballots imported from a file ("x:<participant id>")


def participant_label(person: Participant) -> str:
    """What the facilitator sees: the first name someone gave, or "Participant 12"."""
    return person.first_name or f"Participant {person.number or person.id}"


@dataclass(frozen=True)
class GroupProgress:
    group: StakeholderGroup
    joined: int  # people who joined the session (not imported voters)
    started: int
    finished: int
    imported: int = 0  # voters with a ballot imported into this round from a file: not in the three above


@dataclass(frozen=True)
class Waiting:
    """Someone who has not finished (or a table that has not sent its list)."""

    label: str
    group: str
    table: int | None
    started: bool


@dataclass(frozen=True)
class TableProgress:
    table: int
    people: int
    listed: int  # outcomes in the table's list now
    state: str  # "not started", "editing", "sent", "changed since sent"


@dataclass(frozen=True)
class RoundProgress:
    groups: list[GroupProgress]
    waiting: list[Waiting]
    tables: list[TableProgress]
    unsent: int  # ranking or points lists changed and not sent: they do not count until sent
    no_table: int  # table round: people who gave no table number

    @property
    def finished(self) -> int:
        return sum(g.finished for g in self.groups) if not self.tables else sum(
            t.state == "sent" for t in self.tables)

    @property
    def imported(self) -> int:
        return sum(g.imported for g in self.groups)


def _unsent(ballot: Ballot, sent: dict[int, int | None]) -> bool:
    """A ranking or points list with changes that were never sent (they would not be counted)."""
    if ballot.draft_json in EMPTY_DRAFTS:
        return False
    return ballot.submitted_at is None or read_draft(ballot) != {o: v for o, v in sent.items() if v is not None}


def _sent_answers(db: Session, ballot_ids: list[int]) -> dict[int, dict[int, int | None]]:
    sent: dict[int, dict[int, int | None]] = {i: {} for i in ballot_ids}
    if ballot_ids:
        for answer in db.exec(select(BallotAnswer).where(col(BallotAnswer.ballot_id).in_(ballot_ids))):
            sent[answer.ballot_id][answer.outcome_id] = answer.value
    return sent


def count_unsent(db: Session, found: Round) -> int:
    """Lists changed but not sent in a ranking or points round (closing would leave them uncounted)."""
    if found.method not in ("ranking", "points"):
        return 0
    ballots = list(db.exec(select(Ballot).where(Ballot.round_id == found.id)))
    sent = _sent_answers(db, [b.id for b in ballots if b.id is not None])
    return sum(_unsent(b, sent[b.id or 0]) for b in ballots)


def groups_under(db: Session, session_id: int, size: int) -> list[tuple[str, int]]:
    """Stakeholder groups with someone in the room but fewer than `size` people: (name, joined).
    People imported from another round's ballot file are not in the room, so they do not count."""
    session = db.get(WorkshopSession, session_id)
    assert session is not None
    joined = dict(db.exec(select(Participant.stakeholder_group_id, func.count())
                          .where(Participant.session_id == session_id, col(Participant.external_ref).is_(None),
                                 in_room())
                          .group_by(col(Participant.stakeholder_group_id))).all())
    return [(g.name, int(joined[g.id or 0])) for g in list_stakeholder_groups(db, session.population_group_id)
            if 0 < joined.get(g.id or 0, 0) < size]


def _started(found: Round, ballot: Ballot, answered: set[int]) -> bool:
    if found.method in ("ranking", "points"):
        return ballot.draft_json not in EMPTY_DRAFTS or ballot.submitted_at is not None
    return ballot.id in answered or ballot.finished_at is not None


@dataclass(frozen=True)
class RoundBallots:
    """A round's ballots as progress reads them: by voter key, which have an answer, and (ranking,
    points) what each sent. Three queries at most, whatever the number of people."""

    found: Round
    by_voter: dict[str, Ballot]
    answered: set[int]
    sent: dict[int, dict[int, int | None]]


def round_ballots(db: Session, found: Round, people: list[Participant] | None = None, *,
                  imported: bool = True) -> RoundBallots:
    """The round's ballots, or only those that count for `people` (a page of the people list:
    their own, imported or table ballots), so a page reads its fifty people's, not 20,000; without
    the ballots imported from a file if not `imported` (progress counts those in SQL)."""
    query = select(Ballot).where(Ballot.round_id == found.id)
    if not imported:
        query = query.where(col(Ballot.voter_key).not_like(IMPORTED_KEYS))
    if people is not None:
        keys = {key for p in people for key in (f"p:{p.id}", f"x:{p.id}")} | {
            f"t:{p.table_number}" for p in people if found.table_based and p.table_number is not None}
        query = query.where(col(Ballot.voter_key).in_(sorted(keys)))
    ballots = list(db.exec(query)) if people is None or people else []
    ids = [b.id for b in ballots if b.id is not None]
    answer_table = PairwiseAnswer if found.method == "pairwise" else BallotAnswer
    answered = set(db.exec(select(answer_table.ballot_id).where(
        col(answer_table.ballot_id).in_(ids)).distinct())) if ids else set()
    sent = _sent_answers(db, ids) if found.method in ("ranking", "points") else {}
    return RoundBallots(found, {b.voter_key: b for b in ballots}, answered, sent)


def person_ballot(read: RoundBallots, person: Participant) -> Ballot | None:
    """The ballot that counts for this person: their own (or imported) one, or their table's."""
    if read.found.table_based:
        return None if person.table_number is None else read.by_voter.get(f"t:{person.table_number}")
    return read.by_voter.get(f"p:{person.id}") or read.by_voter.get(f"x:{person.id}")


def person_state(read: RoundBallots, person: Participant) -> str:
    """"finished", "started" or "not started": the one definition the console and the people list
    share. Finished: every question answered (rating), the list sent (ranking, points; a table's
    list in a table round), or "I have finished" pressed."""
    ballot = person_ballot(read, person)
    if ballot is not None and ballot.finished_at is not None:
        return "finished"
    if ballot is not None and _started(read.found, ballot, read.answered):
        return "started"
    return "not started"


def list_people_in_room(db: Session, session_id: int) -> list[Participant]:
    """Who joined and is still in the session (not voters imported from a ballot file)."""
    return list(db.exec(select(Participant).where(Participant.session_id == session_id, in_room(),
                                                  col(Participant.external_ref).is_(None))
                        .order_by(col(Participant.number), col(Participant.id))))


def _imported_by_group(db: Session, found: Round) -> dict[int | None, int]:
    """Ballots imported into the round from a file, per group: counted by the database, as an
    import can bring 20,000 of them."""
    return {group: int(n) for group, n in db.exec(
        select(Ballot.stakeholder_group_id, func.count()).where(
            Ballot.round_id == found.id, col(Ballot.voter_key).like(IMPORTED_KEYS))
        .group_by(col(Ballot.stakeholder_group_id))).all()}


def round_progress(db: Session, found: Round) -> RoundProgress:
    session = db.get(WorkshopSession, found.session_id)
    assert session is not None
    groups = list_stakeholder_groups(db, session.population_group_id)
    names = {g.id: g.name for g in groups}
    # Removed people, and people merged into someone else, are not counted; voters imported from a
    # ballot file are counted apart (they never joined the room), from their ballots alone.
    people = list_people_in_room(db, found.session_id)
    read = round_ballots(db, found, imported=False)
    imported = _imported_by_group(db, found)
    ballots, sent, by_voter = list(read.by_voter.values()), read.sent, read.by_voter
    unsent = sum(_unsent(b, sent[b.id or 0]) for b in ballots) if sent else 0
    tables: list[TableProgress] = []
    waiting: list[Waiting] = []
    counts = {g.id: [0, 0, 0, imported.get(g.id, 0)] for g in groups}  # joined, started, finished; imported
    if found.table_based:
        numbers = sorted({p.table_number for p in people if p.table_number is not None}
                         | {b.table_number for b in ballots if b.table_number is not None})
        for number in numbers:
            ballot = by_voter.get(f"t:{number}")
            listed = len(read_draft(ballot)) if ballot is not None else 0
            state = ("not started" if ballot is None or not _started(found, ballot, read.answered) else
                     "editing" if ballot.submitted_at is None else
                     "changed since sent" if _unsent(ballot, sent.get(ballot.id or 0, {})) else "sent")
            tables.append(TableProgress(number, sum(p.table_number == number for p in people), listed, state))
            if state != "sent":
                waiting.append(Waiting(f"Table {number}", "", number, state != "not started"))
    for person in people:
        counts.setdefault(person.stakeholder_group_id, [0, 0, 0, 0])[0] += 1
        if found.table_based:
            continue
        state = person_state(read, person)
        counts[person.stakeholder_group_id][1] += state != "not started"
        counts[person.stakeholder_group_id][2] += state == "finished"
        if state != "finished":
            waiting.append(Waiting(participant_label(person), names.get(person.stakeholder_group_id, ""),
                                   person.table_number, state == "started"))
    return RoundProgress(
        groups=[GroupProgress(g, *counts.get(g.id, [0, 0, 0, 0])) for g in groups],
        waiting=waiting, tables=tables, unsent=unsent,
        no_table=sum(p.table_number is None for p in people) if found.table_based else 0)
