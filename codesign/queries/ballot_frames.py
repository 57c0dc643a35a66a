"""Rounds' answers as the engine's ballots DataFrame, lean enough for a national round (20,000
participants x 80 outcomes = 1.6 million answers) on SQLite and PostgreSQL.

The ballots (one row per voter, a few thousand) are read as rows; the answers are read as integers
only (ballot id, outcome id, value), in batches straight into NumPy, so 1.6 million answers make no
1.6 million Python tuples at once and no per-answer strings. Participant, group and outcome come
back as categoricals (a code per answer, each name once), which the engine codes without sorting
1.6 million strings (voting/ballots.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Executable, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from codesign.models import Ballot, BallotAnswer, PairwiseAnswer, Round, StakeholderGroup

_UNABLE = -2_147_483_648  # stands for a NULL value (rating: unable to score) while reading integers
_BATCH = 100_000
_CHOICES = ("left", "right", "none")


def _ballots(db: Session, rounds: Sequence[Round],
             submitted_only: bool) -> tuple[np.ndarray, list[tuple[int, str, int | None]]]:
    ids = [r.id for r in rounds]
    stmt = (sa_select(col(Ballot.id), col(Ballot.round_id), col(Ballot.voter_key), col(Ballot.stakeholder_group_id))
            .where(col(Ballot.round_id).in_(ids)).order_by(col(Ballot.id)))
    if submitted_only:
        stmt = stmt.where(col(Ballot.submitted_at).is_not(None))
    rows = db.execute(stmt).all()
    return np.array([r[0] for r in rows], dtype=np.int64), [(r[1], r[2], r[3]) for r in rows]


def _integers(db: Session, stmt: Executable, width: int) -> np.ndarray:
    """An all-integer query's rows as an n x width int64 array, read in batches.

    Straight from the driver (SQLAlchemy would wrap each row in an object), in the session's
    transaction: on SQLite the cursor's rows in batches; on PostgreSQL by COPY (`_copied`). The
    query holds only integers, so it is sent with them inline.
    """
    conn = db.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        return _copied(raw, sql, width)
    cursor = raw.cursor()
    parts = []
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(_BATCH):
            parts.append(np.fromiter(chain.from_iterable(batch), dtype=np.int64, count=width * len(batch)))
    finally:
        cursor.close()
    return np.concatenate(parts).reshape(-1, width) if parts else np.zeros((0, width), dtype=np.int64)


def _copied(raw: Any, sql: str, width: int) -> np.ndarray:
    """PostgreSQL: the query's rows by COPY ... TO STDOUT (text, tab-separated), parsed by pandas' C
    reader: for 1.6 million answers several times faster than fetching rows, and no Python object
    per row or value."""
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
        for chunk in copy:
            buffer.write(chunk)
    if not buffer.tell():
        return np.zeros((0, width), dtype=np.int64)
    buffer.seek(0)
    table = pd.read_csv(buffer, sep="\t", header=None, dtype=np.int64, engine="c", na_filter=False)
    values: np.ndarray = table.to_numpy(dtype=np.int64).reshape(-1, width)
    return values


def _labels(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))


def ballots_frame_for_rounds(
    db: Session,
    rounds: Sequence[Round],
    *,
    voter_key: Callable[[Round, str], str] | None = None,
) -> pd.DataFrame:
    """The answers of ``rounds`` (one method, rating, ranking, points or pairwise) as one ballots
    DataFrame in the engine's format (codesign.voting), plus a ``round`` column (the round's id).

    Outcomes are keyed by id (as text), groups by stakeholder group key ("table" when a ballot has
    none: a table's ballot; "?" in a pairwise round). Ranking and points count submitted ballots
    only; rating and pairwise count every saved answer.

    ``voter_key(round, ballot's voter key)`` names the voter in the pooled frame. By default it is
    the ballot's own key: ``p:<participant id>`` never meets across sessions (participants are per
    session); a table's ``t:<n>`` gets ``r<round id>:`` in front when several rounds are read.
    Give one name to one person's ballots in several sessions (a panellist's link) so they count
    once: the engine refuses a participant answering an outcome twice, so the caller keeps one of
    their ballots (say the latest, by the ``round`` column) before counting.
    """
    if not rounds:
        raise ValueError("no rounds to read")
    methods = {r.method for r in rounds}
    if len(methods) != 1:
        raise ValueError(f"rounds to pool must share one method, not {', '.join(sorted(methods))}")
    method = methods.pop()
    unknown_group = "?" if method == "pairwise" else "table"
    by_id = {r.id: r for r in rounds}
    groups = {g.id: g.key for g in db.exec(select(StakeholderGroup))}
    ballot_ids, ballots = _ballots(db, rounds, submitted_only=method in ("ranking", "points"))

    def name(round_id: int, key: str) -> str:
        if voter_key is not None:
            return voter_key(by_id[round_id], key)
        return f"r{round_id}:{key}" if len(rounds) > 1 and key.startswith("t:") else key

    voter_codes, voter_names = pd.factorize(pd.Series([name(r, k) for r, k, _ in ballots], dtype=object))
    group_codes, group_names = pd.factorize(pd.Series(
        [groups.get(g, unknown_group) if g is not None else unknown_group for _, _, g in ballots], dtype=object))
    round_of = np.array([r for r, _, _ in ballots], dtype=np.int64)
    counted = sa_select(col(Ballot.id)).where(col(Ballot.round_id).in_(list(by_id)))
    if method in ("ranking", "points"):
        counted = counted.where(col(Ballot.submitted_at).is_not(None))
    if method == "pairwise":
        choice = case((col(PairwiseAnswer.choice) == "left", 0), (col(PairwiseAnswer.choice) == "right", 1), else_=2)
        data = _integers(db, sa_select(col(PairwiseAnswer.ballot_id), col(PairwiseAnswer.left_outcome_id),
                                       col(PairwiseAnswer.right_outcome_id), choice)
                         .where(col(PairwiseAnswer.ballot_id).in_(counted)), 4)
    else:
        data = _integers(db, sa_select(col(BallotAnswer.ballot_id), col(BallotAnswer.outcome_id),
                                       func.coalesce(col(BallotAnswer.value), _UNABLE))
                         .where(col(BallotAnswer.ballot_id).in_(counted)), 3)
    at = np.searchsorted(ballot_ids, data[:, 0])
    frame = pd.DataFrame({
        "round": round_of[at],
        "participant": _labels(voter_codes[at], list(voter_names)),
        "group": _labels(group_codes[at], list(group_names)),
    })
    if method == "pairwise":
        outcome_ids, coded = np.unique(data[:, 1:3], return_inverse=True)
        names = [str(o) for o in outcome_ids]
        frame["left"] = _labels(coded.reshape(-1, 2)[:, 0], names)
        frame["right"] = _labels(coded.reshape(-1, 2)[:, 1], names)
        frame["choice"] = _labels(data[:, 3], list(_CHOICES))
        return frame
    outcome_ids, coded = np.unique(data[:, 1], return_inverse=True)
    frame["outcome"] = _labels(coded, [str(o) for o in outcome_ids])
    values = data[:, 2]
    frame["value"] = pd.arrays.IntegerArray(np.where(values == _UNABLE, 0, values), values == _UNABLE)
    return frame
