"""Money for an outcome-based contract, in whole pence, with documented rounding.

- Percentages of money are basis points (10000 = 100%), so 12.5% is exactly 1250.
- A year's outcome-linked sum = contract value x share, rounded half to even to the penny.
- That sum is shared between outcomes by payment weight with the largest-remainder (Hamilton)
  method: each outcome gets the whole pence of its exact share, and the pence left over go one
  each to the largest fractional remainders (ties: earlier rank first). So the outcome amounts
  always add up to the year's total exactly.
- Earned at a level of achievement: all-or-nothing pays the full amount only at 100%; linear pays
  the same share of the amount as the share of the way from baseline to target achieved,
  rounded half to even to the penny. Totals are sums of the per-outcome amounts, so they add up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

FULL_BP = 10_000
ROUNDING_NOTE = (
    "Each year's outcome-linked sum is the contract value times that year's share, rounded half to even to "
    "the penny, and is shared between outcomes by weight with the largest-remainder method, so the outcome "
    "amounts add up to the year's total exactly. Earned amounts are rounded half to even to the penny per "
    "outcome; totals are sums of those."
)
# ASCII digits only (\d would take "٣"), and bounded: at most £999,999,999,999.99.
_POUNDS = re.compile(r"^£?\s*([0-9]{1,3}(,[0-9]{3}){1,3}|[0-9]{1,12})(\.[0-9]{1,2})?$")
_PERCENT = re.compile(r"^([0-9]{1,3})(\.[0-9]{1,2})?\s*%?$")
# The most a contract value can be: what parse_pounds reads (£999,999,999,999.99), kept as a
# 64-bit integer of pence.
MAX_CONTRACT_PENCE = 10**14 - 1


def parse_pounds(text: str) -> int | None:
    """'£1,234,567.89' -> 123456789 pence; None if it is not an amount of money."""
    cleaned = text.strip()
    match = _POUNDS.match(cleaned)
    if not match:
        return None
    return int((Decimal(cleaned.lstrip("£").strip().replace(",", "")) * 100).to_integral_value())


def parse_percent_bp(text: str) -> int | None:
    """'12.5' or '12.5%' -> 1250 basis points (two decimals at most); None if not 0-100%."""
    match = _PERCENT.match(text.strip())
    if not match:
        return None
    bp = int((Decimal(text.strip().rstrip("%").strip()) * 100).to_integral_value())
    return bp if 0 <= bp <= FULL_BP else None


def format_pence(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def format_bp(bp: int) -> str:
    text = f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)
    return f"{text}%"


def share_of(pence: int, bp: int) -> int:
    """pence x bp / 10000, rounded half to even."""
    return int((Decimal(pence) * bp / FULL_BP).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def allocate(total: int, weights_bp: Sequence[int]) -> list[int]:
    """Share `total` pence by weights (largest remainder); the parts always sum to `total`
    when the weights sum to 10000 (otherwise each part is its exact share, floored and topped up
    only as far as the weights reach)."""
    weight_sum = sum(weights_bp)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights_bp)
    exact = [Decimal(total) * w / FULL_BP for w in weights_bp]
    parts = [int(e) for e in exact]
    target = share_of(total, weight_sum)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: max(target - sum(parts), 0)]:
        parts[i] += 1
    return parts


def suggest_weights(scores: Sequence[float | None], eligible: Sequence[bool]) -> list[int]:
    """Weights in whole percent proportional to the combined scores (ineligible ones get 0),
    adding to exactly 100% (largest remainder). Equal weights if no eligible outcome has a score."""
    values = [Decimal(str(s)) if (ok and s is not None and s > 0) else Decimal(0)
              for s, ok in zip(scores, eligible, strict=True)]
    if sum(values) == 0:
        values = [Decimal(1) if ok else Decimal(0) for ok in eligible]
    total = sum(values)
    if total == 0:
        return [0] * len(values)
    exact = [v * 100 / total for v in values]
    whole = [int(e) for e in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in order[: 100 - sum(whole)]:
        whole[i] += 1
    return [w * 100 for w in whole]


@dataclass(frozen=True)
class Earned:
    at_stake: int
    at_baseline: int
    at_target: int
    at_level: int


def earned(at_stake: int, achievement: str, level_bp: int) -> Earned:
    """What the provider earns (bonus) or earns back (withhold) for one outcome in one year, at
    baseline (0% of the way), at target (100%) and at `level_bp` of the way from baseline to target."""
    level_bp = max(0, min(level_bp, FULL_BP))
    if achievement == "all_or_nothing":
        at_level = at_stake if level_bp >= FULL_BP else 0
    else:
        at_level = share_of(at_stake, level_bp)
    return Earned(at_stake=at_stake, at_baseline=0, at_target=at_stake, at_level=at_level)
