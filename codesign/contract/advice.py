"""Warnings about a framework's shape: things a contract can carry but guidance advises against.

Unlike the freeze checklist these never block: a commissioner may have reasons (recorded in the
shortlist) to go beyond them. Pure.

- More than MAX_PAID_OUTCOMES paid outcomes: NHS guidance of 2016 on outcome-based payment
  advises 3 to 7 outcomes; beyond that each outcome's money is too thin to change practice and
  the contract too hard to manage.
- An outcome whose money at stake in a paid year falls below a floor (Settings.min_outcome_stake_pence,
  CODESIGN_MIN_OUTCOME_STAKE): a sum so small it is unlikely to be worth the provider's effort or the
  cost of measuring it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codesign.contract.money import allocate, format_pence, share_of

MAX_PAID_OUTCOMES = 7


@dataclass(frozen=True)
class PaidOutcome:
    statement: str
    weight_bp: int


@dataclass(frozen=True)
class PaidYear:
    label: str
    share_bp: int  # 0 or a shadow year: nothing is paid


def framework_warnings(outcomes: Sequence[PaidOutcome], contract_pence: int, years: Sequence[PaidYear],
                       floor_pence: int) -> list[str]:
    """Plain-English warnings, in a stable order: the outcome count first, then the money floor
    (per outcome, the first paid year below it). `outcomes` are the included ones in order."""
    warnings: list[str] = []
    paid = [o for o in outcomes if o.weight_bp > 0]
    if len(paid) > MAX_PAID_OUTCOMES:
        warnings.append(f"{len(paid)} outcomes carry payment. NHS guidance (2016) advises 3 to {MAX_PAID_OUTCOMES} "
                        "outcomes: with more, each carries too little money to change practice.")
    if floor_pence <= 0 or not contract_pence:
        return warnings
    stakes = [(y, allocate(share_of(contract_pence, y.share_bp), [o.weight_bp for o in outcomes]))
              for y in years if y.share_bp > 0]
    for i, outcome in enumerate(outcomes):
        if outcome.weight_bp <= 0:
            continue
        below = next(((y, parts[i]) for y, parts in stakes if parts[i] < floor_pence), None)
        if below is not None:
            year, pence = below
            warnings.append(f"“{outcome.statement}” puts {format_pence(pence)} at stake in {year.label}, below the "
                            f"floor of {format_pence(floor_pence)}: too little to be worth earning or measuring.")
    return warnings
