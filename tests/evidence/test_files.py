"""Fingertips-layout and peer files: parsed whole or refused with the line and column (Hypothesis)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.evidence import EvidenceFileError, parse_indicator_csv, parse_peers_csv

HEADER = ("Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,Age,"
          "Category Type,Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
          "Lower CI 99.8 limit,Upper CI 99.8 limit,Count,Denominator,Value note,Recent Trend")


def row(area: str = "E38000001", period: str = "2023/24", value: str = "61.5", count: str = "123",
        denominator: str = "200") -> str:
    return (f"90001,HbA1c under 58,E92000001,England,{area},Area {area},ICB,Persons,17+ yrs,,,{period},{value},"
            f",,,,{count},{denominator},,Could not be calculated")


def test_a_fingertips_file_is_read_by_header_name() -> None:
    text = HEADER + "\n" + row() + "\n" + row(area="E38000002", value="", count="", denominator="") + "\n"
    rows = parse_indicator_csv(text)
    assert [r.area_code for r in rows] == ["E38000001", "E38000002"]
    assert rows[0].value == 61.5 and rows[0].count == 123 and rows[0].lower_ci95 is None
    assert rows[1].value is None and rows[1].denominator is None
    assert rows[0].indicator_id == "90001" and rows[0].period == "2023/24" and rows[0].sex == "Persons"


def test_headers_ignore_case_spacing_order_and_extra_columns() -> None:
    text = "  time   PERIOD ,extra,value,AREA CODE,indicator_id\n2020,x,5,A1,7\n"
    (only,) = parse_indicator_csv(text)
    assert (only.period, only.value, only.area_code, only.indicator_id, only.denominator) == ("2020", 5.0, "A1", "7", None)


@pytest.mark.parametrize(("text", "expected"), [
    ("Area Code,Value\nA,1\n", "line 1, column 3: missing columns “indicator id”, “time period”"),
    (HEADER + "\n" + row(value="6l.5") + "\n", "line 2, column 13 (value): '6l.5' is not a number"),
    (HEADER + "\n" + row() + "\n\n" + row(count="-3") + "\n", "line 4, column 18 (count): '-3' is negative"),
    (HEADER + "\n" + row() + "\n" + row() + "\n", "line 3, column 12 (time period): repeats line 2"),
    (HEADER + "\n" + row(area="") + "\n", "line 2, column 5 (area code): is empty"),
    (HEADER + "\n", "line 2, column 1: the file has a header but no rows"),
    ("", "line 1, column 1: the file is empty"),
    (HEADER + "\n" + row(area="E3\x00") + "\n", "line 2, column 5 (area code): contains a character"),
])
def test_a_bad_file_is_refused_with_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(EvidenceFileError) as refused:
        parse_indicator_csv(text)
    assert expected in refused.value.describe("data.csv")


def test_peer_lists() -> None:
    peers = parse_peers_csv("area_code,peer_code\nA,B\nA,C\nA,B\nD,A\n")
    assert peers == {"A": ["B", "C"], "D": ["A"]}
    with pytest.raises(EvidenceFileError) as refused:
        parse_peers_csv("Area code,Peer code\nA,B\nA,A\n")
    assert "line 3, column 2 (peer code): an area cannot be its own peer" in refused.value.describe("p.csv")


cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(cells, max_size=22), max_size=6), st.booleans())
def test_any_text_is_parsed_or_refused_never_crashes(records: list[list[str]], with_header: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if with_header:
        writer.writerow(HEADER.split(","))
    writer.writerows(records)
    for parse in (parse_indicator_csv, parse_peers_csv):
        try:
            result = parse(buffer.getvalue())
        except EvidenceFileError as exc:
            assert exc.problems and all(p.line >= 1 and p.column >= 1 for p in exc.problems)
        else:
            assert result


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.data())
def test_one_bad_cell_anywhere_refuses_the_whole_file_at_its_line(rows: int, data: st.DataObject) -> None:
    lines = [row(area=f"E{n:08}") for n in range(rows)]
    bad = data.draw(st.integers(min_value=0, max_value=rows - 1))
    column = data.draw(st.sampled_from([13, 14, 18, 19]))  # Value, a CI, Count, Denominator
    junk = data.draw(st.sampled_from(["n/a", "1,5", "inf", "--2", "1e999", "½"]))
    cells = next(csv.reader([lines[bad]]))
    cells[column - 1] = junk
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    lines[bad] = buffer.getvalue().rstrip("\n")
    with pytest.raises(EvidenceFileError) as refused:
        parse_indicator_csv(HEADER + "\n" + "\n".join(lines) + "\n")
    first = refused.value.problems[0]
    assert (first.line, first.column) == (bad + 2, column)
