"""The quote-free shortcut of the ballot file reader (csvtable._plain_table) gives the table the
general reader gives, or leaves the file to it: never a different table."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.voting.csvtable import Table, _located_table, _plain_table

CELL = st.sampled_from(["", " ", "P1", "patient", "Sleep well", "7", "U", "x y"])
ROW = st.lists(CELL, min_size=1, max_size=6)


def same(a: Table, b: Table) -> bool:
    return (np.array_equal(a.lines, b.lines) and np.array_equal(a.widths, b.widths)
            and a.physical_lines == b.physical_lines and len(a.columns) == len(b.columns)
            and all(a.cells(i) == b.cells(i) for i in range(len(a))))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=8), final_break=st.booleans())
def test_the_shortcut_agrees_with_the_general_reader(rows: list[list[str]], final_break: bool) -> None:
    raw = ("\n".join(",".join(cells) for cells in rows) + ("\n" if final_break else "")).encode()
    plain = _plain_table(raw)
    if plain is not None:
        located = _located_table(raw)
        assert located is not None and same(plain, located)


def test_the_shortcut_takes_even_files_and_leaves_the_rest() -> None:
    assert _plain_table(b"a,b\n1,2\n3,4\n") is not None
    assert _plain_table(b"a,b\n1,2\n3,4") is not None  # no final line break
    assert _plain_table(b"a,b\n1,2,3\n4\n") is None  # as many commas as even rows, but uneven
    assert _plain_table(b"a,b\n1\n3,4\n") is None  # a short row
    assert _plain_table(b"a,b\n\n3,4\n") is None  # a blank line: the general reader drops it
