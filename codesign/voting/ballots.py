"""Check a ballots DataFrame and turn it into dense numpy arrays for counting.

Participants, groups and outcomes are coded in sorted order (outcomes: in the order given
by the caller, else sorted), so the arrays, and therefore every sum and every result, are the
same whatever the row order of the DataFrame.

Rating cells are coded ``-1`` (no answer), ``0`` (unable to score), ``1..9``; ranking cells
hold the position (``0`` = not ranked); points cells hold the allocation (``0`` = none).
A rating participant with no row for an outcome simply did not answer it: that is neither a
score nor "unable", and is left out of every count for that outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from codesign.voting.consensus import GroupCounts
from codesign.voting.results import KendallResult
from codesign.voting.types import Method, MethodOptions

NO_ANSWER = -1
UNABLE = 0
CHOICES: tuple[str, ...] = ("left", "right", "none")


@dataclass(frozen=True)
class BallotMatrix:
    """Rating, ranking or points ballots as a participants x outcomes array."""

    method: Method
    outcomes: tuple[str, ...]
    groups: tuple[str, ...]
    participant_group: np.ndarray  # group index of each participant (participants sorted)
    values: np.ndarray  # participants x outcomes, coded as in the module docstring
    depth: int  # ranking: k; points: budget; rating: 9

    def group_rows(self, group_index: int) -> np.ndarray:
        return np.asarray(self.values[self.participant_group == group_index])


@dataclass(frozen=True)
class PairwiseBallots:
    """Pairwise answers, one entry per row, sorted by (participant, left, right, choice)."""

    outcomes: tuple[str, ...]
    groups: tuple[str, ...]
    participant_group: np.ndarray
    participant: np.ndarray
    left: np.ndarray
    right: np.ndarray
    choice: np.ndarray  # 0 = left won, 1 = right won, 2 = can't decide

    def row_group(self) -> np.ndarray:
        return np.asarray(self.participant_group[self.participant])


@dataclass(frozen=True)
class GroupTally:
    """What a method module computes for one group, per outcome in ballot order."""

    scores: list[Fraction | None]  # group score 0-1, exact
    # tie-break share (see combine.py), or None if the method has none
    secondary: list[Fraction | None] | None
    details: list[dict[str, Any]]  # GroupOutcome fields other than score and rank
    preferences: np.ndarray | None  # d[i, j] ballots preferring i to j (None for pairwise)
    kendall: KendallResult | None
    consensus: list[GroupCounts] | None = None  # rating only


def _require_columns(ballots: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(ballots, pd.DataFrame):
        raise TypeError(f"ballots must be a pandas DataFrame, got {type(ballots).__name__}")
    missing = [c for c in columns if c not in ballots.columns]
    if missing:
        raise ValueError(f"ballots are missing column {missing[0]!r}; expected columns {', '.join(columns)}")
    for column in columns:
        if column in ("value",):
            continue
        blank = ballots[column].isna().to_numpy()
        if blank.any():
            row = int(np.argmax(blank))
            raise ValueError(f"ballot row {row}: {column} is missing")


def _category_names(column: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """A categorical column's codes and category names as text, or None (not categorical, or two
    categories with the same text). Codes come from the categories, not from hashing every row:
    the database reader gives 1.6 million answers as categoricals (queries/ballot_frames.py)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return None
    names = [str(c) for c in column.cat.categories]
    if len(set(names)) != len(names):
        return None
    return np.asarray(column.cat.codes, dtype=np.int64), names


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Sorted codes of a label column (labels compared as strings)."""
    categorical = _category_names(column)
    if categorical is not None:
        codes, names = categorical
        used = np.flatnonzero(np.bincount(codes, minlength=len(names)) > 0)
        order = sorted(used.tolist(), key=names.__getitem__)
        rank = np.full(len(names), -1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank[codes], [names[i] for i in order]
    codes, uniques = pd.factorize(column.astype(str), sort=True)
    return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]


def _outcome_codes(
    columns: Sequence[pd.Series], outcomes: Sequence[str] | None
) -> tuple[list[np.ndarray], tuple[str, ...]]:
    categorical = [_category_names(c) for c in columns]
    if outcomes is None:
        seen = set()
        for column, by_category in zip(columns, categorical, strict=True):
            if by_category is None:
                seen.update(pd.unique(column.astype(str)).tolist())
            else:
                codes, names = by_category
                seen.update(names[i] for i in np.flatnonzero(np.bincount(codes, minlength=len(names)) > 0))
        listed = sorted(str(o) for o in seen)
    else:
        listed = [str(o) for o in outcomes]
        if len(set(listed)) != len(listed):
            duplicate = next(o for o in listed if listed.count(o) > 1)
            raise ValueError(f"outcome {duplicate!r} is listed twice")
    index = pd.Index(listed)
    coded = []
    for column, by_category in zip(columns, categorical, strict=True):
        if by_category is None:
            codes = np.asarray(index.get_indexer(column.astype(str)), dtype=np.int64)
        else:
            category_codes, names = by_category
            codes = np.asarray(index.get_indexer(pd.Index(names, dtype=object)), dtype=np.int64)[category_codes]
        if (codes < 0).any():
            row = int(np.argmax(codes < 0))
            raise ValueError(f"ballot row {row}: outcome {column.iloc[row]!r} is not on the ballot")
        coded.append(codes)
    return coded, tuple(listed)


def _participant_groups(
    ballots: pd.DataFrame,
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    people, people_names = _codes(ballots["participant"])
    groups, group_names = _codes(ballots["group"])
    n_people, n_groups = len(people_names), len(group_names)
    pairs = np.bincount(people * n_groups + groups, minlength=n_people * n_groups)
    seen = pairs.reshape(n_people, n_groups) > 0
    multiple = seen.sum(axis=1) > 1
    if multiple.any():
        who = int(np.argmax(multiple))
        names = [group_names[g] for g in np.flatnonzero(seen[who])]
        raise ValueError(f"participant {people_names[who]!r} appears in more than one group: {', '.join(names)}")
    participant_group = seen.argmax(axis=1) if n_people else np.zeros(0, dtype=np.int64)
    return people, people_names, np.asarray(participant_group, dtype=np.int64), group_names


def _whole_numbers(column: pd.Series, *, allow_missing: bool) -> np.ndarray:
    """Values as float64 (NaN = missing), refusing text, booleans and fractions."""
    if pd.api.types.is_bool_dtype(column):
        raise ValueError("ballot values must be whole numbers, not true/false")
    try:
        numbers = pd.to_numeric(column, errors="raise")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ballot values must be whole numbers: {exc}") from None
    values = np.asarray(pd.Series(numbers).to_numpy(dtype="float64", na_value=np.nan))
    missing = np.isnan(values)
    if missing.any() and not allow_missing:
        raise ValueError(f"ballot row {int(np.argmax(missing))}: value is missing")
    fractional = ~missing & (np.floor(values) != values)
    if fractional.any():
        row = int(np.argmax(fractional))
        raise ValueError(f"ballot row {row}: value {values[row]:g} is not a whole number")
    return values


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def prepare_scored(
    ballots: pd.DataFrame,
    method: Method,
    outcomes: Sequence[str] | None,
    options: MethodOptions,
) -> BallotMatrix:
    """Validate rating/ranking/points ballots (raising ValueError) and build the matrix."""
    _require_columns(ballots, ("participant", "group", "outcome", "value"))
    people, people_names, participant_group, group_names = _participant_groups(ballots)
    (outcome_codes,), outcome_names = _outcome_codes([ballots["outcome"]], outcomes)
    n_people, n_outcomes = len(people_names), len(outcome_names)

    cells = people * n_outcomes + outcome_codes
    repeats = np.bincount(cells, minlength=n_people * n_outcomes) > 1
    if repeats.any():
        cell = int(np.argmax(repeats))
        raise ValueError(
            f"participant {people_names[cell // n_outcomes]!r} answered outcome "
            f"{outcome_names[cell % n_outcomes]!r} more than once"
        )

    values = _whole_numbers(ballots["value"], allow_missing=method == "rating")
    depth = _check_values(method, values, people, people_names, options, n_outcomes)
    missing = np.isnan(values)
    if method == "rating":
        matrix = np.full((n_people, n_outcomes), NO_ANSWER, dtype=np.int8)
        matrix.flat[cells] = np.where(missing, UNABLE, values).astype(np.int8)
    else:
        matrix = np.zeros((n_people, n_outcomes), dtype=np.int64)
        matrix.flat[cells] = values.astype(np.int64)
    return BallotMatrix(
        method=method,
        outcomes=outcome_names,
        groups=tuple(group_names),
        participant_group=participant_group,
        values=matrix,
        depth=depth,
    )


def _check_values(
    method: Method,
    values: np.ndarray,
    people: np.ndarray,
    people_names: list[str],
    options: MethodOptions,
    n_outcomes: int,
) -> int:
    """Range checks per method; returns the depth (9, k or the budget)."""
    scored = values[~np.isnan(values)]
    if method == "rating":
        bad = (scored < 1) | (scored > 9)
        if bad.any():
            raise ValueError(f"rating {scored[_first(bad)]:g} is out of range 1-9")
        return 9
    if method == "ranking":
        k = options.ranking_depth(n_outcomes)
        bad = (values < 1) | (values > k)
        if bad.any():
            raise ValueError(f"ranking position {values[_first(bad)]:g} is out of range 1-{k}")
        key = people * (k + 1) + values.astype(np.int64)
        repeated = np.bincount(key, minlength=(len(people_names)) * (k + 1)) > 1
        if repeated.any():
            where = int(np.argmax(repeated))
            raise ValueError(
                f"participant {people_names[where // (k + 1)]!r} used position {where % (k + 1)} more than once"
            )
        return k
    if method == "points":
        if (values < 0).any():
            raise ValueError(f"points {values[_first(values < 0)]:g} are negative")
        cap = options.max_per_outcome
        if cap is not None and (values > cap).any():
            over = values[_first(values > cap)]
            raise ValueError(f"points {over:g} are over the cap of {cap} per outcome")
        totals = np.bincount(people, weights=values, minlength=len(people_names))
        if (totals > options.budget).any():
            who = _first(totals > options.budget)
            raise ValueError(
                f"participant {people_names[who]!r} allocated {totals[who]:g} points; the budget is {options.budget}"
            )
        return options.budget
    raise ValueError(f"unknown scored method {method!r}")


def prepare_pairwise(ballots: pd.DataFrame, outcomes: Sequence[str] | None) -> PairwiseBallots:
    """Validate pairwise answers (raising ValueError) and code them."""
    _require_columns(ballots, ("participant", "group", "left", "right", "choice"))
    people, _, participant_group, group_names = _participant_groups(ballots)
    (left, right), outcome_names = _outcome_codes([ballots["left"], ballots["right"]], outcomes)
    if len(outcome_names) < 2 and len(ballots):
        raise ValueError("pairwise voting needs at least two outcomes")
    same = left == right
    if same.any():
        raise ValueError(f"ballot row {_first(same)}: left and right are the same outcome")
    choice_text = ballots["choice"].astype(str).str.strip().str.lower()
    choice = np.asarray(pd.Index(list(CHOICES)).get_indexer(choice_text), dtype=np.int64)
    if (choice < 0).any():
        row = _first(choice < 0)
        raise ValueError(f"ballot row {row}: choice {ballots['choice'].iloc[row]!r} is not left, right or none")
    # Sort so that sums are taken in the same order whatever the input order.
    order = np.lexsort((choice, right, left, people))
    return PairwiseBallots(
        outcomes=outcome_names,
        groups=tuple(group_names),
        participant_group=participant_group,
        participant=people[order],
        left=left[order],
        right=right[order],
        choice=choice[order],
    )
