"""The "similar 10" comparison for one indicator, area and period (NHS RightCare's Commissioning for Value).

Given each period's figures for the area, its peers and England, `compare` gives the area's value
with its 95% interval, the national value, each peer's value, the peer mean (unweighted: each peer
counts once, whatever its size, as RightCare's packs do), the best-5 mean (the five best peers by
the indicator's direction; ties by area code, so the same data always give the same five), the
opportunity, a funnel plot and the trend.

The opportunity is what the area would gain (or avoid) if it matched the best-5 mean:
|best5 - value| x denominator / multiplier events, and 0 when it is already at or beyond it.
The multiplier is the unit's (100 for a percentage, 1,000 for a rate per 1,000, 100,000 per
100,000); when not given it is inferred from Value, Count and Denominator (value = count /
denominator x multiplier).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codesign.evidence.funnel import Funnel, Point, funnel_plot
from codesign.evidence.intervals import byar_interval, wilson_interval

Direction = Literal["higher", "lower"]
MULTIPLIERS = (1.0, 100.0, 1_000.0, 10_000.0, 100_000.0)
UNIT_MULTIPLIERS = {"percent": 100.0, "rate_per_1000": 1_000.0, "rate_per_100000": 100_000.0}
BEST = 5
_TOLERANCE = 0.05  # value x denominator / count within 5% of a multiplier (published values are rounded)
_PLACES = 6


@dataclass(frozen=True)
class Observation:
    """One area's figure for one period (the file's row, or the figures typed in)."""

    area: str
    value: float | None
    lower_ci95: float | None = None
    upper_ci95: float | None = None
    count: float | None = None
    denominator: float | None = None
    area_name: str = ""


@dataclass(frozen=True)
class PeriodData:
    local: Observation | None
    national: Observation | None = None
    peers: tuple[Observation, ...] = ()


@dataclass(frozen=True)
class Comparison:
    indicator: str
    area: str
    period: str
    direction: Direction
    multiplier: float | None
    local: Observation | None
    interval_source: str  # "file", "wilson", "byar" or "" (none)
    lower_ci95: float | None
    upper_ci95: float | None
    national: float | None
    peers: tuple[Observation, ...]
    peer_mean: float | None
    best5: tuple[str, ...]
    best5_mean: float | None
    opportunity: float | None
    funnel: Funnel | None
    trend: tuple[dict[str, Any], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The document `codesign evidence compare` prints (docs/evidence.md)."""
        local = self.local or Observation(self.area, None)
        return {
            "indicator": self.indicator, "area": self.area, "area_name": local.area_name, "period": self.period,
            "direction": self.direction, "multiplier": _num(self.multiplier), "value": _num(local.value),
            "lower_ci95": _num(self.lower_ci95), "upper_ci95": _num(self.upper_ci95),
            "interval_source": self.interval_source or None, "count": _num(local.count),
            "denominator": _num(local.denominator), "national": _num(self.national),
            "peers": [{"area": p.area, "area_name": p.area_name, "value": _num(p.value),
                       "denominator": _num(p.denominator)} for p in self.peers],
            "peer_mean": _num(self.peer_mean), "best5": list(self.best5), "best5_mean": _num(self.best5_mean),
            "opportunity": _num(self.opportunity), "funnel": _funnel_json(self.funnel), "trend": list(self.trend),
        }


def _num(x: float | None) -> float | None:
    return None if x is None else round(x, _PLACES)


def _funnel_json(funnel: Funnel | None) -> dict[str, Any] | None:
    if funnel is None:
        return None
    return {"centre": _num(funnel.centre), "model": "binomial" if funnel.proportion else "poisson",
            "phi": _num(funnel.phi), "tau2": _num(funnel.tau2), "overdispersed": funnel.overdispersed,
            "limits": [{"denominator": _num(x.denominator), "lower95": _num(x.lower95), "upper95": _num(x.upper95),
                        "lower998": _num(x.lower998), "upper998": _num(x.upper998)} for x in funnel.limits],
            "outside": list(funnel.outside998), "outside95": list(funnel.outside95)}


def infer_multiplier(observations: Sequence[Observation | None]) -> float | None:
    """The multiplier that makes value = count / denominator x multiplier for the first figure
    that says (a count above 0), if it is one of 1, 100, 1,000, 10,000 or 100,000."""
    for o in observations:
        if o is None or o.value is None or not o.count or not o.denominator or o.count <= 0 or o.value <= 0:
            continue
        ratio = o.value * o.denominator / o.count
        best = min(MULTIPLIERS, key=lambda m: abs(math.log(ratio / m)))
        return best if abs(ratio / best - 1) <= _TOLERANCE else None
    return None


DATA_MULTIPLIERS = (100.0, 1_000.0, 100_000.0)  # the units a definition can say: %, per 1,000, per 100,000


def data_multiplier(observations: Sequence[Observation | None]) -> float | None:
    """The unit the figures are in, from value x denominator / count (the median over every figure
    with a count above 0), taken to the nearest of 100 (%), 1,000 and 100,000 on a log scale; None
    when no figure has a count and a denominator. Used to check a definition's unit against the data
    it links to: a rate per 100,000 compared as per 1,000 gives an opportunity 100 times too big."""
    ratios = sorted(o.value * o.denominator / o.count for o in observations
                    if o is not None and o.value is not None and o.value > 0 and o.count and o.count > 0
                    and o.denominator and o.denominator > 0)
    if not ratios:
        return None
    middle = len(ratios) // 2
    ratio = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    return min(DATA_MULTIPLIERS, key=lambda m: abs(math.log(ratio / m)))


def interval(o: Observation, multiplier: float | None) -> tuple[float | None, float | None, str]:
    """The 95% interval: the file's, else Wilson (a percentage) or Byar (a rate) from the count."""
    if o.lower_ci95 is not None and o.upper_ci95 is not None:
        return o.lower_ci95, o.upper_ci95, "file"
    if multiplier is None or o.count is None or not o.denominator:
        return None, None, ""
    if multiplier == 100 and o.count <= o.denominator:
        low, high = wilson_interval(o.count, o.denominator)
        return low * 100, high * 100, "wilson"
    low, high = byar_interval(o.count)
    return low / o.denominator * multiplier, high / o.denominator * multiplier, "byar"


def best_peers(peers: Sequence[Observation], direction: Direction, n: int = BEST) -> list[Observation]:
    """The n best peers with a value: highest first when higher is better, lowest first otherwise."""
    valued = [p for p in peers if p.value is not None]
    sign = -1 if direction == "higher" else 1
    return sorted(valued, key=lambda p: (sign * (p.value or 0.0), p.area))[:n]


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def opportunity(value: float | None, best5_mean: float | None, denominator: float | None,
                multiplier: float | None, direction: Direction) -> float | None:
    """Events gained or avoided by matching the best-5 mean; 0 when already at or beyond it."""
    if value is None or best5_mean is None or denominator is None or multiplier is None:
        return None
    gap = best5_mean - value if direction == "higher" else value - best5_mean
    return max(0.0, gap) * denominator / multiplier


def _funnel(data: PeriodData, centre: float | None, multiplier: float | None) -> Funnel | None:
    if centre is None or multiplier is None:
        return None
    peers = [Point(p.area, p.value, p.denominator) for p in data.peers
             if p.value is not None and p.denominator]
    points = list(peers)
    if data.local is not None and data.local.value is not None and data.local.denominator:
        points.append(Point(data.local.area, data.local.value, data.local.denominator))
    if not peers:
        return None
    return funnel_plot(points, peers, centre, multiplier, proportion=multiplier == 100)


def compare(indicator: str, area: str, data: Mapping[str, PeriodData], direction: Direction,
            period: str | None = None, multiplier: float | None = None) -> Comparison:
    """The comparison for `period` (default: the latest period with a value for the area).
    Periods sort as text, which orders Fingertips' labels ("2019/20", "2020/21"; "2021 Q1")."""
    periods = sorted(data)
    if period is None:
        valued = [p for p in periods if (d := data[p]).local is not None and d.local.value is not None]
        period = valued[-1] if valued else (periods[-1] if periods else "")
    chosen = data.get(period, PeriodData(None))
    if multiplier is None:
        multiplier = infer_multiplier([d.local for d in data.values()]
                                      + [p for d in data.values() for p in d.peers])
    low, high, source = interval(chosen.local, multiplier) if chosen.local else (None, None, "")
    peer_mean = mean([p.value for p in chosen.peers if p.value is not None])
    best = best_peers(chosen.peers, direction)
    best5_mean = mean([p.value for p in best if p.value is not None])
    local = chosen.local
    trend = []
    for p in periods:
        d = data[p]
        lo, hi, _ = interval(d.local, multiplier) if d.local else (None, None, "")
        trend.append({"period": p, "value": _num(d.local.value if d.local else None), "lower_ci95": _num(lo),
                      "upper_ci95": _num(hi), "national": _num(d.national.value if d.national else None),
                      "peer_mean": _num(mean([x.value for x in d.peers if x.value is not None]))})
    return Comparison(
        indicator=indicator, area=area, period=period, direction=direction, multiplier=multiplier, local=local,
        interval_source=source, lower_ci95=low, upper_ci95=high,
        national=chosen.national.value if chosen.national else None, peers=chosen.peers, peer_mean=peer_mean,
        best5=tuple(p.area for p in best), best5_mean=best5_mean,
        opportunity=opportunity(local.value if local else None, best5_mean, local.denominator if local else None,
                                multiplier, direction),
        funnel=_funnel(chosen, peer_mean, multiplier), trend=tuple(trend),
    )
