"""A study's participation, attrition and stability shaped for the template: sentences first,
then table rows of formatted text, so the template holds no arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codesign.queries.study import StudyView
from codesign.voting.attrition import FLAG_MEAN_DIFFERENCE, FLAG_P_VALUE, GroupParticipation
from codesign.voting.stability import STABLE_CHANGE_POINTS, Stability

CONSENSUS = {"in": "Consensus in", "out": "Consensus out", "none": "No consensus", None: "–"}


@dataclass(frozen=True)
class Row:
    cells: list[str]
    flagged: bool = False


@dataclass(frozen=True)
class Step:
    heading: str
    summary: str
    stable: bool
    groups: list[str]
    rows: list[Row]
    other: str  # outcomes added or dropped, in words (empty when none)


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "–" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def _participation_row(label: str, name: str, g: GroupParticipation) -> Row:
    retained = "–" if g.retention is None else f"{g.retained} of {g.previous_finished} ({_pct(g.retention)})"
    if g.not_invited:
        retained += f"; {g.not_invited} not invited"
    return Row([label, name, str(g.invited), str(g.started), str(g.finished), retained])


def _people_sentence(view: StudyView) -> str:
    last = view.participation[-1]
    text = (f"In {last.label}, {last.total.finished} of the {last.total.invited} people invited finished"
            f" and {last.total.started - last.total.finished} started without finishing.")
    if last.total.retention is not None:
        text += (f" Of the {last.total.previous_finished} who finished the round before and were invited to this "
                 f"one, {last.total.retained} finished it ({_pct(last.total.retention)}).")
    if last.total.not_invited:
        n = last.total.not_invited
        text += (f" {n} who finished the round before {'was' if n == 1 else 'were'} not invited to this one,"
                 " so they count as neither staying nor leaving.")
    return text


def _step(view: StudyView, change: Stability) -> Step:
    names = view.group_names
    groups = sorted({g.group for o in change.outcomes for g in o.groups}, key=lambda k: list(names).index(k)
                    if k in names else len(names))
    rows = []
    for o in change.outcomes:
        by_group = {g.group: g for g in o.groups}
        cells = [view.outcomes.get(o.outcome, o.outcome), CONSENSUS[o.before], CONSENSUS[o.after]]
        for key in groups:
            g = by_group.get(key)
            if g is not None and not g.judged and g.before is not None and g.after is not None:
                cells.append(f"{g.before:.0f}% to {g.after:.0f}% (too few people to judge)")
            elif g is None or g.change is None:
                cells.append("–")
            else:
                cells.append(f"{g.before:.0f}% to {g.after:.0f}% ({g.change:+.0f})")
        rows.append(Row(cells, flagged=o.moved))
    other = []
    if change.added:
        other.append("New in the later round: " + "; ".join(view.outcomes.get(o, o) for o in change.added) + ".")
    if change.dropped:
        other.append("Not carried into the later round: " + "; ".join(view.outcomes.get(o, o)
                                                                      for o in change.dropped) + ".")
    return Step(f"{change.before.label} to {change.after.label}", change.summary, change.verdict == "stable",
                [names.get(g, g) for g in groups], rows, " ".join(other))


def study_context(view: StudyView) -> dict[str, Any]:
    names = view.group_names
    participation = [row for p in view.participation for row in
                     [*(_participation_row(p.label, names.get(g.group, g.group), g) for g in p.groups),
                      _participation_row(p.label, "All groups", p.total)]]
    attrition = [Row([view.outcomes.get(a.outcome, a.outcome), str(a.n_stayed), str(a.n_left), _num(a.mean_stayed),
                      _num(a.mean_left), _num(a.mean_difference), _num(a.median_difference, 1), _p(a.p_value),
                      "Yes" if a.flagged else "No"], flagged=a.flagged) for a in view.attrition]
    flagged = [view.outcomes.get(a.outcome, a.outcome) for a in view.flagged]
    rounds_w = [(r.label, r.results) for r in view.rounds]
    w_groups = [k for k in names if any(res and k in res.agreement.kendall_w for _label, res in rounds_w)]
    agreement = [Row([names[k], *["–" if res is None or res.agreement.kendall_w.get(k) is None
                                  else f"{res.agreement.kendall_w[k].w:.2f}"  # type: ignore[union-attr]
                                  for _label, res in rounds_w]]) for k in w_groups]
    agreement.append(Row(["Between groups", *["–" if res is None or res.agreement.between_groups is None
                                              else f"{res.agreement.between_groups.w:.2f}"
                                              for _label, res in rounds_w]]))
    steps = [_step(view, s) for s in view.stability]
    return {
        "view": view, "panel": view.panel, "group": view.group,
        "people_sentence": _people_sentence(view) if view.participation else "",
        "participation": participation, "attrition": attrition, "flagged": flagged,
        "stayed_round": view.rounds[-1].label if view.rounds else "",
        "last_open": bool(view.rounds and view.rounds[-1].open),
        "steps": steps, "latest": steps[-1] if steps else None,
        "agreement": agreement, "round_labels": [label for label, _res in rounds_w],
        "flag_points": f"{FLAG_MEAN_DIFFERENCE:g}", "flag_p": f"{FLAG_P_VALUE:g}",
        "stable_points": STABLE_CHANGE_POINTS,
    }
