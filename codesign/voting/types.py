"""Declared settings of a voting round: the method, the consensus rule and method options.

A round's method and consensus rule are locked when the round opens and stored with it as
JSON (``to_dict``/``from_dict``), as the COS-STAD standards ask: the criteria for consensus must
be declared before voting (Kirkham et al. 2017, "Core Outcome Set-STAndards for Development:
the COS-STAD recommendations", PLoS Med 14(11): e1002447).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from typing import Any, Literal, get_args

Method = Literal["rating", "ranking", "points", "pairwise"]
Combine = Literal["weighted", "rank_of_ranks"]
Consensus = Literal["in", "out", "none"]

METHODS: tuple[str, ...] = get_args(Method)
COMBINES: tuple[str, ...] = get_args(Combine)


def exact_share(value: float) -> Fraction:
    """The threshold the person meant, as an exact fraction: 0.7 -> 7/10.

    ``Fraction(0.7)`` is 0.6999999999999999555910790149937...; comparing a share against that
    would count 69.99...% as 70%. ``repr`` gives the shortest decimal that round-trips the
    float, which is the decimal that was typed into the form or the JSON file.
    """
    return Fraction(repr(float(value)))


_SHARE_FIELDS = ("in_min_pct_7_9", "in_max_pct_1_3", "out_min_pct_1_3", "out_max_pct_7_9")


def _check_fields(cls_name: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{cls_name} must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed))
        raise ValueError(f"{cls_name}: unknown field {unknown[0]!r}; expected one of {expected}")


def _share(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    share = float(value)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (a share, 0.7 = 70%), got {value!r}")
    return share


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def _whole(name: str, value: Any, minimum: int, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class ConsensusRule:
    """Consensus definition for a rating (1-9) round, after the COMET/GRADE Delphi convention.

    On the GRADE 1-9 scale (1-3 not important, 4-6 important but not critical, 7-9 critical),
    the usual COMET Delphi rule (Williamson et al., COMET Handbook 2017) is: an outcome is IN
    when at least 70% of every stakeholder group score it 7-9 and fewer than 15% score it 1-3;
    OUT when at least 70% score it 1-3 and fewer than 15% score it 7-9; otherwise no consensus.
    Shares are of scored answers: "unable to score" is left out of the denominator.

    Thresholds are shares (0.7 = 70%) and are compared exactly as decimals (see
    :func:`exact_share`): ">= 0.70" is met by 7 of 10 and by 70 of 100, never by 69.9%.
    ``__post_init__`` validates every field, so a rule read from the database or a file is
    never half-checked.
    """

    in_min_pct_7_9: float = 0.70
    in_max_pct_1_3: float = 0.15
    out_min_pct_1_3: float = 0.70
    out_max_pct_7_9: float = 0.15
    important_to_one_group: bool = True
    patient_veto_in: bool = False
    veto_group: str = "patient"
    min_group_size: int = 5

    def __post_init__(self) -> None:
        for name in _SHARE_FIELDS:
            _share(name, getattr(self, name))
        if self.in_min_pct_7_9 == 0 or self.out_min_pct_1_3 == 0:
            raise ValueError("in_min_pct_7_9 and out_min_pct_1_3 must be above 0")
        # An outcome must never be both IN and OUT in one group: IN needs p79 >= in_min and
        # OUT needs p79 < out_max, so in_min must be at least out_max (and the same for p13).
        if exact_share(self.in_min_pct_7_9) < exact_share(self.out_max_pct_7_9):
            raise ValueError("in_min_pct_7_9 must be at least out_max_pct_7_9")
        if exact_share(self.out_min_pct_1_3) < exact_share(self.in_max_pct_1_3):
            raise ValueError("out_min_pct_1_3 must be at least in_max_pct_1_3")
        _flag("important_to_one_group", self.important_to_one_group)
        _flag("patient_veto_in", self.patient_veto_in)
        if not isinstance(self.veto_group, str) or not self.veto_group.strip():
            raise ValueError(f"veto_group must be a group name, got {self.veto_group!r}")
        _whole("min_group_size", self.min_group_size, 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsensusRule:
        """Build a rule from stored JSON; missing keys take the defaults, unknown keys fail."""
        _check_fields("ConsensusRule", data, {f.name for f in fields(cls)})
        values = dict(data)
        for name in _SHARE_FIELDS:
            if name in values:
                # Store 1 as 1.0 so that to_dict round-trips to the same JSON.
                values[name] = _share(name, values[name])
        return cls(**values)


@dataclass(frozen=True)
class MethodOptions:
    """Method settings. ``top_k``: ranking depth (None = every outcome; larger values are
    capped at the number of outcomes). ``budget``: dots each participant may spend in a points
    round (10 by default, as in dot voting). ``max_per_outcome``: cap on dots per outcome."""

    top_k: int | None = None
    budget: int = 10
    max_per_outcome: int | None = None

    def __post_init__(self) -> None:
        _whole("top_k", self.top_k, 1, optional=True)
        _whole("budget", self.budget, 1)
        _whole("max_per_outcome", self.max_per_outcome, 1, optional=True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MethodOptions:
        _check_fields("MethodOptions", data, {f.name for f in fields(cls)})
        return cls(**dict(data))

    def ranking_depth(self, n_outcomes: int) -> int:
        """k for a top-k ranking over ``n_outcomes``: top_k capped at the list length."""
        if self.top_k is None:
            return max(n_outcomes, 1)
        return max(min(self.top_k, n_outcomes), 1)


# The smallest group a new round shows outside the console, and `codesign tally`'s default, so that
# the same ballots give the same figures in both. A workshop is 8 to 16 people in up to four groups,
# so groups of 2 to 4 are the norm: a minimum of 5 would hide every group in most rooms. 3 is the
# smallest size at which the shown figures do not give one member another's answer (in a group of
# two, your own rating plus the distribution is the other person's). The facilitator is warned
# before opening a round with smaller groups and can change it per round. (ConsensusRule's own
# default of 5 stays: it is how a stored rule without the key is read, so old rounds keep theirs.)
NEW_ROUND_MIN_GROUP_SIZE = 3

DEFAULT_RULE = ConsensusRule()
"""70/15: the COMET Delphi default (Williamson et al. 2017)."""

STRICT_80_10 = ConsensusRule(in_min_pct_7_9=0.80, in_max_pct_1_3=0.10, out_min_pct_1_3=0.80, out_max_pct_7_9=0.10)
"""80/10: a stricter rule of the kind used by some core outcome sets (e.g. for older people
with frailty) when a short list is wanted."""

RULE_PRESETS: dict[str, ConsensusRule] = {
    "default_70_15": DEFAULT_RULE,
    "strict_80_10": STRICT_80_10,
}
