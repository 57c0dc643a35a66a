"""The co-design annex's study section: a panel's rounds, who stayed, and how stable the results were.

Built from the snapshot's `methods.study` (present only when the population group has a panel;
`queries.study_snapshot` left out what may not be published). Plain words first, figures after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesign.export import _labels as L
from codesign.export._model import Grid

ATTRITION_NOTE = ("Did the people who left score differently? For each outcome, the round 1 scores of those who "
                  "stayed to the last round are compared with those of the people who left (Mann-Whitney U test). "
                  "An outcome is flagged when the average differs by 1 point or more on the 1 to 9 scale and "
                  "p is under 0.05.")
STABILITY_NOTE = ("Stable means another round would change little: no outcome changed its consensus result and no "
                  "group's share rating an outcome 7 to 9 moved by 15 points or more.")


@dataclass(frozen=True)
class StudyStep:
    heading: str  # "Round 1: ... to Round 2: ..."
    summary: str  # the verdict in words
    changes: Grid | None


@dataclass(frozen=True)
class StudyAnnex:
    heading: str
    intro: str
    participation: Grid
    attrition_summary: str
    attrition: Grid | None
    stability: list[StudyStep]
    agreement: Grid | None


def _cell(value: object, size: int) -> str:
    return f"Fewer than {size}" if value is None else str(value)


def _participation(study: Mapping[str, Any]) -> Grid:
    size = int(study.get("min_group_size", L.DEFAULT_MIN_GROUP_SIZE))
    rows = []
    for p in study.get("participation", []):
        for name, g in [*p.get("groups", {}).items(), ("All groups", p.get("total", {}))]:
            retention = g.get("retention")
            stayed = "–" if retention is None else f"{100 * retention:.0f}%"
            if g.get("not_invited"):  # finished the round before, never asked to this one
                stayed += f" ({g['not_invited']} not invited)"
            rows.append((L.text(p.get("round")), L.text(name), _cell(g.get("invited"), size),
                         _cell(g.get("started"), size), _cell(g.get("finished"), size), stayed))
    return Grid(header=("Round", "Stakeholder group", "Invited", "Started", "Finished", "Stayed from last round"),
                rows=rows or [("No round has opened yet",)], widths=(30, 20, 12, 12, 12, 14),
                numeric=frozenset({2, 3, 4, 5}))


def _attrition(study: Mapping[str, Any]) -> tuple[str, Grid | None]:
    section = study.get("attrition")
    if not section:
        return "Not assessed: it needs two rounds, the first of them rated 1 to 9.", None
    size = int(study.get("min_group_size", L.DEFAULT_MIN_GROUP_SIZE))
    rows: list[tuple[str, ...]] = []
    for o in section.get("outcomes", []):
        if o.get("suppressed"):
            rows.append((L.text(o.get("statement")), f"Fewer than {size} stayed or left: not reported"))
            continue
        rows.append((L.text(o.get("statement")), _cell(o.get("n_stayed"), size), _cell(o.get("n_left"), size),
                     L.number(o.get("mean_stayed")), L.number(o.get("mean_left")), L.number(o.get("mean_difference")),
                     L.number(o.get("p_value")), "Yes" if o.get("flagged") else "No"))
    flagged = [o for o in section.get("outcomes", []) if o.get("flagged")]
    summary = (f"{len(flagged)} outcome{'s' if len(flagged) != 1 else ''} flagged: those who left scored "
               "differently in round 1." if flagged else "No outcome flagged: those who left scored much as those "
               "who stayed.") + f" Stayed: {L.text(section.get('stayed'))}."
    grid = Grid(header=("Outcome", "Stayed", "Left", "Average, stayed", "Average, left", "Difference", "p",
                        "Flagged"), rows=rows, widths=(30, 9, 9, 10, 10, 11, 11, 10),
                numeric=frozenset({1, 2, 3, 4, 5, 6}))
    return summary, grid


def _step(step: Mapping[str, Any]) -> StudyStep:
    rows = [(L.text(o.get("statement")), L.label(L.CONSENSUS, o.get("before")) if o.get("before") else "–",
             L.label(L.CONSENSUS, o.get("after")) if o.get("after") else "–",
             "–" if o.get("largest_change_7_9") is None else f"{o['largest_change_7_9']:g} points")
            for o in step.get("outcomes", [])]
    grid = Grid(header=("Outcome", "Consensus before", "Consensus after", "Largest change in % rating 7-9"),
                rows=rows, widths=(40, 18, 18, 24), numeric=frozenset({3})) if rows else None
    return StudyStep(f"{L.text(step.get('from'))} to {L.text(step.get('to'))}", L.text(step.get("summary")), grid)


def _agreement(study: Mapping[str, Any]) -> Grid | None:
    rounds = study.get("agreement", [])
    if not rounds:
        return None
    names: list[str] = []
    for r in rounds:
        names += [n for n in r.get("kendall_w", {}) if n not in names]
    rows = [(n, *[L.number(r.get("kendall_w", {}).get(n)) if n in r.get("kendall_w", {}) else "–" for r in rounds])
            for n in names]
    rows.append(("Between groups", *[L.number(r.get("between_groups")) for r in rounds]))
    width = min(25, 70 // len(rounds))
    return Grid(header=("Stakeholder group", *[L.text(r.get("round")) for r in rounds]), rows=rows,
                widths=(100 - width * len(rounds), *[width] * len(rounds)),
                numeric=frozenset(range(1, len(rounds) + 1)))


def build_study(methods: Mapping[str, Any]) -> list[StudyAnnex]:
    """One section per panel in `methods.study`; none for a snapshot without it."""
    out = []
    for study in methods.get("study") or []:
        rounds = study.get("rounds", [])
        intro = (f"The study ran {len(rounds)} round{'s' if len(rounds) != 1 else ''} with this panel."
                 if rounds else "No round of this study has opened yet.")
        summary, grid = _attrition(study)
        out.append(StudyAnnex(heading=f"Study: {L.text(study.get('panel'))}", intro=intro + " " + STABILITY_NOTE,
                              participation=_participation(study), attrition_summary=summary + " " + ATTRITION_NOTE,
                              attrition=grid, stability=[_step(s) for s in study.get("stability", [])],
                              agreement=_agreement(study)))
    return out
