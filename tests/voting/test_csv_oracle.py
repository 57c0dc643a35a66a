"""The column-wise ballot parser against the row-by-row one it replaced (oracle_csvio.py): for
generated ballot files with faults injected, both accept the same files with the same ballots, and
refuse the same files with the same errors (line, column, column name, message, in order)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.voting import BallotFileError, MethodOptions, parse_ballots_csv
from codesign.voting.csv_errors import UNWANTED
from codesign.voting.csvtable import _may_hold_unwanted, fast_table
from codesign.voting.types import Method
from tests.voting import oracle_csvio

PEOPLE = ["P1", "P2", "P3", "007", "7", " P4 ", "True", "x" * 30]
GROUPS = ["patient", "carer", "1", "Clinician ", "Patients", "CARERS", "social_care", "Social care"]
# The study's groups when the file is read as the app and `codesign tally` read it (by key or name).
STUDY_GROUPS = {"patient": "Patients", "carer": "Carers", "clinician": "Clinicians", "social_care": "Social care"}
OUTCOMES = ["A", "B", "C", "Sight, eyes", 'Say "hi"', "Line\nbreak", "007", "7", "é’"]
ODD_CELLS = ["", " ", "U", "u", "0", "10", "-1", "+3", "03", "1234567890", "3.0", "٣", "left", "LEFT", "maybe",
             "A", "Z", "P1", "carer", '"', "\r", "\n", "\x00", "\u202e", "\x85", ",", '"a,b"']
FRAGMENTS = ['"', '""', ",", "\n", "\r", "\r\n", " ", '"x"', "\ufeff", "\x0b", ",,,\n", "\n\n"]


def _write(rows: list[list[str]], terminator: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=terminator).writerows(rows)
    return out.getvalue()


@st.composite
def ballot_files(draw: st.DrawFn) -> tuple[str, Method]:
    method: Method = draw(st.sampled_from(["rating", "ranking", "points", "pairwise"]))
    columns = (["participant", "group", "left", "right", "choice"] if method == "pairwise"
               else ["participant", "group", "outcome", "value"])
    order = draw(st.permutations(columns))
    people = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))
    outcomes = draw(st.lists(st.sampled_from(OUTCOMES), min_size=2, max_size=5, unique=True))
    rows: list[dict[str, str]] = []
    for who in people:
        group = draw(st.sampled_from(GROUPS))
        if method == "pairwise":
            for _ in range(draw(st.integers(1, 3))):
                left, right = draw(st.permutations(outcomes))[:2]
                rows.append({"participant": who, "group": group, "left": left, "right": right,
                             "choice": draw(st.sampled_from(["left", "right", "none", "Right"]))})
            continue
        chosen = draw(st.permutations(outcomes))[:draw(st.integers(1, len(outcomes)))]
        for position, outcome in enumerate(chosen, start=1):
            value = {"rating": str(draw(st.sampled_from(["1", "5", "9", "U"]))), "ranking": str(position),
                     "points": str(draw(st.integers(0, 4)))}[method]
            rows.append({"participant": who, "group": group, "outcome": outcome, "value": value})
    table = [list(order)] + [[row[name] for name in order] for row in rows]
    for _ in range(draw(st.integers(0, 3))):  # faults in cells and rows
        fault = draw(st.sampled_from(["cell", "duplicate", "short", "extra", "blank", "spaces", "group"]))
        i = draw(st.integers(1, len(table) - 1)) if len(table) > 1 else 0
        row = table[i]
        if fault == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(st.sampled_from(ODD_CELLS))
        elif fault == "duplicate":
            table.insert(draw(st.integers(1, len(table))), list(row))
        elif fault == "short" and row:
            row.pop(draw(st.integers(0, len(row) - 1)))
        elif fault == "extra":
            row.append(draw(st.sampled_from(["", " ", "x"])))
        elif fault == "blank":
            table.insert(draw(st.integers(0, len(table))), draw(st.sampled_from([[], ["", ""], [" "]])))
        elif fault == "spaces" and row:
            j = draw(st.integers(0, len(row) - 1))
            row[j] = f" {row[j]}\t"
        elif fault == "group" and i > 0 and len(row) > order.index("group"):
            row[order.index("group")] = draw(st.sampled_from(GROUPS))
    text = _write(table, draw(st.sampled_from(["\n", "\r\n", "\r"])))
    if draw(st.booleans()):  # a fault in the text itself: quotes, line breaks, a byte order mark...
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(FRAGMENTS)) + text[at:]
    return text, method


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=ballot_files(), listed=st.booleans(), top_k=st.sampled_from([None, 2]),
       budget=st.sampled_from([5, 10]), cap=st.sampled_from([None, 3]), grouped=st.booleans())
def test_new_parser_agrees_with_the_old_one(file: tuple[str, Method], listed: bool, top_k: int | None,
                                           budget: int, cap: int | None, grouped: bool) -> None:
    text, method = file
    outcomes = ["A", "B", "C", "Sight, eyes", "007"] if listed else None
    options = MethodOptions(top_k=top_k, budget=budget, max_per_outcome=cap)
    groups = STUDY_GROUPS if grouped else None
    try:
        expected = oracle_csvio.parse_ballots_csv(text, method, source="f.csv", outcomes=outcomes, options=options,
                                                  groups=groups)
    except BallotFileError as old:
        with pytest.raises(BallotFileError) as caught:
            parse_ballots_csv(text, method, source="f.csv", outcomes=outcomes, options=options, groups=groups)
        new = caught.value
        assert str(new) == str(old)
        assert [(e.line, e.column, e.column_name, e.message) for e in new.errors] == \
               [(e.line, e.column, e.column_name, e.message) for e in old.errors]
        return
    got = parse_ballots_csv(text, method, source="f.csv", outcomes=outcomes, options=options, groups=groups)
    labels = [name for name in got.columns if name != "value"]
    assert all(isinstance(got[name].dtype, pd.CategoricalDtype) for name in labels)  # the old parser gave text
    pd.testing.assert_frame_equal(got.astype(dict.fromkeys(labels, "str")), expected)


def test_plain_files_take_the_fast_reader_and_odd_ones_the_careful_one() -> None:
    plain = 'participant,group,outcome,value\nP1,patient,"Sight, and ""eyes""",7\r\nP2,carer,"Two\nlines",U\nP3,carer,A,1'
    table = fast_table(plain)
    assert table is not None and table.lines.tolist() == [1, 2, 3, 5] and table.widths.tolist() == [4, 4, 4, 4]
    assert fast_table('participant,group,outcome,value\nP1,patient,Si"ght,7\n') is None  # quote inside a cell
    assert fast_table('participant,group,outcome,value\nP1,patient,"Sight" ,7\n') is None  # text after a quote
    assert fast_table('participant,group,outcome,value\nP1,patient,"Sight,7\n') is None  # never closed
    assert fast_table("participant,group,outcome,value\nP1,pat\x00ient,Sight,7\n") is None


def test_the_byte_check_finds_every_character_the_pattern_refuses() -> None:
    # Every character the pattern refuses, its neighbours, and a sample of all the others.
    flagged = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and UNWANTED.match(chr(cp))]
    rng = np.random.default_rng(7)
    near = {cp + d for cp in flagged for d in (-1, 0, 1)} | set(rng.integers(0, 0x110000, 5000).tolist())
    for cp in sorted(c for c in near if 0 <= c < 0x110000 and not 0xD800 <= c <= 0xDFFF):
        text = f"a,{chr(cp)}b\n"
        assert _may_hold_unwanted(text.encode()) == bool(UNWANTED.search(text)), hex(cp)
