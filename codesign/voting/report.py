"""Results -> JSON-ready dict and flat CSV rows (schema: docs/results-schema.md).

Rounding happens here and only here, half away from zero on the shortest decimal that
represents the value (2.675 -> 2.68, where round() gives 2.67 because the float is 2.67499...;
0.125 -> 0.13, where round() rounds half to even):
scores and weights 4 decimals, percentages 1 decimal (0-100), means 2 decimals, Kendall's W
4 decimals, chi-square 3 decimals, p-values 4 significant figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from codesign.voting.results import GroupOutcome, KendallResult, OutcomeResult

if TYPE_CHECKING:
    from codesign.voting.results import Results

GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "rating": ("mean", "median", "pct_7_9", "pct_1_3", "pct_unable", "distribution"),
    "ranking": ("mean_points", "times_ranked", "first_places"),
    "points": ("mean_allocation", "times_given"),
    "pairwise": ("wins", "losses", "ties", "appearances"),
}
DISTRIBUTION_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "unable")
_DECIMALS = {
    "score": 4,
    "weight": 4,
    "rank_points": 4,
    "mean": 2,
    "median": 1,
    "mean_points": 2,
    "mean_allocation": 2,
    "pct_7_9": 1,
    "pct_1_3": 1,
    "pct_unable": 1,
    "w": 4,
    "chi2": 3,
}


def round_half_up(value: float | None, places: int) -> float | None:
    """Round half away from zero on the shortest decimal form of ``value``."""
    if value is None:
        return None
    exact = Decimal(repr(float(value)))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def round_significant(value: float, digits: int) -> float:
    """Round to ``digits`` significant figures, half away from zero (0 stays 0)."""
    if value == 0:
        return 0.0
    exact = Decimal(repr(float(value)))
    places = digits - exact.adjusted() - 1
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _rounded(name: str, value: Any) -> Any:
    if name in _DECIMALS and value is not None:
        return round_half_up(value, _DECIMALS[name])
    return value


def kendall_to_dict(result: KendallResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "w": _rounded("w", result.w),
        "chi2": _rounded("chi2", result.chi2),
        "df": result.df,
        "p_value": round_significant(result.p_value, 4),
        "raters": result.raters,
        "items": result.items,
    }


def group_outcome_to_dict(method: str, result: GroupOutcome) -> dict[str, Any]:
    data: dict[str, Any] = {
        "n": result.n,
        "score": _rounded("score", result.score),
        "rank": result.rank,
    }
    for name in GROUP_FIELDS[method]:
        value = getattr(result, name)
        if name == "distribution":
            data[name] = dict(zip(DISTRIBUTION_KEYS, value or (0,) * 10, strict=True))
        else:
            data[name] = _rounded(name, value)
    return data


def outcome_to_dict(method: str, result: OutcomeResult, labels: Mapping[str, str] | None) -> dict[str, Any]:
    return {
        "outcome": result.outcome,
        "label": (labels or {}).get(result.outcome, result.outcome),
        "rank": result.rank,
        "score": _rounded("score", result.score),
        "consensus": result.consensus,
        "important_to": list(result.important_to),
        "schulze_rank": result.schulze_rank,
        "borda_rank": result.borda_rank,
        "rank_points": _rounded("rank_points", result.rank_points),
        "groups": {group: group_outcome_to_dict(method, g) for group, g in sorted(result.groups.items())},
    }


def results_to_dict(results: Results, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON document for a tally (keys as in docs/results-schema.md)."""
    return {
        "schema_version": results.schema_version,
        "method": results.method,
        "combine": results.combine,
        "rule": results.rule.to_dict(),
        "options": results.options.to_dict(),
        "groups": {
            name: {"n": g.n, "weight": _rounded("weight", g.weight), "small": g.small}
            for name, g in sorted(results.groups.items())
        },
        "outcomes": [outcome_to_dict(results.method, o, labels) for o in results.outcomes],
        "agreement": {
            "kendall_w": {group: kendall_to_dict(k) for group, k in sorted(results.agreement.kendall_w.items())},
            "between_groups": kendall_to_dict(results.agreement.between_groups),
            "disagreements": [
                {
                    "outcome": d.outcome,
                    "label": (labels or {}).get(d.outcome, d.outcome),
                    "spread": d.spread,
                    "ranks": dict(sorted(d.ranks.items())),
                }
                for d in results.agreement.disagreements
            ],
        },
    }


def results_to_csv_rows(results: Results, labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One flat row per outcome, in rank order; every row has the same keys in the same order.

    Group fields are ``group.<name>.<field>``; the rating distribution is spread over
    ``group.<name>.distribution.1`` ... ``.9`` and ``.unable``; ``important_to`` is joined
    with ";". Missing values are None (written as empty cells).
    """
    rows: list[dict[str, Any]] = []
    for outcome in results.outcomes:
        data = outcome_to_dict(results.method, outcome, labels)
        row: dict[str, Any] = {
            "rank": data["rank"],
            "outcome": data["outcome"],
            "label": data["label"],
            "score": data["score"],
            "consensus": data["consensus"],
            "important_to": ";".join(data["important_to"]),
            "schulze_rank": data["schulze_rank"],
            "borda_rank": data["borda_rank"],
            "rank_points": data["rank_points"],
        }
        for group, fields in data["groups"].items():
            for name, value in fields.items():
                if name == "distribution":
                    for key, count in value.items():
                        row[f"group.{group}.distribution.{key}"] = count
                else:
                    row[f"group.{group}.{name}"] = value
        rows.append(row)
    return rows
