"""Indicator data and peers in the database: all or nothing, re-import updates, the comparison query."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from codesign import db, queries
from codesign.errors import NotFound, ValidationFailed
from codesign.models import AuditEvent, IndicatorValue, PeerLink, Role
from codesign.services import evidence
from tests.conftest import make_user
from tests.evidence_helpers import HEADER, data_file, figure, peer_file


def count(session: Session, table: type) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def test_reimporting_updates_rather_than_duplicates(session: Session) -> None:
    user = make_user(session, Role.commissioner)
    first = evidence.import_indicators(session, user, data_file(), "a.csv")
    assert (first.rows, first.added, first.updated) == (12, 12, 0)
    changed = data_file().replace("A,Area A,ICB,Persons,18+ yrs,,,2024,60.0", "A,Area A,ICB,Persons,18+ yrs,,,2024,61.5")
    again = evidence.import_indicators(session, user, changed, "b.csv")
    assert (again.added, again.updated) == (0, 12)
    assert count(session, IndicatorValue) == 12
    stored = session.exec(select(IndicatorValue).where(IndicatorValue.area_code == "A")).one()
    assert stored.value == 61.5 and stored.source == "b.csv"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.imported")).all()


def test_a_bad_row_anywhere_stores_nothing_and_changes_nothing(session: Session) -> None:
    evidence.import_indicators(session, None, data_file(), "a.csv")
    before = [(v.area_code, v.value) for v in session.exec(select(IndicatorValue).order_by(IndicatorValue.id))]
    bad = data_file().replace("60.0", "70.0") + figure("90001", "Z", "2024", 1.0, count="many") + "\n"
    with pytest.raises(ValidationFailed) as refused:
        evidence.import_indicators(session, None, bad, "bad.csv")
    assert "bad.csv, line 14, column 14 (count): 'many' is not a number" in refused.value.errors["file"]
    after = [(v.area_code, v.value) for v in session.exec(select(IndicatorValue).order_by(IndicatorValue.id))]
    assert after == before


def test_a_peer_file_replaces_only_the_areas_it_names(session: Session) -> None:
    evidence.import_peers(session, None, peer_file("A", ["P1", "P2", "P3"]) + "B,P9\n", "p.csv")
    evidence.import_peers(session, None, peer_file("A", ["P2", "P4"]), "p2.csv")
    groups = {g.area_code: [c for c, _ in g.peers] for g in queries.list_peer_groups(session)}
    assert groups == {"A": ["P2", "P4"], "B": ["P9"]}
    evidence.import_peers(session, None, peer_file("A", ["P2", "P4"]), "p2.csv")
    assert count(session, PeerLink) == 3
    with pytest.raises(ValidationFailed):
        evidence.import_peers(session, None, "area_code,peer_code\nC,D\nC,\n", "p3.csv")
    assert count(session, PeerLink) == 3


def test_saving_peers_from_the_page(session: Session) -> None:
    assert evidence.save_peers(session, None, " A ", "P1, P2\nP3 P1") == ["P1", "P2", "P3"]
    assert evidence.save_peers(session, None, "A", "") == []
    assert count(session, PeerLink) == 0
    with pytest.raises(ValidationFailed) as refused:
        evidence.save_peers(session, None, "A", "P1, A")
    assert refused.value.errors == {"peers": "A cannot be its own peer"}
    with pytest.raises(ValidationFailed):
        evidence.save_peers(session, None, "A B", "P1")


def test_the_comparison_from_the_database(session: Session) -> None:
    evidence.import_indicators(session, None, data_file() + figure("90001", "A", "2024", 1.0, sex="Male") + "\n",
                               "a.csv")
    evidence.import_peers(session, None, peer_file("A", [f"P{i:02}" for i in range(10)] + ["NODATA"]), "p.csv")
    result = queries.get_comparison(session, "90001", "A", direction="higher")
    assert result.local is not None and result.local.value == 60.0  # the Persons row, not the Male one
    assert result.national == 66.0 and result.period == "2024"
    assert len(result.peers) == 11 and result.peers[-1].value is None  # a peer without figures is listed
    assert result.best5_mean == pytest.approx(73.334)
    assert result.opportunity == pytest.approx(266.68)  # (73.334 - 60) x 2,000 / 100, multiplier inferred
    with pytest.raises(ValidationFailed):
        queries.get_comparison(session, "90001", "A")  # no direction: not a library indicator
    with pytest.raises(ValidationFailed):
        queries.get_comparison(session, "90001", "A", period="1999", direction="higher")
    with pytest.raises(NotFound):
        queries.get_comparison(session, "90001", "NOWHERE", direction="higher")


def test_direction_and_unit_come_from_the_indicator_library(session: Session) -> None:
    text = HEADER + "\n" + figure("hes-amputations", "A", "2024", 5.0, 200, 40000) + "\n"
    evidence.import_indicators(session, None, text, "a.csv")
    result = queries.get_comparison(session, "hes-amputations", "A")
    assert result.direction == "lower" and result.multiplier == 1000 and result.interval_source == "byar"


def test_two_imports_of_the_same_new_figures_at_once_add_them_once(engine: Engine, session: Session) -> None:
    """On PostgreSQL the advisory lock queues the second import behind the first (no unique-key failure)."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def load(name: str) -> None:
        try:
            barrier.wait()
            with db.write_session(engine) as s:
                evidence.import_indicators(s, None, data_file(), name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f"{n}.csv",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(session, IndicatorValue) == 12


good_cells = st.sampled_from(["1", "2.5", "0", "", "100", "1e3"])
bad_cells = st.sampled_from(["x", "-1", "1,0", "nan", "\x00", "9" * 50])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["2023", "2024"]), good_cells,
                          good_cells), min_size=1, max_size=8),
       st.one_of(st.none(), st.tuples(st.integers(min_value=0, max_value=7), bad_cells)))
def test_an_import_is_all_or_nothing(session: Session, figures: list[tuple[str, str, str, str]],
                                     spoil: tuple[int, str] | None) -> None:
    """Whatever the file, the import either stores every row of it or changes nothing at all."""
    rows = [list(f) for f in figures]
    if spoil is not None:
        rows[spoil[0] % len(rows)][2] = spoil[1]  # the Value cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        ["90001", "T", area, "N", "ICB", "Persons", "all", "", "", period, value, "", "", "", d]
        for area, period, value, d in rows)
    before = {(v.area_code, v.period): (v.value, v.denominator) for v in session.exec(select(IndicatorValue))}
    try:
        evidence.import_indicators(session, None, HEADER + "\n" + out.getvalue(), "h.csv")
    except ValidationFailed as exc:
        assert "h.csv, line " in exc.errors["file"]
        after = {(v.area_code, v.period): (v.value, v.denominator) for v in session.exec(select(IndicatorValue))}
        assert after == before
        return
    after = {(v.area_code, v.period): (v.value, v.denominator) for v in session.exec(select(IndicatorValue))}
    assert set(after) == set(before) | {(a, p) for a, p, _, _ in figures}
    for area, period, value, denominator in rows:
        assert after[(area, period)] == (float(value) if value else None, float(denominator) if denominator else None)


def test_two_peer_saves_for_one_area_at_once_leave_one_whole_list(engine: Engine, session: Session) -> None:
    """Replacing a list is delete-then-insert: without the lock two at once could mix or collide."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    lists = (["P1", "P2", "P3"], ["P3", "P4"])

    def save(peers: list[str]) -> None:
        try:
            barrier.wait()
            with db.write_session(engine) as s:
                evidence.save_peers(s, None, "A", ",".join(peers))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(p,)) for p in lists]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(link.peer_code for link in session.exec(select(PeerLink))) in [sorted(p) for p in lists]
