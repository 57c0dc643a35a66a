"""The study section of the framework snapshot (`methods.study`, docs/framework-snapshot.md).

One entry per panel of the population group: participation per round and group, attrition bias
and stability between rounds, as `queries.study` gives them, with what may not be published
left out (the appendix is public): a count of 1 to (minimum group size - 1) people is null, and so
is a retention share resting on such a count; an
outcome's attrition comparison is null when fewer than the minimum stayed or left (a mean of two
leavers' scores nearly names them); a group below the minimum in either round is left out of the
change in % rating 7-9 and of Kendall's W.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from codesign.queries.study import StudyView, get_study, list_group_panels
from codesign.voting.attrition import GroupParticipation
from codesign.voting.results import Results
from codesign.voting.stability import Stability

__all__ = ["study_section"]


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _count(n: int, size: int) -> int | None:
    return None if 0 < n < size else n


def _participation(row: GroupParticipation, size: int) -> dict[str, Any]:
    # A share gives back the counts it is made of (17% of 6 is 1 person), so it is left out
    # whenever any count it rests on would be: those who finished before, those retained, and
    # this round's finishers (the retained are among them).
    rests_on = (row.previous_finished, row.retained, row.finished)
    hidden = any(n is not None and 0 < n < size for n in rests_on)
    return {"invited": _count(row.invited, size), "started": _count(row.started, size),
            "finished": _count(row.finished, size),
            "not_invited": None if row.not_invited is None else _count(row.not_invited, size),
            "retention": None if hidden else _r(row.retention)}


def _small(results: Results | None) -> set[str]:
    return set() if results is None else {k for k, g in results.groups.items() if g.small}


def _stability(view: StudyView, index: int, change: Stability) -> dict[str, Any]:
    hidden = _small(view.rounds[index].results) | _small(view.rounds[index + 1].results)
    outcomes = []
    for o in change.outcomes:
        # The verdict counts only judged groups (a group under the minimum size in either round
        # has no change: voting.stability), so the table shows the same changes the text counts.
        moves = [abs(g.change) for g in o.groups if g.change is not None and g.judged and g.group not in hidden]
        outcomes.append({"statement": view.outcomes.get(o.outcome, o.outcome), "before": o.before, "after": o.after,
                         "category_changed": o.category_changed,
                         "largest_change_7_9": _r(max(moves), 1) if moves else None})
    return {"from": change.before.label, "to": change.after.label, "verdict": change.verdict,
            "summary": change.summary, "outcomes": outcomes}


def _agreement(view: StudyView) -> list[dict[str, Any]]:
    out = []
    for r in view.rounds:
        res = r.results
        hidden = _small(res)
        within = {} if res is None else {
            view.group_names.get(k, k): None if w is None or k in hidden else _r(w.w)
            for k, w in sorted(res.agreement.kendall_w.items())}
        between = None if res is None or res.agreement.between_groups is None else _r(res.agreement.between_groups.w)
        out.append({"round": r.label, "kendall_w": within, "between_groups": between})
    return out


def _entry(view: StudyView) -> dict[str, Any]:
    size, names = view.min_group_size, view.group_names
    last = view.rounds[-1].label if view.rounds else None
    return {
        "panel": view.panel.name, "min_group_size": size,
        "rounds": [{"number": r.number, "label": r.label, "sessions": len(r.members), "open": r.open}
                   for r in view.rounds],
        "participation": [{"round": p.label,
                           "groups": {names.get(g.group, g.group): _participation(g, size) for g in p.groups},
                           "total": _participation(p.total, size)} for p in view.participation],
        "attrition": None if not view.attrition else {
            "stayed": f"finished {last}", "outcomes": [
                {"statement": view.outcomes.get(a.outcome, a.outcome), "n_stayed": _count(a.n_stayed, size),
                 "n_left": _count(a.n_left, size),
                 **({"suppressed": True} if 0 < min(a.n_stayed, a.n_left) < size else {
                     "suppressed": False, "mean_stayed": _r(a.mean_stayed, 2), "mean_left": _r(a.mean_left, 2),
                     "mean_difference": _r(a.mean_difference, 2), "median_difference": _r(a.median_difference, 2),
                     "p_value": _r(a.p_value), "flagged": a.flagged})}
                for a in view.attrition]},
        "stability": [_stability(view, i, s) for i, s in enumerate(view.stability)],
        "agreement": _agreement(view),
    }


def study_section(db: Session, population_group_id: int) -> list[dict[str, Any]] | None:
    """Every panel of the population group, in the order made; None when it has no panel."""
    panels = list_group_panels(db, population_group_id)
    if not panels:
        return None
    return [_entry(get_study(db, p.id or 0)) for p in panels]
