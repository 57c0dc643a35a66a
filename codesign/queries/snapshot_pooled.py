"""The snapshot's pooled rounds (docs/framework-snapshot.md, methods.pooled_rounds): each counted
pooled round of the population group's panels, with its pooled participants and each session's,
so the co-design annex reports every round of the study. Names no one: groups and counts only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from codesign.models import Panel, PanelRound
from codesign.queries.framework import VersionView
from codesign.queries.pooled import pooled_view
from codesign.queries.rounds import RoundResults


@dataclass(frozen=True)
class PooledEntry:
    results: RoundResults  # the pooled results
    entry: dict[str, Any]  # methods.pooled_rounds[i]
    source: dict[str, Any]  # what an item built from it names as its source_round


def _participants(results: RoundResults) -> dict[str, int | None]:
    res = results.results
    names = results.group_names
    # A group below the minimum size is named but not counted (suppressed in every output).
    return {names.get(k, k): (None if g.small else g.n) for k, g in sorted(res.groups.items())} if res else {}


def pooled_entries(db: Session, view: VersionView) -> dict[int, PooledEntry]:
    """Every counted pooled round of the group's panels, and any the shortlist was built from."""
    from codesign.queries.snapshot import _iso, _round_entry  # the snapshot builds on this module

    sources = {v.item.source_panel_round_id for v in view.items + view.excluded if v.item.source_panel_round_id}
    panels = {p.id: p for p in db.exec(select(Panel).where(Panel.population_group_id == view.group.id))}
    found = db.exec(select(PanelRound).where(col(PanelRound.panel_id).in_(list(panels)),
                                             col(PanelRound.results_json).is_not(None))
                    .order_by(col(PanelRound.id))).all() if panels else []
    out: dict[int, PooledEntry] = {}
    for pr in found:
        pooled = pooled_view(db, pr.panel_id, pr.id or 0)
        if pooled.pooled is None or not pooled.members:
            continue
        first = pooled.members[0]
        base = _round_entry(first.round, first.session, pooled.pooled)
        opened = [m.round.opened_at for m in pooled.members if m.round.opened_at]
        closed = [m.round.closed_at for m in pooled.members if m.round.closed_at]
        name = panels[pr.panel_id].name
        entry = {
            **base, "id": None, "pooled_round_id": pr.id, "number": pr.number, "title": pr.title, "panel": name,
            "session": "; ".join(m.session.title for m in pooled.members),
            "opened_at": _iso(min(opened)) if opened else None, "closed_at": _iso(max(closed)) if closed else None,
            "counting": "Every session's ballots pooled; each person counted once (their most recently updated "
                        "ballot), when the last session's round closed.",
            "sessions": [{"session": m.session.title, "mode": m.session.mode, "round_number": m.round.number,
                          "participants": _participants(m.results), "pooled_people": m.pooled_ballots}
                         for m in pooled.members],
            "source": pr.id in sources, "results_sha256": pr.results_sha256,
        }
        source = {"id": None, "pooled_round_id": pr.id, "number": None,
                  "title": f"Pooled round {pr.number}: {pr.title}", "session": name}
        out[pr.id or 0] = PooledEntry(pooled.pooled, entry, source)
    return out
