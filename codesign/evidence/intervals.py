"""Confidence intervals for the figures an indicator file gives as Count and Denominator.

As the public health indicator methods do (APHO Technical Briefing 3, "Commonly used public health
statistics and their confidence intervals", 2008; the PHEindicatormethods package behind
Fingertips): Wilson's score interval for a proportion, Byar's approximation to the exact Poisson
interval for a count (and so for a rate, count / denominator x multiplier).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval
Z998 = 3.090232306167813  # ... and for 99.8%


def wilson_interval(count: float, denominator: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for the proportion count / denominator, as a fraction (0 to 1).

    E. B. Wilson, "Probable inference, the law of succession, and statistical inference", JASA 22
    (1927) 209-212; method 3 of R. G. Newcombe, "Two-sided confidence intervals for the single
    proportion: comparison of seven methods", Statistics in Medicine 17 (1998) 857-872.
    (2r + z² ± z √(z² + 4r(1 - r/n))) / 2(n + z²), r = count, n = denominator.
    """
    if denominator <= 0 or count < 0 or count > denominator:
        raise ValueError("a proportion needs 0 <= count <= denominator and denominator > 0")
    r, n = float(count), float(denominator)
    centre = 2 * r + z * z
    spread = z * math.sqrt(z * z + 4 * r * (1 - r / n))
    scale = 2 * (n + z * z)
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def byar_interval(count: float, z: float = Z95) -> tuple[float, float]:
    """Byar's approximation to the exact Poisson interval for an observed count O.

    Lower O(1 - 1/(9O) - z/(3√O))³, upper (O+1)(1 - 1/(9(O+1)) + z/(3√(O+1)))³; the lower limit of
    O = 0 is 0. N. E. Breslow and N. E. Day, Statistical Methods in Cancer Research vol. II (IARC,
    1987), p. 69; APHO Technical Briefing 3 (2008). Divide by the denominator and multiply by the
    unit's multiplier for a rate's interval.
    """
    if count < 0:
        raise ValueError("a count cannot be negative")
    o = float(count)
    lower = 0.0 if o == 0 else max(0.0, o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3)
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    return lower, upper
