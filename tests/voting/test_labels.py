"""Outcomes keyed by id (as the app keys them) break exact ties by their wording, not their id."""

from __future__ import annotations

import pandas as pd

from codesign.voting import combine_tables, tally


def test_alphabetical_tie_break_uses_the_wording() -> None:
    ballots = pd.DataFrame({"participant": ["a", "a"], "group": ["patient", "patient"], "outcome": ["9", "10"],
                            "value": pd.array([7, 7], dtype="Int64")})
    by_key = tally(ballots, "rating")
    assert by_key.order == ["10", "9"]  # "1" sorts before "9" as text
    by_wording = tally(ballots, "rating", labels={"9": "Apples", "10": "Bananas"})
    assert by_wording.order == ["9", "10"]


def test_table_rounds_break_ties_by_wording_too() -> None:
    frame = pd.DataFrame({"table": ["1", "2"], "outcome": ["10", "9"], "position": [1, 1]})
    combined = combine_tables(frame, ["9", "10"], {"9": "Apples", "10": "Bananas"})
    assert [c.outcome for c in combined] == ["9", "10"]
