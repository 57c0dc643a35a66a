"""Delphi round-2 feedback shows each group's spread, except groups too small to report."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from codesign import queries
from codesign.services import ballots, rounds, sessions
from tests.round_helpers import accepted_ids, open_round, round_form


def test_feedback_leaves_out_groups_below_the_minimum_size(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids)  # minimum group size 5
    keys = itertools.count()
    people = [sessions.join_session(session, workshop.id, "patient") for _ in range(5)]
    people += [sessions.join_session(session, workshop.id, "carer") for _ in range(2)]
    for person in people:
        for outcome in ids:
            ballots.answer_rating(session, first.id, person.id, outcome, "8", f"fb-key-{next(keys):05d}")
    rounds.close_round(session, facilitator, workshop.id, first.id)
    second = rounds.create_round(session, facilitator, workshop.id,
                                 round_form(ids, feedback_round_id=str(first.id), title="Round 2"))
    rounds.open_round(session, facilitator, workshop.id, second.id)
    view = queries.get_participant_round(session, queries.get_round(session, workshop.id, second.id), people[0])
    feedback = view.feedback[ids[0]]
    assert feedback.mine == 8 and feedback.answered
    assert list(feedback.groups) == ["Patients"]  # the two carers are not shown
    assert feedback.groups["Patients"][7] == 5  # five patients said 8


def test_no_import_into_a_closed_round(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from codesign.errors import Conflict
    from codesign.models import Ballot
    from codesign.services import round_import

    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    rounds.close_round(session, facilitator, workshop.id, found.id)
    csv_text = f"participant,group,outcome,value\nR1,patient,{ids[0]},9\n"
    with pytest.raises(Conflict, match="results are final"):
        round_import.import_ballots(session, facilitator, workshop.id, found.id, csv_text, "late.csv")
    from sqlmodel import select

    assert session.exec(select(Ballot)).all() == []
