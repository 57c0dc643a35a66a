"""Funnel plots with control limits, adjusted for over-dispersion as Spiegelhalter describes.

D. J. Spiegelhalter, "Funnel plots for comparing institutional performance", Statistics in
Medicine 24 (2005) 1185-1202, and "Handling over-dispersion of performance indicators", Quality
and Safety in Health Care 14 (2005) 347-351.

Each unit's value y_i (a percentage or a rate per multiplier) is plotted against its denominator
n_i, around a centre θ (here the peers' unweighted mean). Under chance alone its standard error is
s(n) = m √(p(1-p)/n) for a proportion (p = θ/m, m = 100) and m √(r/n) for a rate (r = θ/m), the
normal approximation to the binomial and Poisson limits; the limits are θ ± z s(n) with z for 95%
and 99.8%.

Over-dispersion: the peers' z-scores z_i = (y_i - θ)/s(n_i) are Winsorised at 10% (the lowest
and highest tenth set to the values just inside), φ = Σ z_i² / I. The peers vary more than chance
explains when I φ exceeds the 95th centile of χ² with I - 1 degrees of freedom (I - 1: the centre
is their own mean). Then the additive random-effects variance
τ² = (I φ - (I - 1)) / (Σ w_i - Σ w_i² / Σ w_i), w_i = 1 / s(n_i)², widens the limits to
θ ± z √(s(n)² + τ²). With fewer than 3 peers nothing is estimated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from codesign.evidence.intervals import Z95, Z998

MIN_PEERS = 3
GRID = 24  # denominators at which the limits are drawn, besides each unit's own
WINSOR = 0.1
TEST_LEVEL = 0.95


@dataclass(frozen=True)
class Point:
    area: str
    value: float
    denominator: float


@dataclass(frozen=True)
class Limit:
    denominator: float
    lower95: float
    upper95: float
    lower998: float
    upper998: float


@dataclass(frozen=True)
class Funnel:
    centre: float
    proportion: bool
    phi: float | None
    tau2: float
    overdispersed: bool
    limits: tuple[Limit, ...]
    outside95: tuple[str, ...]
    outside998: tuple[str, ...]


def standard_error(centre: float, denominator: float, multiplier: float, proportion: bool) -> float:
    p = centre / multiplier
    if proportion:
        p = min(max(p, 0.0), 1.0)
        return multiplier * math.sqrt(p * (1 - p) / denominator)
    return multiplier * math.sqrt(max(p, 0.0) / denominator)


def winsorised(zs: Sequence[float], share: float = WINSOR) -> list[float]:
    """The z-scores with the lowest and highest `share` (rounded down) pulled in to the next value."""
    ordered = sorted(zs)
    k = int(len(ordered) * share)
    if k == 0:
        return list(zs)
    low, high = ordered[k], ordered[len(ordered) - 1 - k]
    return [min(max(z, low), high) for z in zs]


def overdispersion(peers: Sequence[Point], centre: float, multiplier: float,
                   proportion: bool) -> tuple[float | None, float, bool]:
    """(φ, τ², whether the peers vary more than chance explains)."""
    errors = [standard_error(centre, p.denominator, multiplier, proportion) for p in peers]
    if len(peers) < MIN_PEERS or any(s <= 0 for s in errors):
        return None, 0.0, False
    zs = winsorised([(p.value - centre) / s for p, s in zip(peers, errors, strict=True)])
    count = len(zs)
    phi = sum(z * z for z in zs) / count
    from scipy.stats import chi2  # here, not at the top: scipy.stats costs every process 1.4 s to import

    if count * phi <= chi2.ppf(TEST_LEVEL, count - 1):
        return phi, 0.0, False
    weights = [1 / (s * s) for s in errors]
    total = sum(weights)
    spread = total - sum(w * w for w in weights) / total
    if spread <= 0:  # cannot happen with 3 or more peers; kept so a change elsewhere never divides by 0
        return phi, 0.0, False
    return phi, max(0.0, (count * phi - (count - 1)) / spread), True


def _limit(centre: float, n: float, multiplier: float, proportion: bool, tau2: float) -> Limit:
    s = math.sqrt(standard_error(centre, n, multiplier, proportion) ** 2 + tau2)
    top = multiplier if proportion else math.inf

    def clip(x: float) -> float:
        return min(max(x, 0.0), top)

    return Limit(n, clip(centre - Z95 * s), clip(centre + Z95 * s), clip(centre - Z998 * s), clip(centre + Z998 * s))


def funnel_plot(points: Sequence[Point], peers: Sequence[Point], centre: float, multiplier: float,
                proportion: bool) -> Funnel:
    """Limits around `centre` for every denominator from the smallest unit's to the largest's, and
    which of `points` (the peers and the area) lie outside them."""
    phi, tau2, overdispersed = overdispersion(peers, centre, multiplier, proportion)
    usable = [p for p in points if p.denominator > 0]
    sizes = {p.denominator for p in usable}
    if sizes:
        low, high = min(sizes) / 1.5, max(sizes) * 1.5
        sizes |= {low * (high / low) ** (i / (GRID - 1)) for i in range(GRID)}
    limits = tuple(_limit(centre, n, multiplier, proportion, tau2) for n in sorted(sizes))
    out95: list[str] = []
    out998: list[str] = []
    for p in usable:
        limit = _limit(centre, p.denominator, multiplier, proportion, tau2)
        if not limit.lower95 <= p.value <= limit.upper95:
            out95.append(p.area)
        if not limit.lower998 <= p.value <= limit.upper998:
            out998.append(p.area)
    return Funnel(centre, proportion, phi, tau2, overdispersed, limits, tuple(out95), tuple(out998))
