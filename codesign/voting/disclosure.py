"""What may be shown of a round's results outside the facilitator's own console.

Participants, the projector, the public page and every export follow these rules, so no audience
learns how a group smaller than the round's minimum answered (statistical disclosure control: in
a group of two, one person's answer shows the other's):

- a *group* with fewer than ``min_group_size`` people in the round is hidden everywhere: no
  figures, no "critical to <group>", no Kendall's W, no ranks in "where groups disagree";
- a *cell* (one outcome in one shown group) whose own count fell under the minimum is hidden too:
  after "I cannot score this" a group of 8 can score an outcome with 3 answers (rating), and in a
  pairwise round a group may have seen an outcome only a few times. ``GroupOutcome.n`` is that count;
- the *combined score* of an outcome is hidden when a hidden group or cell went into it
  (secondary suppression: with equal weights, combined x groups - the shown scores = the hidden
  one), and so is its *consensus*: the rule is applied in every group, so "in" would tell the room
  that the one or two people of a small group rated it 7-9 (and "out" or "none" something of the
  same kind). Its rank stays. The facilitator is told this before opening a round with small
  groups, and can lower the round's minimum if the room agrees to be shown.

The facilitator's console shows everything, with small groups flagged. Pure code, like the
rest of ``codesign.voting``.
"""

from __future__ import annotations

from dataclasses import dataclass

from codesign.voting.results import Disagreement, OutcomeResult, Results


@dataclass(frozen=True)
class Disclosure:
    min_size: int
    hidden_groups: frozenset[str]
    hidden_cells: frozenset[tuple[str, str]]  # (outcome, group) in shown groups

    def group_shown(self, group: str) -> bool:
        return group not in self.hidden_groups

    def cell_shown(self, outcome: str, group: str) -> bool:
        return group not in self.hidden_groups and (outcome, group) not in self.hidden_cells

    def combined_shown(self, result: OutcomeResult) -> bool:
        return all(self.cell_shown(result.outcome, group) for group in result.groups)

    def important_to(self, result: OutcomeResult) -> tuple[str, ...]:
        return tuple(g for g in result.important_to if self.cell_shown(result.outcome, g))

    @property
    def hides_anything(self) -> bool:
        return bool(self.hidden_groups or self.hidden_cells)


def disclosure(results: Results) -> Disclosure:
    size = results.rule.min_group_size
    hidden_groups = frozenset(g for g, info in results.groups.items() if info.n < size)
    hidden_cells = frozenset((o.outcome, g) for o in results.outcomes for g, go in o.groups.items()
                             if g not in hidden_groups and go.n < size)
    return Disclosure(size, hidden_groups, hidden_cells)


def shown_disagreements(results: Results, rules: Disclosure) -> list[Disagreement]:
    """"Where groups disagree most" among the groups that may be shown: spreads are worked out
    again over those groups' ranks only (a spread that counted a hidden group would hint at its
    rank), largest first, then by the combined rank."""
    found: list[tuple[int, int, Disagreement]] = []
    for result in results.outcomes:
        ranks = {g: go.rank for g, go in result.groups.items() if rules.cell_shown(result.outcome, g)}
        if len(ranks) < 2:
            continue
        spread = max(ranks.values()) - min(ranks.values())
        if spread > 0:
            found.append((-spread, result.rank, Disagreement(result.outcome, spread, ranks)))
    return [d for _, _, d in sorted(found, key=lambda item: (item[0], item[1]))]
