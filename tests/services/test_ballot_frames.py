"""Reading rounds' answers for counting (queries/ballot_frames.py): one round as before, and
several rounds pooled into one frame that counts as the concatenated ballots do."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlmodel import Session, col, select

from codesign import queries
from codesign.models import Ballot, BallotAnswer, PairwiseAnswer, Round, User
from codesign.queries.ballot_frames import ballots_frame_for_rounds
from codesign.services import round_import, rounds
from codesign.voting import parse_ballots_csv, tally
from tests.round_helpers import accepted_ids, open_round

HEADER = "participant,group,outcome,value\n"


def _round_with(session: Session, facilitator: User, workshop, ids: list[int], text: str,  # type: ignore[no-untyped-def]
                **form: str) -> Round:
    found = open_round(session, facilitator, workshop, ids, **form)
    assert found.id is not None
    round_import.import_ballots(session, facilitator, workshop.id, found.id, text, "ballots.csv")
    return rounds.close_round(session, facilitator, workshop.id, found.id, confirm_unsent=True)


def test_one_round_reads_every_answer_with_groups_and_unable(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    text = HEADER + f"A,patient,{ids[0]},9\nA,patient,{ids[1]},U\nB,carer,{ids[0]},4\nB,carer,{ids[2]},7\n"
    found = _round_with(session, facilitator, workshop, ids, text)
    frame = queries.ballots_frame(session, found)
    assert list(frame.columns) == ["participant", "group", "outcome", "value"]
    assert str(frame["value"].dtype) == "Int64"
    voters = {str(p) for p in frame["participant"]}
    assert len(voters) == 2  # imported voters are "x:<reference>"
    by_group = {g: sorted(v) for g, v in frame.groupby("group", observed=True)["outcome"]}
    assert by_group == {"carer": sorted([str(ids[0]), str(ids[2])]), "patient": sorted([str(ids[0]), str(ids[1])])}
    unable = frame[frame["value"].isna()]
    assert unable["outcome"].astype(str).tolist() == [str(ids[1])]


def test_several_rounds_pool_into_one_count_equal_to_the_concatenated_files(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    first = HEADER + f"A,patient,{ids[0]},9\nA,patient,{ids[1]},U\nB,carer,{ids[0]},4\nB,carer,{ids[2]},7\n"
    second = HEADER + f"C,patient,{ids[0]},2\nC,patient,{ids[2]},8\nD,clinician,{ids[1]},6\n"
    one = _round_with(session, facilitator, workshop, ids, first)
    two = _round_with(session, facilitator, workshop, ids, second)
    pooled = ballots_frame_for_rounds(session, [one, two])
    assert sorted(pooled.groupby("round")["participant"].nunique().items()) == [(one.id, 2), (two.id, 2)]
    # The pooled count is the count of both files one after the other.
    files = parse_ballots_csv(first + second.removeprefix(HEADER), "rating")
    outcomes = [str(i) for i in ids]
    counted = tally(pooled.drop(columns="round"), "rating", outcomes=outcomes).to_dict()
    expected = tally(files, "rating", outcomes=outcomes).to_dict()
    assert counted == expected
    assert pooled["participant"].nunique() == 4
    # A voter_key naming one person in both rounds puts both rounds' ballots under one name.
    same = ballots_frame_for_rounds(session, [one, two], voter_key=lambda r, key: "everyone")
    assert set(same["participant"].astype(str)) == {"everyone"} and len(same) == len(pooled) == 7


def test_rounds_of_different_methods_do_not_pool(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    rating = _round_with(session, facilitator, workshop, ids, HEADER + f"A,patient,{ids[0]},9\n")
    ranking = _round_with(session, facilitator, workshop, ids, HEADER + f"A,patient,{ids[0]},1\n", method="ranking")
    with pytest.raises(ValueError, match="one method"):
        ballots_frame_for_rounds(session, [rating, ranking])
    assert len(ballots_frame_for_rounds(session, [ranking])) == 1


def _stored(session: Session, found: Round) -> list[tuple[int, int, int | None]]:
    """The round's answers as stored: (ballot, outcome, value), read plainly by the ORM."""
    rows = session.exec(select(BallotAnswer.ballot_id, BallotAnswer.outcome_id, BallotAnswer.value)
                        .join(Ballot, col(Ballot.id) == col(BallotAnswer.ballot_id))
                        .where(Ballot.round_id == found.id))
    return sorted((b, o, v) for b, o, v in rows)


def test_answers_are_read_as_stored_at_any_32_bit_value(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    # Each answer's outcome and value travel packed in one 64-bit integer: the extremes a column
    # can hold, and unable (NULL), must come back as they were stored.
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    assert found.id is not None
    text = HEADER + "".join(f"{p},patient,{o},5\n" for p in "ABCD" for o in ids)
    round_import.import_ballots(session, facilitator, workshop.id, found.id, text, "ballots.csv")
    extremes: list[int | None] = [-2_147_483_647, -1, 0, 1, 2_147_483_647, None, 9, -2_147_483_647, 7, None, 3, 1]
    answers = session.exec(select(BallotAnswer).join(Ballot, col(Ballot.id) == col(BallotAnswer.ballot_id))
                           .where(Ballot.round_id == found.id).order_by(col(BallotAnswer.id))).all()
    assert len(answers) == len(extremes)
    for answer, value in zip(answers, extremes, strict=True):
        answer.value = value
        session.add(answer)
    session.commit()
    frame = ballots_frame_for_rounds(session, [found], with_ballot=True)
    read = sorted((int(b), int(o), None if pd.isna(v) else int(v))
                  for b, o, v in zip(frame["ballot"], frame["outcome"].astype(str), frame["value"], strict=True))
    assert read == _stored(session, found)


def test_a_pairwise_round_reads_each_pair_and_choice_as_stored(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="pairwise")
    assert found.id is not None
    a, b, c = ids
    text = ("participant,group,left,right,choice\n"
            f"A,patient,{a},{b},left\nA,patient,{b},{c},none\nA,patient,{c},{a},right\n"
            f"B,carer,{b},{a},right\nB,carer,{a},{c},left\n")
    round_import.import_ballots(session, facilitator, workshop.id, found.id, text, "ballots.csv")
    frame = ballots_frame_for_rounds(session, [found], with_ballot=True)
    read = sorted(zip(frame["ballot"].astype(int), frame["left"].astype(str).astype(int),
                      frame["right"].astype(str).astype(int), frame["choice"].astype(str), strict=True))
    stored = sorted(session.exec(select(PairwiseAnswer.ballot_id, PairwiseAnswer.left_outcome_id,
                                        PairwiseAnswer.right_outcome_id, PairwiseAnswer.choice)
                                 .join(Ballot, col(Ballot.id) == col(PairwiseAnswer.ballot_id))
                                 .where(Ballot.round_id == found.id)))
    assert read == [tuple(r) for r in stored] and len(read) == 5
    assert {str(g) for g in frame["group"]} == {"patient", "carer"}
