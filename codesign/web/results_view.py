"""Round results shaped for templates: formatted numbers, badges and bar widths, no logic left to
the template. Used by the facilitator console, the projector and the participants' results page."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from codesign.queries.rounds import RoundResults
from codesign.voting import OutcomeResult, plain
from codesign.voting.disclosure import Disclosure, disclosure, shown_disagreements
from codesign.voting.results import Disagreement

CONSENSUS = {
    "in": ("Consensus in", "nhsuk-tag--green"),
    "out": ("Consensus out", "nhsuk-tag--red"),
    "none": ("No consensus", "nhsuk-tag--grey"),
}
BANDS = (("1–3", "Not important", 0, 3, "app-bar--low"), ("4–6", "Important, not critical", 3, 6, "app-bar--mid"),
         ("7–9", "Critical", 6, 9, "app-bar--high"))


@dataclass(frozen=True)
class Band:
    label: str
    meaning: str
    count: int
    pct: float
    css: str


@dataclass(frozen=True)
class GroupCell:
    name: str
    n: int
    small: bool
    score_pct: str
    rank: int
    detail: str
    bands: list[Band] = field(default_factory=list)
    unable: int = 0
    hidden: bool = False  # too few answers to show outside the console (voting.disclosure)
    plain: plain.PlainCell | None = None  # the same cell in words, for participants and the room


@dataclass(frozen=True)
class Row:
    rank: int
    outcome_id: int
    statement: str
    score_pct: str
    consensus: tuple[str, str] | None
    important_to: list[str]
    schulze_rank: int | None
    cells: list[GroupCell]
    score_hidden: bool = False  # a hidden group or cell went into the combined score
    agreed: str | None = None  # "Agreed: keep in", "Not agreed"... (public pages; None: no consensus shown)
    agreed_by: str = ""  # "Patients agreed to keep it in, but not every group did." (public pages)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _cell(name: str, n: int, small: bool, result: OutcomeResult, key: str, method: str,
          hidden: bool = False) -> GroupCell:
    go = result.groups.get(key)
    if go is None:
        return GroupCell(name, 0, small, "–", 0, "no answers")
    if hidden:
        return GroupCell(name, go.n, small, "–", 0, "too few answers to show", hidden=True)
    bands: list[Band] = []
    unable = 0
    detail = ""
    if method == "rating" and go.distribution is not None:
        counts = list(go.distribution)
        unable = counts[9] if len(counts) > 9 else 0
        scored = sum(counts[:9]) or 1
        for label, meaning, lo, hi, css in BANDS:
            count = sum(counts[lo:hi])
            bands.append(Band(label, meaning, count, round(100 * count / scored, 1), css))
        detail = (f"{go.pct_7_9:.0f}% rated 7–9, {go.pct_1_3:.0f}% rated 1–3"
                  if go.pct_7_9 is not None and go.pct_1_3 is not None else "")
    elif method == "ranking" and go.mean_points is not None:
        detail = f"ranked by {go.times_ranked} of {go.n}"
    elif method == "points" and go.mean_allocation is not None:
        detail = f"{go.mean_allocation:.1f} dots on average"
    elif method == "pairwise" and go.wins is not None:
        detail = f"won {go.wins} of {(go.wins or 0) + (go.losses or 0)} choices"
    return GroupCell(name, go.n, small, _pct(go.score), go.rank, detail, bands, unable)


def results_context(view: RoundResults, *, public: bool = False) -> dict[str, Any]:
    """Template context for a round's results. `public` (participants, the projector) applies the
    disclosure rules of voting.disclosure: small groups, thin cells and scores they feed are hidden;
    and it words the results for a patient (voting.plain): no Kendall's W, p-values or scores."""
    context: dict[str, Any] = {"results": view, "rows": [], "groups": [], "agreement": None, "disagreements": [],
                               "table_rows": [], "suppressed": [], "score_hidden": False, "plain": None}
    labels = view.labels
    if view.tables is not None:
        context["table_rows"] = [{"rank": t.rank, "statement": labels[t.outcome], "total": t.total_rank,
                                  "tables": dict(t.tables)} for t in view.tables]
        return context
    results = view.results
    if results is None:
        return context
    rules = disclosure(results) if public else None

    def shown(group: str) -> bool:
        return rules is None or rules.group_shown(group)

    # In the population group's order (patients first, as everywhere else), not the engine's.
    order = {key: i for i, key in enumerate(view.group_names)}
    groups = sorted(((key, view.group_names.get(key, key), info) for key, info in results.groups.items()
                     if shown(key)), key=lambda g: (order.get(g[0], len(order)), g[0]))
    shown_keys = {g[0] for g in groups}
    context["groups"] = [{"key": k, "name": name, "n": info.n, "weight": f"{info.weight * 100:.0f}%",
                          "small": info.small, "people": plain.people(info.n)} for k, name, info in groups]
    context["suppressed"] = [view.group_names.get(k, k) for k in sorted(results.groups) if not shown(k)]
    if rules is not None:
        rule = results.rule
        context["plain"] = {
            "hidden_groups": plain.hidden_groups_words(context["suppressed"], rule.min_group_size)
            if context["suppressed"] else "",
            "rule": plain.rule_words(rule, view.group_names.get(rule.veto_group, rule.veto_group))
            if results.method == "rating" else (),
            "agreement_hidden": plain.AGREEMENT_HIDDEN_WHY,
        }
    for item in results.outcomes:
        score_hidden = rules is not None and not rules.combined_shown(item)
        critical_to = rules.important_to(item) if rules else item.important_to
        context["score_hidden"] = context["score_hidden"] or score_hidden
        context["rows"].append(Row(
            rank=item.rank, outcome_id=int(item.outcome), statement=labels.get(item.outcome, item.outcome),
            score_pct="not shown" if score_hidden else _pct(item.score),
            consensus=CONSENSUS.get(item.consensus) if item.consensus and not score_hidden else None,
            important_to=[view.group_names.get(g, g) for g in critical_to],
            schulze_rank=item.schulze_rank,
            cells=[_public_cell(name, info.n, info.small, item, key, results.method, rules)
                   if rules is not None else _cell(name, info.n, info.small, item, key, results.method)
                   for key, name, info in groups],
            score_hidden=score_hidden,
            agreed=None if score_hidden or rules is None else plain.agreement_words(item.consensus),
            agreed_by="" if rules is None or score_hidden or item.consensus == "in" else plain.agreed_by_words(
                [view.group_names.get(g, g) for g in critical_to]),
        ))
    if rules is not None:  # Kendall's W and its p-values are for the facilitator's console and downloads
        context["plain"]["bars"] = any(cell.plain and cell.plain.bands for row in context["rows"] for cell in row.cells)
        context["disagreements"] = _disagreements(view, shown_disagreements(results, rules), shown_keys)
        return context
    agreement = results.agreement
    context["agreement"] = {
        "within": [{"name": view.group_names.get(k, k), "w": f"{r.w:.2f}", "p": _p(r.p_value), "raters": r.raters}
                   for k, r in agreement.kendall_w.items() if r is not None and k in shown_keys],
        "between": None if agreement.between_groups is None else {
            "w": f"{agreement.between_groups.w:.2f}", "p": _p(agreement.between_groups.p_value)},
    }
    context["disagreements"] = _disagreements(view, [d for d in agreement.disagreements if d.spread > 0], shown_keys)
    return context


def _public_cell(name: str, n: int, small: bool, item: OutcomeResult, key: str, method: str,
                 rules: Disclosure) -> GroupCell:
    """A cell for participants and the room: the console's cell (hidden as disclosure says) and its words.
    Every sentence counts out of `n`, the group's people in the round, as the group's heading does."""
    hidden = not rules.cell_shown(item.outcome, key)
    cell = _cell(name, n, small, item, key, method, hidden=hidden)
    words = plain.plain_cell(method, name, n, item.groups.get(key), hidden=hidden, min_size=rules.min_size)
    return replace(cell, plain=words)


def _disagreements(view: RoundResults, spread: list[Disagreement], shown_keys: set[str]) -> list[dict[str, Any]]:
    labels = view.labels
    found = []
    for d in spread:
        ranks = [(view.group_names.get(k, k), r) for k, r in d.ranks.items() if k in shown_keys]
        found.append({"statement": labels.get(d.outcome, d.outcome), "spread": d.spread, "ranks": ranks,
                      "plain": plain.places_words(ranks)})
    return found


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


PROJECTOR_PAGE_SIZE = 15  # fits a 1920x1080 screen without scrolling


def paginate(context: dict[str, Any], page: int, size: int) -> dict[str, Any]:
    """Split the ranked rows into screens of `size`; `page` is clamped to those that exist."""
    rows = context.get("rows") or context.get("table_rows") or []
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 1), pages)
    key = "rows" if context.get("rows") else "table_rows"
    return {**context, key: rows[(page - 1) * size: page * size], "page": page, "pages": pages, "first_rank":
            (page - 1) * size + 1}
