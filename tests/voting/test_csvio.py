"""Ballot CSV parser: every refusal names the exact line and column."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.voting import BallotFileError, MethodOptions, ballots_to_csv, parse_ballots_csv
from codesign.voting.csvio import MAX_ERRORS
from codesign.voting.types import Method
from tests.voting.helpers import DATA

HEADER = "participant,group,outcome,value\n"


def refuse(
    text: str,
    method: Method = "rating",
    *,
    outcomes: list[str] | None = None,
    options: MethodOptions | None = None,
) -> BallotFileError:
    with pytest.raises(BallotFileError) as caught:
        parse_ballots_csv(
            text,
            method,
            source="ballots.csv",
            outcomes=outcomes,
            options=options or MethodOptions(),
        )
    return caught.value


def where(error: BallotFileError) -> tuple[int, int | None, str | None]:
    return error.line, error.column, error.column_name


def test_message_format_names_file_line_and_column() -> None:
    rows = [f"P{i},patient,Sight,{7 + i % 2}" for i in range(1, 6)] + ["P6,patient,Sight,12"]
    error = refuse(HEADER + "\n".join(rows) + "\n")
    assert str(error) == "ballots.csv, line 7, column 4 (value): 12 is out of range 1-9"
    assert where(error) == (7, 4, "value")


def test_parses_rating_with_unable_bom_quotes_crlf_and_any_column_order() -> None:
    text = (
        "\ufeffValue, Outcome ,GROUP,participant\r\n"
        '7,"I do not get foot ulcers, and if I do they heal quickly",patient,P1\r\n'
        "U,Sight,patient,P1\r\n"
        "u,Sight,carer,P2\r\n"
    )
    frame = parse_ballots_csv(text, "rating")
    assert list(frame.columns) == ["participant", "group", "outcome", "value"]
    assert frame["outcome"].tolist()[0] == "I do not get foot ulcers, and if I do they heal quickly"
    assert frame["value"].isna().tolist() == [False, True, True]
    assert str(frame["value"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("header", "expected", "message"),
    [
        ("participant,group,outcome,score", (1, 4, "score"), "unknown column 'score'"),
        ("participant,group,group,outcome,value", (1, 3, "group"), "column 'group' appears twice"),
        ("participant,outcome,value", (1, 2, "group"), "missing column 'group'"),
    ],
)
def test_header_errors(header: str, expected: tuple[int, int, str], message: str) -> None:
    error = refuse(header + "\nP1,patient,Sight,7\n")
    assert where(error) == expected
    assert message in str(error)


def test_semicolon_files_and_trailing_empty_header_cells() -> None:
    error = refuse("participant;group;outcome;value\nP1;patient;Sight;7\n")
    assert where(error) == (1, 1, None)
    assert "save the file as comma-separated CSV" in str(error)
    frame = parse_ballots_csv("participant,group,outcome,value,,\nP1,patient,Sight,7,,\n", "rating")
    assert frame["value"].tolist() == [7]


def test_empty_file_and_header_only() -> None:
    assert where(refuse("")) == (1, 1, None)
    assert "the file is empty" in str(refuse("\ufeff"))
    error = refuse(HEADER)
    assert (error.line, str(error)) == (2, "ballots.csv, line 2, column 1: the file has a header but no ballot rows")
    assert refuse(HEADER.strip()).line == 1  # no line 2 to point at


@pytest.mark.parametrize(
    ("rows", "expected", "message"),
    [
        (",patient,Sight,7", (2, 1, "participant"), "participant is empty"),
        ("P1,patient,Sight,", (2, 4, "value"), "value is empty"),
        ("P1,patient,Sight,seven", (2, 4, "value"), "'seven' is not a whole number or U"),
        ("P1,patient,Sight,7.5", (2, 4, "value"), "'7.5' is not a whole number"),
        ("P1,patient,Sight,0", (2, 4, "value"), "0 is out of range 1-9"),
        ("P1,patient,Sight", (2, 4, None), "expected 4 values, found 3"),
        ("P1,patient,Sight,7,extra", (2, 5, None), "expected 4 values, found 5"),
        ("P1,patient,Sight,7\nP1,patient,Sight,8", (3, 3, "outcome"), "already gave a value"),
        ("P1,patient,Sight,7\nP1,carer,Feet,8", (3, 2, "group"), "is in group 'patient' on line 2"),
    ],
)
def test_rating_row_errors(rows: str, expected: tuple[int, int, str | None], message: str) -> None:
    error = refuse(HEADER + rows + "\n")
    assert where(error) == expected
    assert message in str(error)


def test_trailing_empty_cells_and_blank_lines_are_allowed_and_counted() -> None:
    text = HEADER + "P1,patient,Sight,7,,\n\n,,,\nP2,patient,Sight,10\n"
    assert where(refuse(text)) == (5, 4, "value")


def test_line_numbers_are_physical_lines_when_a_cell_spans_lines() -> None:
    text = HEADER + 'P1,patient,"Sight,\nand eyes",7\nP2,patient,Feet,99\n'
    assert where(refuse(text)) == (4, 4, "value")


def test_unknown_outcome_when_the_list_is_given() -> None:
    error = refuse(HEADER + "P1,patient,Sight,7\nP1,patient,Hearing,7\n", outcomes=["Sight"])
    assert where(error) == (3, 3, "outcome")
    assert "'Hearing' is not on the ballot" in str(error)


def test_ranking_errors() -> None:
    text = HEADER + "P1,g,A,1\nP1,g,B,1\nP2,g,A,4\n"
    error = refuse(text, "ranking", outcomes=["A", "B", "C"])
    assert where(error) == (3, 4, "value")
    assert "position 1 is used twice by participant 'P1' (line 2)" in str(error)
    assert [(e.line, e.column) for e in error.errors] == [(3, 4), (4, 4)]
    assert "position 4 is out of range 1-3" in error.errors[1].message
    top2 = refuse(HEADER + "P1,g,A,3\n", "ranking", outcomes=["A", "B", "C"],
                  options=MethodOptions(top_k=2))  # fmt: skip
    assert where(top2) == (2, 4, "value")
    assert "out of range 1-2" in str(top2)


def test_ranking_depth_from_the_file_when_no_list_is_given() -> None:
    frame = parse_ballots_csv(HEADER + "P1,g,A,2\nP1,g,B,1\n", "ranking")
    assert frame["value"].tolist() == [2, 1]
    assert where(refuse(HEADER + "P1,g,A,1\nP1,g,B,3\n", "ranking")) == (3, 4, "value")


def test_points_errors() -> None:
    options = MethodOptions(budget=10, max_per_outcome=6)
    negative = refuse(HEADER + "P1,g,A,-1\n", "points", options=options)
    assert where(negative) == (2, 4, "value")
    assert "-1 is negative" in str(negative)
    capped = refuse(HEADER + "P1,g,A,7\n", "points", options=options)
    assert "7 is over the limit of 6 points per outcome" in str(capped)
    # P1's rows are lines 2, 4 and 5: the budget error goes on the last of them.
    text = HEADER + "P1,g,A,5\nP2,g,A,5\nP1,g,B,4\nP1,g,C,3\nP2,g,B,5\n"
    over = refuse(text, "points", options=options)
    assert where(over) == (5, 4, "value")
    assert "participant 'P1' allocated 12 points in total; the budget is 10" in str(over)


def test_pairwise_errors() -> None:
    header = "participant,group,left,right,choice\n"
    bad_choice = refuse(header + "P1,g,A,B,maybe\n", "pairwise")
    assert where(bad_choice) == (2, 5, "choice")
    assert "'maybe' is not one of left, right, none" in str(bad_choice)
    same = refuse(header + "P1,g,A,B,left\nP1,g,A,A,left\n", "pairwise")
    assert where(same) == (3, 4, "right")
    unknown = refuse(header + "P1,g,A,Z,left\n", "pairwise", outcomes=["A", "B"])
    assert where(unknown) == (2, 4, "right")
    wrong_header = refuse(HEADER + "P1,g,A,7\n", "pairwise")
    assert where(wrong_header) == (1, 3, "outcome")
    frame = parse_ballots_csv(header + "P1,g,A,B,LEFT\nP1,g,B,C,None\n", "pairwise")
    assert frame["choice"].tolist() == ["left", "none"]


def test_errors_are_collected_in_file_order_up_to_the_limit() -> None:
    rows = "".join(f"P{i},g,A,{20 + i}\n" for i in range(30))
    error = refuse(HEADER + "P0x,g,A,5\n" + rows)
    assert len(error.errors) == MAX_ERRORS
    assert [e.line for e in error.errors] == list(range(3, 3 + MAX_ERRORS))
    assert str(error).startswith("ballots.csv, line 3, column 4 (value): 20 is out of range")


@pytest.mark.parametrize("method", ["rating", "ranking", "points", "pairwise"])
def test_example_files_round_trip(method: Method) -> None:
    text = (DATA / f"{method}.csv").read_text(encoding="utf-8")
    options = MethodOptions(top_k=5) if method == "ranking" else MethodOptions()
    frame = parse_ballots_csv(text, method, options=options)
    assert len(frame) == text.count("\n") - 1
    assert ballots_to_csv(frame, method) == text
    again = parse_ballots_csv(ballots_to_csv(frame, method), method, options=options)
    pd.testing.assert_frame_equal(frame, again)


@pytest.mark.parametrize(
    ("rows", "expected", "message"),
    [
        ("P1,pat\x00ient,Sight,7", (2, 2, "group"), "contains a control character (U+0000), which cannot be imported"),
        ("P1\x1b[31m,patient,Sight,7", (2, 1, "participant"), "a control character (U+001B)"),
        ("P1,patient,Si\x85ght,7", (2, 3, "outcome"), "a control character (U+0085)"),
        ("P1,patient,Sight,7\x00", (2, 4, "value"), "a control character (U+0000)"),
        ("P\u202e1,patient,Sight,7", (2, 1, "participant"), "a bidi control character (U+202E)"),
        ("P1,patient,Sight\ud800,7", (2, 3, "outcome"), "a lone surrogate (broken text) (U+D800)"),
        ("P1,patient,Sight\uffff,7", (2, 3, "outcome"), "a noncharacter (U+FFFF)"),
        ('P1,patient,"Sight,\nand\x00eyes",7', (2, 3, "outcome"), "a control character (U+0000)"),
    ],
)
def test_characters_that_cannot_be_stored_are_refused_with_line_and_column(
        rows: str, expected: tuple[int, int, str], message: str) -> None:
    error = refuse(HEADER + "P0,patient,Sight,7\n" + rows + "\n")
    assert (error.line, error.column, error.column_name) == (expected[0] + 1, expected[1], expected[2])
    assert message in str(error)


def test_a_nul_in_the_header_is_named_before_the_header_is_judged() -> None:
    error = refuse("participant,gro\x00up,outcome,value\nP1,patient,Sight,7\n")
    assert where(error) == (1, 2, None) and "U+0000" in str(error)


def test_tabs_and_line_breaks_in_cells_are_fine() -> None:
    frame = parse_ballots_csv(HEADER + 'P1,patient,"Sight\tand\r\neyes",7\n', "rating")
    assert frame["outcome"].tolist() == ["Sight\tand\r\neyes"]


@pytest.mark.parametrize(("value", "message"), [
    ("\u0667", "'\u0667' is not a whole number"),  # ARABIC-INDIC DIGIT SEVEN: int() reads it as 7
    ("\u2077", "'\u2077' is not a whole number"),  # SUPERSCRIPT SEVEN
    ("1_0", "'1_0' is not a whole number"),
    ("9" * 5000, "'" + "9" * 40 + "…' is too large"),
    ("1234567890", "'1234567890' is too large"),
])
def test_numbers_are_ascii_and_short(value: str, message: str) -> None:
    error = refuse(HEADER + f"P1,patient,Sight,{value}\n", "points")
    assert where(error) == (2, 4, "value") and message in str(error)
    assert len(str(error)) < 200


def test_long_cells_are_cut_short_in_messages() -> None:
    error = refuse(HEADER + "P1,patient," + "x" * 100_000 + ",7\n", outcomes=["Sight"])
    assert where(error) == (2, 3, "outcome") and len(str(error)) < 200


# ---- properties: whatever the file, the parser refuses it with its own error naming a real place,
# or returns every row; never anything else, never part of a file -----------------------------------

CELLS = st.one_of(st.sampled_from(["P1", "P2", "patient", "carer", "A", "B", "C", "1", "3", "9", "0", "-2", "U", "u",
                                   "left", "right", "none", "", " ", "\u0663", "12345678901", "\x00", "\u202e",
                                   "\ud800", '"', '"a,b"', "\n", "\r"]),
                  st.text(max_size=6))
LINES = st.lists(CELLS, min_size=0, max_size=6).map(",".join)
HEADERS = st.sampled_from(["participant,group,outcome,value", "participant,group,left,right,choice",
                           "value,outcome,group,participant", "participant;group;outcome;value", "participant,group",
                           ""])


def _files() -> st.SearchStrategy[str]:
    return st.tuples(HEADERS, st.lists(LINES, max_size=8), st.sampled_from(["\n", "\r\n", "\r"])).map(
        lambda t: t[2].join([t[0], *t[1]]) + t[2])


def _physical_lines(text: str) -> int:
    return len(re.split(r"\r\n|\r|\n", text))


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


@settings(max_examples=250, deadline=None)
@given(text=st.one_of(_files(), st.text(max_size=80)), method=st.sampled_from(["rating", "ranking", "points", "pairwise"]),
       listed=st.booleans())
def test_parser_refuses_with_a_real_place_or_returns_every_row(text: str, method: Method, listed: bool) -> None:
    outcomes = ["A", "B", "C"] if listed else None
    try:
        frame = parse_ballots_csv(text, method, source="f.csv", outcomes=outcomes,
                                  options=MethodOptions(top_k=3, budget=10))
    except BallotFileError as error:
        assert error.errors and error.errors[0].line == error.line and error.errors[0].column == error.column
        for found in error.errors:
            assert 1 <= found.line <= _physical_lines(text), found
            assert found.column is not None and 1 <= found.column <= max((len(r) for r in _records(text)), default=0) + 1, found
        assert len(str(error)) < 400
        return
    data_rows = [cells for cells in _records(text) if any(c.strip() for c in cells)][1:]
    assert len(frame) == len(data_rows)  # every row, never part of the file
    for column in ("participant", "group"):
        assert all(isinstance(v, str) and v and "\x00" not in v for v in frame[column])
    if method in ("ranking", "points"):
        assert frame["value"].abs().max() < 10**9


@settings(max_examples=200, deadline=None)
@given(text=_files(), method=st.sampled_from(["rating", "ranking", "points", "pairwise"]))
def test_an_ascii_file_read_as_bytes_gives_what_its_text_gives(text: str, method: Method) -> None:
    # `codesign tally` hands an all-ASCII file over undecoded: the same ballots, or the same refusal.
    if not text.isascii():
        with pytest.raises(ValueError, match="ASCII"):
            parse_ballots_csv(text.encode("utf-8", "surrogatepass"), method)
        return
    results = []
    for given_as in (text, text.encode("ascii")):
        try:
            results.append(parse_ballots_csv(given_as, method, source="f.csv", options=MethodOptions(top_k=3, budget=10)))
        except BallotFileError as error:
            results.append(str(error))
    if isinstance(results[0], str) or isinstance(results[1], str):
        assert results[0] == results[1]
    else:
        pd.testing.assert_frame_equal(results[0], results[1])


def test_the_list_shows_the_first_of_each_kind_of_problem_then_the_rest_and_counts_them_all() -> None:
    # 30 values out of range on lines 2-31 would fill the list; an unknown outcome on line 40 and
    # an empty group on line 45 are still shown, with how many problems are not.
    rows = [f"P{i},g,A,{20 + i}" for i in range(30)] + [f"Q{i},g,A,5" for i in range(8)]
    rows += ["R,g,Z,5"] + [f"S{i},g,A,5" for i in range(4)] + ["T,,A,5"]
    error = refuse(HEADER + "\n".join(rows) + "\n", outcomes=["A"])
    assert [e.line for e in error.errors] == list(range(2, 2 + MAX_ERRORS))  # file order, as before
    assert error.count == 32
    shown, more = error.listed(10)
    assert [(e.line, e.column) for e in shown] == [(2, 4), (40, 3), (45, 2)] + [(line, 4) for line in range(3, 10)]
    assert shown[1].message == "'Z' is not on the ballot" and shown[2].message == "group is empty"
    assert more == 22
    # Fewer problems than the limit: all of them, in file order, none more.
    assert refuse(HEADER + "P,g,A,10\nQ,g,Z,5\n", outcomes=["A"]).listed(10)[1] == 0
