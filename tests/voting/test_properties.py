"""Property-based checks: row order, duplication of a group, monotonicity, determinism.

Hypothesis runs derandomized (a fixed sequence of examples) so CI is stable.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.voting import MethodOptions, Results, tally
from codesign.voting.types import Method

OUTCOMES = ["Sight", "Feet", "kidneys", "Mood", "Hypos"]
GROUPS = ["patient", "carer", "clinician"]
PROFILE = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
BUDGET = 10
K = 3


@st.composite
def ballots(draw: st.DrawFn, method: Method) -> pd.DataFrame:
    """A small round: 1-3 groups of 1-4 participants over 2-5 outcomes."""
    outcomes = OUTCOMES[: draw(st.integers(2, len(OUTCOMES)))]
    groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3, unique=True))
    rows: list[tuple[Any, ...]] = []
    for group in groups:
        for k in range(draw(st.integers(1, 4))):
            who = f"{group}-{k}"
            if method == "rating":
                for outcome in outcomes:
                    value = draw(st.one_of(st.integers(1, 9), st.integers(1, 9), st.none()))
                    rows.append((who, group, outcome, value))
            elif method == "ranking":
                order = draw(st.permutations(outcomes))[: draw(st.integers(1, K))]
                rows += [(who, group, o, p) for p, o in enumerate(order, start=1)]
            elif method == "points":
                left = BUDGET
                for outcome in outcomes:
                    give = draw(st.integers(0, left))
                    left -= give
                    if give:
                        rows.append((who, group, outcome, give))
                if not any(r[0] == who for r in rows):
                    rows.append((who, group, outcomes[0], 0))
            else:
                for _ in range(draw(st.integers(1, 4))):
                    left_o, right_o = draw(st.permutations(outcomes))[:2]
                    choice = draw(st.sampled_from(["left", "right", "none"]))
                    rows.append((who, group, left_o, right_o, choice))
    columns = (
        ["participant", "group", "left", "right", "choice"]
        if method == "pairwise"
        else ["participant", "group", "outcome", "value"]
    )
    return pd.DataFrame(rows, columns=columns)


def run(frame: pd.DataFrame, method: Method) -> Results:
    options = MethodOptions(top_k=K, budget=BUDGET)
    return tally(frame, method, outcomes=OUTCOMES, options=options)


def as_json(results: Results) -> str:
    return json.dumps(results.to_dict(), sort_keys=True, allow_nan=False)


def scores_and_order(results: Results) -> list[tuple[str, float | None, dict[str, Any]]]:
    return [(o.outcome, o.score, {g: (v.score, v.rank) for g, v in o.groups.items()}) for o in results.outcomes]


def method_and_ballots(methods: list[Method]) -> st.SearchStrategy[tuple[Method, pd.DataFrame]]:
    return st.sampled_from(methods).flatmap(lambda m: st.tuples(st.just(m), ballots(m)))


@PROFILE
@given(method_and_ballots(["rating", "ranking", "points", "pairwise"]), st.randoms())
def test_row_order_changes_nothing(case: tuple[Method, pd.DataFrame], rnd: Any) -> None:
    method, frame = case
    order = list(range(len(frame)))
    rnd.shuffle(order)
    shuffled = frame.iloc[order].reset_index(drop=True)
    first = as_json(run(frame, method))
    assert as_json(run(shuffled, method)) == first
    assert as_json(run(frame.copy(), method)) == first  # and the same input, the same output


@PROFILE
@given(method_and_ballots(["rating", "ranking", "points"]), st.data())
def test_duplicating_a_group_changes_no_score_or_order(case: tuple[Method, pd.DataFrame], data: st.DataObject) -> None:
    # Pairwise is left out on purpose: doubling its answers doubles the evidence against the
    # fixed Bradley-Terry prior, which rightly moves the estimates.
    method, frame = case
    group = data.draw(st.sampled_from(sorted(set(frame["group"]))))
    copy = frame[frame["group"] == group].copy()
    copy["participant"] = copy["participant"] + "-twin"
    doubled = pd.concat([frame, copy], ignore_index=True)
    assert scores_and_order(run(doubled, method)) == scores_and_order(run(frame, method))


@PROFILE
@given(ballots("rating"), st.data())
def test_raising_a_rating_never_lowers_the_rank(frame: pd.DataFrame, data: st.DataObject) -> None:
    raisable = [i for i, v in enumerate(frame["value"]) if v is not None and v < 9]
    if not raisable:
        return
    row = data.draw(st.sampled_from(raisable))
    raised = frame.copy()
    raised.loc[row, "value"] = data.draw(st.integers(int(frame["value"][row]) + 1, 9))
    outcome = frame["outcome"][row]
    assert run(raised, "rating").outcome(outcome).rank <= run(frame, "rating").outcome(outcome).rank


@PROFILE
@given(ballots("points"), st.data())
def test_giving_a_point_more_never_lowers_the_rank(frame: pd.DataFrame, data: st.DataObject) -> None:
    spent = frame.groupby("participant")["value"].sum()
    who = data.draw(st.sampled_from(sorted(spent.index)))
    if spent[who] >= BUDGET:
        return
    outcome = data.draw(st.sampled_from(OUTCOMES))
    group = frame.loc[frame["participant"] == who, "group"].iloc[0]
    mine = (frame["participant"] == who) & (frame["outcome"] == outcome)
    more = frame.copy()
    if mine.any():
        more.loc[mine, "value"] += 1
    else:
        more = pd.concat(
            [more, pd.DataFrame([(who, group, outcome, 1)], columns=frame.columns)],
            ignore_index=True,
        )
    assert run(more, "points").outcome(outcome).rank <= run(frame, "points").outcome(outcome).rank


@PROFILE
@given(ballots("ranking"), st.data())
def test_moving_an_outcome_up_a_ballot_never_lowers_its_rank(frame: pd.DataFrame, data: st.DataObject) -> None:
    movable = [i for i, p in enumerate(frame["value"]) if p > 1]
    if not movable:
        return
    row = data.draw(st.sampled_from(movable))
    who, position = frame["participant"][row], frame["value"][row]
    above = frame.index[(frame["participant"] == who) & (frame["value"] == position - 1)][0]
    moved = frame.copy()
    moved.loc[row, "value"], moved.loc[above, "value"] = position - 1, position
    outcome = frame["outcome"][row]
    assert run(moved, "ranking").outcome(outcome).rank <= run(frame, "ranking").outcome(outcome).rank
