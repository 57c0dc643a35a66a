"""The new-round form: methods, options, consensus rule, the outcomes and the order they are
shown in. Pure: it reads a submitted form and says what it means, or what is wrong by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from codesign.validation import check_int, check_text, normalise_text, parse_id
from codesign.voting import ConsensusRule, MethodOptions
from codesign.voting.order import FACILITATOR, RANDOM, default_order
from codesign.voting.types import NEW_ROUND_MIN_GROUP_SIZE as NEW_ROUND_MIN_GROUP_SIZE

METHODS = {
    "rating": "Rating 1 to 9",
    "ranking": "Ranking: top choices in order",
    "points": "Points: share out dots",
    "pairwise": "Pairwise: which matters more?",
}
COMBINES = {"weighted": "Weighted sum of group scores", "rank_of_ranks": "Rank of ranks (James Lind Alliance)"}


def _pct(errors: dict[str, str], form: Mapping[str, str], field: str, label: str, default: int) -> float:
    value = check_int(errors, field, form.get(field, str(default)), label=label, minimum=0, maximum=100)
    return (value if value is not None else default) / 100



ORDER_CHOICES = {
    RANDOM: "A different random order for each person",
    FACILITATOR: "The same order for everyone: the order of the list below",
}


def _ids_in(text: str) -> list[int]:
    return [i for i in (parse_id(v.strip()) for v in text.split(",")) if i is not None]


def arrange(accepted_ids: Sequence[int], arrangement: str) -> list[int]:
    """The accepted outcomes in the order the form lists them: `arrangement` (ids, comma
    separated, as the form's hidden field carries them) first, then any it does not name."""
    accepted = list(dict.fromkeys(accepted_ids))
    named = [i for i in dict.fromkeys(_ids_in(arrangement)) if i in set(accepted)]
    return named + [i for i in accepted if i not in set(named)]


def move_outcome(arranged: Sequence[int], move: str) -> tuple[list[int], str | None]:
    """The form's "Move up" / "Move down" (`move` is "up:<id>" or "down:<id>"): the new list, and
    the button to keep keyboard focus on (the same one, so pressing again moves further; the other
    direction once the outcome reaches the end; None if `move` names nothing). Nothing is saved:
    the form is shown again in the new order."""
    direction, _, raw = move.partition(":")
    moved = parse_id(raw.strip())
    listed = list(arranged)
    if moved is None or moved not in listed or direction not in ("up", "down") or len(listed) < 2:
        return listed, None
    here = listed.index(moved)
    there = here - 1 if direction == "up" else here + 1
    if 0 <= there < len(listed):
        listed[here], listed[there] = listed[there], listed[here]
        here = there
    at_end = here == 0 if direction == "up" else here == len(listed) - 1
    return listed, f"{'down' if direction == 'up' else 'up'}:{moved}" if at_end else f"{direction}:{moved}"


def parse_round_form(form: Mapping[str, str], accepted_ids: set[int]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the round form into settings (method, options, rule, outcomes), or errors by field.

    The chosen outcomes keep the order the form listed them in (`arrangement`): that is the
    facilitator's order, stored as each outcome's position."""
    errors: dict[str, str] = {}
    title = normalise_text(form.get("title", ""))
    check_text(errors, "title", title, label="a title for the round", max_length=200)
    method = form.get("method", "")
    if method not in METHODS:
        errors["method"] = "Choose how people will vote"
    combine = form.get("combine", "weighted")
    if combine not in COMBINES:
        errors["combine"] = "Choose how group results are combined"
    top_k = check_int(errors, "top_k", form.get("top_k", ""), label="how many to rank", minimum=1, maximum=100)
    budget = check_int(errors, "budget", form.get("budget", "") or "10", label="the number of dots",
                       minimum=1, maximum=1000)
    cap = check_int(errors, "max_per_outcome", form.get("max_per_outcome", ""), label="the most dots per outcome",
                    minimum=1, maximum=1000)
    rule_values = {
        "in_min_pct_7_9": _pct(errors, form, "in_min", "the share rating 7 to 9 for IN", 70),
        "in_max_pct_1_3": _pct(errors, form, "in_max_low", "the share rating 1 to 3 allowed for IN", 15),
        "out_min_pct_1_3": _pct(errors, form, "out_min", "the share rating 1 to 3 for OUT", 70),
        "out_max_pct_7_9": _pct(errors, form, "out_max_high", "the share rating 7 to 9 allowed for OUT", 15),
    }
    min_size = check_int(errors, "min_group_size", form.get("min_group_size", "") or str(NEW_ROUND_MIN_GROUP_SIZE),
                         label="the smallest group size", minimum=1, maximum=1000)
    chosen = set(_ids_in(form.get("outcomes", ""))) & accepted_ids
    ids = [i for i in arrange(sorted(accepted_ids), form.get("arrangement", "")) if i in chosen]
    order = form.get("order", "") or default_order(method)
    if order not in ORDER_CHOICES:
        errors["order"] = "Choose the order people see the outcomes in"
    if method == "pairwise":  # pairs are drawn for each person: there is no list to order
        order = FACILITATOR
    if not ids or len(ids) < 2:
        errors["outcomes"] = "Choose at least two outcomes to vote on"
    if method == "points" and budget and cap and cap > budget:
        errors["max_per_outcome"] = "The most dots per outcome cannot be more than the dots each person has"
    table_based = form.get("table_based") == "yes"
    if table_based and method != "ranking":
        errors["table_based"] = "Table rounds use ranking: each table agrees one ranked list"
    rule: ConsensusRule | None = None
    options: MethodOptions | None = None
    if not errors:
        try:
            rule = ConsensusRule.from_dict({
                **rule_values, "min_group_size": min_size or NEW_ROUND_MIN_GROUP_SIZE,
                "important_to_one_group": True,
                "patient_veto_in": form.get("patient_veto_in") == "yes",
            })
            options = MethodOptions(top_k=top_k if method == "ranking" else None, budget=budget or 10,
                                    max_per_outcome=cap if method == "points" else None)
        except ValueError as exc:
            errors["rule"] = str(exc)
    settings = {"title": title, "method": method, "combine": combine, "rule": rule, "options": options,
                "outcome_ids": ids, "table_based": table_based, "order": order}
    return settings, errors
