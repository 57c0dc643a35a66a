"""JLA table rounds: lowest total rank first; unranked = that table's count + 1."""

from __future__ import annotations

import pandas as pd
import pytest

from codesign.voting import combine_tables


def frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["table", "outcome", "position"])


def test_lowest_total_rank_first_with_fill_in_for_unranked() -> None:
    rows = [
        ("1", "Sight", 1), ("1", "Feet", 2), ("1", "Kidneys", 3),
        ("2", "Feet", 1), ("2", "Sight", 2),  # table 2 did not rank Kidneys: counts 3
        ("3", "Kidneys", 1), ("3", "Sight", 2), ("3", "Feet", 3),
    ]  # fmt: skip
    combined = combine_tables(frame(rows))
    assert [(c.outcome, c.total_rank, c.rank) for c in combined] == [
        ("Sight", 5, 1),
        ("Feet", 6, 2),
        ("Kidneys", 7, 3),
    ]
    kidneys = combined[2]
    assert kidneys.tables == {"1": 3, "2": 3, "3": 1}
    assert kidneys.unranked_by == ("2",)
    assert kidneys.first_places == 1


def test_ties_go_to_more_first_places_then_alphabetical() -> None:
    rows = [
        ("1", "b", 1), ("1", "A", 2), ("1", "c", 3),
        ("2", "A", 1), ("2", "c", 2), ("2", "b", 3),
        ("3", "c", 1), ("3", "b", 2), ("3", "A", 3),
        ("4", "A", 2), ("4", "b", 1),
    ]  # fmt: skip
    combined = combine_tables(frame(rows))
    # Totals: A 2+1+3+2 = 8, b 1+3+2+1 = 7, c 3+2+1+3 = 9 (table 4 fill-in 3).
    assert [(c.outcome, c.total_rank) for c in combined] == [("b", 7), ("A", 8), ("c", 9)]
    tied = combine_tables(frame([("1", "b", 1), ("1", "A", 2), ("2", "A", 1), ("2", "b", 2)]))
    assert [c.outcome for c in tied] == ["A", "b"]  # 3 each, one first each: alphabetical
    # All total 4; X and Z have a first place each, Alpha none: Alpha last despite its name.
    firsts = combine_tables(
        frame([("1", "X", 1), ("1", "Alpha", 2), ("1", "Z", 3),
               ("2", "Z", 1), ("2", "Alpha", 2), ("2", "X", 3)])
    )  # fmt: skip
    assert [(c.outcome, c.total_rank, c.first_places) for c in firsts] == [
        ("X", 4, 1),
        ("Z", 4, 1),
        ("Alpha", 4, 0),
    ]


def test_shortlist_outcomes_no_table_ranked_still_appear() -> None:
    combined = combine_tables(frame([("1", "A", 1)]), outcomes=["A", "B"])
    assert [(c.outcome, c.total_rank) for c in combined] == [("A", 1), ("B", 2)]
    with pytest.raises(ValueError, match="'C' is not on the shortlist"):
        combine_tables(frame([("1", "C", 1)]), outcomes=["A", "B"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("1", "A", 1), ("1", "A", 2)], "ranked 'A' twice"),
        ([("1", "A", 1), ("1", "B", 1)], "used position 1 twice"),
        ([("1", "A", 0)], "below 1"),
    ],
)
def test_bad_table_rankings(rows: list[tuple[str, str, int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        combine_tables(frame(rows))


def test_missing_column_and_fractional_position() -> None:
    with pytest.raises(ValueError, match="missing column 'position'"):
        combine_tables(pd.DataFrame({"table": ["1"], "outcome": ["A"]}))
    with pytest.raises(ValueError, match="not a whole number"):
        combine_tables(pd.DataFrame({"table": ["1"], "outcome": ["A"], "position": [1.5]}))
