"""The order a round's outcomes are shown in: the facilitator's, or a random order per person.

COMET recommends presenting Delphi items in a random order for each participant, so that no
outcome gains (or loses) from always coming first or last: an order (primacy, fatigue) effect
is then spread evenly over the list instead of landing on the same outcomes for everyone
(Williamson et al. 2017, "The COMET Handbook: version 1.0", Trials 18(Suppl 3): 280; Brookes
et al. 2018, "Impact of question order on prioritisation of outcomes in the development of a
core outcome set: a randomised controlled trial", Trials 19: 66).

A random order here is reproducible: when the round opens a secret seed is drawn and recorded
with the round (and in its "round opened" audit event), and each voter's order is a pure
function of that seed and who they are. Outcomes are sorted by HMAC-SHA256(seed, voter and
outcome), a keyed pseudo-random function, so:

- the same person sees the same order on every page load, on every worker, in any Python;
- every outcome appears exactly once, whatever order the ids were given in;
- two people get independent orders, each uniform over all orderings (HMAC is a PRF);
- the same seed over a subset of the outcomes (a Delphi round 2 on fewer outcomes) keeps
  each person's relative order, so "the one after X" still means the same thing.

The round's settings keep this beside the method options in the same JSON, under keys that
``split_options`` takes out before the options reach the counting code: counting never
depends on the order outcomes were shown in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from codesign.voting.types import MethodOptions

Order = Literal["random", "facilitator"]
ORDERS: tuple[str, ...] = get_args(Order)
RANDOM: Order = "random"
FACILITATOR: Order = "facilitator"
ORDER_KEY = "order"
SEED_KEY = "order_seed"
# Pairwise draws its own pairs; only methods that show a list (or a question per outcome) use an order.
ORDERED_METHODS: tuple[str, ...] = ("rating", "ranking", "points")


@dataclass(frozen=True)
class Presentation:
    """How a round shows its outcomes. ``seed`` is set once a random-order round has opened."""

    order: Order = FACILITATOR
    seed: str | None = None

    @property
    def random(self) -> bool:
        return self.order == RANDOM

    def to_dict(self) -> dict[str, Any]:
        return {ORDER_KEY: self.order, SEED_KEY: self.seed}


def default_order(method: str) -> Order:
    """Random for rating (COMET's advice for Delphi ratings); the facilitator's order otherwise."""
    return RANDOM if method == "rating" else FACILITATOR


def split_options(data: Mapping[str, Any]) -> tuple[dict[str, Any], Presentation]:
    """A round's stored options as (the method options for counting, how outcomes are shown).

    Rounds stored before the order existed have neither key: they were shown in the
    facilitator's order."""
    method_options = {k: v for k, v in data.items() if k not in (ORDER_KEY, SEED_KEY)}
    order = data.get(ORDER_KEY, FACILITATOR)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    seed = data.get(SEED_KEY)
    if seed is not None and (not isinstance(seed, str) or not seed):
        raise ValueError(f"order_seed must be a non-empty string, got {seed!r}")
    return method_options, Presentation(order, seed)


def _sort_key(seed: bytes, voter: str, outcome_id: int) -> bytes:
    # A separator no voter key or decimal id contains, so ("p:1", 23) and ("p:12", 3) differ.
    return hmac.new(seed, f"{voter}\x1f{outcome_id}".encode(), hashlib.sha256).digest()


def voter_order(outcome_ids: Sequence[int], seed: str, voter: str) -> list[int]:
    """The order `voter` sees `outcome_ids` in under `seed`: a pure function of the three.

    `voter` names whose list it is: "p:<participant id>", or "t:<table>" in a table round (the
    tablets of one table share one list, so they show it in one order)."""
    key = seed.encode("utf-8")
    return sorted(dict.fromkeys(outcome_ids), key=lambda outcome_id: (_sort_key(key, voter, outcome_id), outcome_id))


def presented(outcome_ids: Sequence[int], presentation: Presentation, voter: str) -> list[int]:
    """The outcomes in the order `voter` is shown them. `outcome_ids` is the facilitator's order;
    a random-order round that has not drawn its seed yet (a draft) shows that order too."""
    if presentation.random and presentation.seed is not None:
        return voter_order(outcome_ids, presentation.seed, voter)
    return list(dict.fromkeys(outcome_ids))


def parse_options(options_json: str) -> tuple[MethodOptions, Presentation]:
    """A round's stored options JSON as (method options for counting, how outcomes are shown)."""
    method_options, presentation = split_options(json.loads(options_json or "{}"))
    return MethodOptions.from_dict(method_options), presentation
