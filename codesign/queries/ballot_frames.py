"""Rounds' answers as the engine's ballots DataFrame, lean enough for a national round (20,000
participants x 80 outcomes = 1.6 million answers) on SQLite and PostgreSQL.

The ballots (one row per voter, a few thousand) are read as rows; the answers are read as integers
only (ballot id, outcome id, value), each ballot's as texts the database aggregates, parsed by
NumPy, so 1.6 million answers make no Python tuple or string per answer. Participant, group and
outcome come back as categoricals (a code per answer, each name once), which the engine codes
without sorting 1.6 million strings (voting/ballots.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, case, func, literal_column
from sqlalchemy import any_ as sa_any
from sqlalchemy import bindparam as sa_bindparam
from sqlalchemy import cast as sa_cast
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Session, col, select

from codesign.models import Ballot, BallotAnswer, PairwiseAnswer, Round, StakeholderGroup

_INT32_MIN = -2_147_483_648
_UNABLE = _INT32_MIN  # stands for a NULL value (rating: unable to score) while reading integers
_LOW = 1 << 32
_CHOICES = ("left", "right", "none")


def _ballots(db: Session, rounds: Sequence[Round],
             submitted_only: bool) -> tuple[np.ndarray, list[tuple[int, str, int | None]]]:
    ids = [r.id for r in rounds]
    stmt = (sa_select(col(Ballot.id), col(Ballot.round_id), col(Ballot.voter_key), col(Ballot.stakeholder_group_id))
            .where(col(Ballot.round_id).in_(ids)).order_by(col(Ballot.id)))
    if submitted_only:
        stmt = stmt.where(col(Ballot.submitted_at).is_not(None))
    rows = db.connection().execute(stmt).all()  # Core rows: the ORM's wrapping costs 0.2 s for 20,000
    return np.array([r[0] for r in rows], dtype=np.int64), [(r[1], r[2], r[3]) for r in rows]


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integer ids, by a table over their range
    when it is small (outcome ids of a round: no sort of 1.6 million numbers)."""
    if not len(values):
        return np.zeros(0, dtype=np.int64), np.zeros(values.shape, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * values.size + 1024:
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.reshape(values.shape)
    present = np.zeros(high - low + 1, dtype=bool)
    present[values - low] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[values - low]


def _integers(db: Session, key: Any, columns: Sequence[Any], where: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``key`` (ballot id) of each row matching ``where``, and its 64-bit integer ``columns``
    as an n x width int64 array; rows of one key come together.

    One row per key through the driver, each column of its rows aggregated by the database: on
    PostgreSQL as the 8-byte big-endian integers (``int8send``) of one ``bytea`` read in binary,
    on SQLite as comma-separated text; NumPy parses both. For 1.6 million answers that is 20,000
    rows instead of 1.6 million (PostgreSQL's COPY sends each row as a message of its own), and
    one aggregate per column, so callers pack what they can into one column. The aggregates of
    one group see its rows in the same order, so the columns line up; their lengths are checked
    against the counts.
    """
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        empty: Any = literal_column("''::bytea")
        stmt = sa_select(key, func.count(), *[func.string_agg(func.int8send(c), empty) for c in columns])
        compiled = stmt.where(where).group_by(key).compile(dialect=connection.dialect)
        # The session's own connection, so the same transaction; a binary cursor so each bytea
        # arrives as it is, not hex-encoded (SQLAlchemy has no per-statement binary switch).
        with connection.connection.driver_connection.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            rows = cursor.execute(str(compiled), compiled.params).fetchall()
        parsed = [np.frombuffer(b"".join(r[2 + j] for r in rows), dtype=">i8").astype(np.int64)
                  for j in range(len(columns))]
    else:
        stmt = sa_select(key, func.count(), *[func.group_concat(c) for c in columns])
        rows = connection.execute(stmt.where(where).group_by(key)).all()
        parsed = [np.fromstring(",".join(r[2 + j] for r in rows), dtype=np.int64, sep=",") if rows
                  else np.zeros(0, dtype=np.int64) for j in range(len(columns))]
    keys = np.array([r[0] for r in rows], dtype=np.int64)
    counts = np.array([r[1] for r in rows], dtype=np.int64)
    if any(len(p) != int(counts.sum()) for p in parsed):
        raise RuntimeError("the database's aggregated answers do not match their counts")
    return np.repeat(keys, counts), (np.column_stack(parsed) if parsed else np.zeros((len(keys), 0), np.int64))


def _pack(high: Any, low: Any) -> Any:
    """Two 32-bit integers of a row as one 64-bit one (``low`` may be negative): one aggregate."""
    return sa_cast(high, BigInteger) * _LOW + (sa_cast(low, BigInteger) - _INT32_MIN)


def _unpack(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return packed >> 32, (packed & (_LOW - 1)) + _INT32_MIN


def _positions(sorted_ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each of ``keys`` (runs of equal ids) is in ``sorted_ids`` (unique), or -1."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    runs = np.diff(np.append(starts, len(keys)))
    wanted = keys[starts]
    if not len(sorted_ids):
        return np.full(len(keys), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
    return np.repeat(np.where(sorted_ids[at] == wanted, at, -1), runs)


def _labels(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))


def ballots_frame_for_rounds(
    db: Session,
    rounds: Sequence[Round],
    *,
    voter_key: Callable[[Round, str], str] | None = None,
    with_ballot: bool = False,
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
    their ballots (say the latest, by the ``round`` column, or by the ``ballot`` column, each
    answer's ballot id, that ``with_ballot`` adds) before counting.
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
    if db.connection().dialect.name == "postgresql":
        # The ballots just read, as one array: an index-only scan of the answers, and no answer of
        # a ballot sent since (READ COMMITTED: each statement sees its own moment).
        ids = sa_bindparam("ballots", [int(b) for b in ballot_ids], type_=pg.ARRAY(Integer))

        def counted(column: Any) -> Any:
            return column == sa_any(ids)
    else:  # one transaction is one snapshot: the same ballots, by the same conditions
        chosen = sa_select(col(Ballot.id)).where(col(Ballot.round_id).in_(list(by_id)))
        if method in ("ranking", "points"):
            chosen = chosen.where(col(Ballot.submitted_at).is_not(None))

        def counted(column: Any) -> Any:
            return column.in_(chosen)
    if method == "pairwise":
        choice = case((col(PairwiseAnswer.choice) == "left", 0), (col(PairwiseAnswer.choice) == "right", 1), else_=2)
        keys, data = _integers(db, col(PairwiseAnswer.ballot_id), [
            _pack(col(PairwiseAnswer.left_outcome_id), col(PairwiseAnswer.right_outcome_id)), choice],
            counted(col(PairwiseAnswer.ballot_id)))
    else:
        keys, data = _integers(db, col(BallotAnswer.ballot_id), [
            _pack(col(BallotAnswer.outcome_id), func.coalesce(col(BallotAnswer.value), _UNABLE))],
            counted(col(BallotAnswer.ballot_id)))
    at = _positions(ballot_ids, keys)
    if (at < 0).any():
        raise RuntimeError("answers of a ballot that was not read")  # the queries above rule it out
    frame = pd.DataFrame({
        "round": round_of[at],
        **({"ballot": ballot_ids[at]} if with_ballot else {}),
        "participant": _labels(voter_codes[at], list(voter_names)),
        "group": _labels(group_codes[at], list(group_names)),
    })
    if method == "pairwise":
        left, right = _unpack(data[:, 0])
        outcome_ids, coded = _dense(np.column_stack((left, right)))
        names = [str(o) for o in outcome_ids]
        frame["left"] = _labels(coded[:, 0], names)
        frame["right"] = _labels(coded[:, 1], names)
        frame["choice"] = _labels(data[:, 1], list(_CHOICES))
        return frame
    outcomes, values = _unpack(data[:, 0])
    outcome_ids, coded = _dense(outcomes)
    frame["outcome"] = _labels(coded, [str(o) for o in outcome_ids])
    frame["value"] = pd.arrays.IntegerArray(np.where(values == _UNABLE, 0, values), values == _UNABLE)
    return frame
