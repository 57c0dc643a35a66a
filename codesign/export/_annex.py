"""The methods annex: who took part, the rules declared before voting, agreement and departures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesign.export import _labels as L
from codesign.export._model import Grid, Pairs
from codesign.naming import round_label


@dataclass(frozen=True)
class RoundAnnex:
    heading: str
    fields: Pairs


@dataclass(frozen=True)
class Annex:
    participants: Grid
    consensus_text: str
    rounds: list[RoundAnnex]
    agreement: Grid
    agreement_note: str
    tie_break: str
    departures: Grid | None


def build_annex(snapshot: Mapping[str, Any]) -> Annex:
    methods = snapshot.get("methods", {})
    rounds = methods.get("rounds", [])
    names = L.group_names(snapshot)
    return Annex(
        participants=_participants(rounds),
        consensus_text=methods.get("consensus_text") or L.NOT_STATED,
        rounds=[RoundAnnex(heading=round_label(r), fields=_round_fields(r, names))
                for r in rounds],
        agreement=_agreement(rounds),
        agreement_note=("Kendall's W measures how far people agree on the order of the outcomes: 0 is no "
                        "agreement, 1 is complete agreement. Between groups compares the groups' rankings."),
        tie_break=methods.get("tie_break") or L.NOT_STATED,
        departures=_departures(methods.get("departures", [])),
    )


def _suppressed(rnd: Mapping[str, Any], name: str, n: object) -> bool:
    size = int(rnd.get("rule", {}).get("min_group_size", L.DEFAULT_MIN_GROUP_SIZE))
    return name in rnd.get("suppressed_groups", []) or (isinstance(n, int) and n < size)


def _all_groups(rounds: list[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for rnd in rounds:
        names += [n for n in rnd.get("participants", {}) if n not in names]
    return names


def _participants(rounds: list[Mapping[str, Any]]) -> Grid:
    rows = []
    for name in _all_groups(rounds):
        cells = [name]
        for rnd in rounds:
            n = rnd.get("participants", {}).get(name)
            size = int(rnd.get("rule", {}).get("min_group_size", L.DEFAULT_MIN_GROUP_SIZE))
            if _suppressed(rnd, name, n):
                cells.append(f"Fewer than {size}: not reported")
            elif n is None:
                cells.append("Did not take part")
            else:
                cells.append(str(n))
        rows.append(tuple(cells))
    return _by_round_grid("People taking part", rounds, rows)


def _agreement(rounds: list[Mapping[str, Any]]) -> Grid:
    rows = []
    for name in _all_groups(rounds):
        cells = [name]
        for rnd in rounds:
            w = rnd.get("agreement", {}).get("kendall_w", {}).get(name)
            if _suppressed(rnd, name, rnd.get("participants", {}).get(name)):
                cells.append("Not reported")
            else:
                cells.append(L.number(w))
        rows.append(tuple(cells))
    rows.append(("Between groups", *[L.number(r.get("agreement", {}).get("between_groups")) for r in rounds]))
    return _by_round_grid("Kendall's W", rounds, rows)


def _by_round_grid(what: str, rounds: list[Mapping[str, Any]], rows: list[tuple[str, ...]]) -> Grid:
    width = min(30, 70 // max(len(rounds), 1))
    return Grid(header=("Stakeholder group", *[f"{what}, round {r['number']}" for r in rounds]), rows=rows,
                widths=(100 - width * len(rounds), *[width] * len(rounds)),
                numeric=frozenset(range(1, len(rounds) + 1)))


def _options(rnd: Mapping[str, Any]) -> str:
    opts, method = rnd.get("options") or {}, rnd.get("method")
    if method == "rating":
        return ("Scale 1 to 9 (1-3 not important, 4-6 important but not critical, 7-9 critical); "
                "'unable to score' allowed")
    if method == "ranking":
        return f"Each person ranks their top {opts.get('top_k') or 'all'} outcomes"
    if method == "points":
        cap = opts.get("max_per_outcome")
        budget = opts.get("budget")
        return (f"{budget} points each" if budget else "Points spread by each person") + (
            f", at most {cap} on one outcome" if cap else "")
    if method == "pairwise":
        return "Pairs of outcomes: which matters more, or can't decide"
    return "Not recorded"


def _weights(rnd: Mapping[str, Any], names: Mapping[str, str]) -> str:
    weights = rnd.get("weights") or {}
    if not weights:
        return "Every group counts equally"
    if len(set(weights.values())) == 1:
        return f"Every group counts equally, whatever its size (weight {L.number(next(iter(weights.values())))} each)"
    return "; ".join(f"{names.get(k, k)} {L.number(w)}" for k, w in weights.items())


def _round_fields(rnd: Mapping[str, Any], names: Mapping[str, str]) -> Pairs:
    rule = rnd.get("rule") or {}
    size = int(rule.get("min_group_size", L.DEFAULT_MIN_GROUP_SIZE))
    veto = names.get(rule.get("veto_group", ""), rule.get("veto_group") or "patients")
    suppressed = rnd.get("suppressed_groups") or []
    return [
        ("Session", L.text(rnd.get("session"))),
        ("Voting method", L.label(L.METHODS, rnd.get("method"))),
        ("Options", _options(rnd)),
        ("Opened", L.when(rnd.get("opened_at"))),
        ("Closed", L.when(rnd.get("closed_at"))),
        ("Combining the groups", L.label(L.COMBINES, rnd.get("combine"))),
        ("Group weights", _weights(rnd, names)),
        ("Consensus IN when", f"at least {L.percent_fraction(rule.get('in_min_pct_7_9'))} of every group rate it "
                              f"7-9 and fewer than {L.percent_fraction(rule.get('in_max_pct_1_3'))} rate it 1-3"),
        ("Consensus OUT when", f"at least {L.percent_fraction(rule.get('out_min_pct_1_3'))} of every group rate it "
                               f"1-3 and fewer than {L.percent_fraction(rule.get('out_max_pct_7_9'))} rate it 7-9"),
        ("Important to one group", "Flagged when one group reaches the IN threshold"
         if rule.get("important_to_one_group") else "Not used"),
        ("Veto-in", f"{veto} can vote an outcome in" if rule.get("patient_veto_in") else "Not used"),
        ("Minimum group size", f"{size}: smaller groups are not reported"),
        ("Groups not reported", ", ".join(f"{g} (fewer than {size} people)" for g in suppressed) or "All reported"),
    ]


def _departures(departures: list[Mapping[str, Any]]) -> Grid | None:
    if not departures:
        return None
    rows = [(d["statement"], L.label(L.DEPARTURE_ACTIONS, d.get("action")), L.text(d.get("reason")))
            for d in departures]
    return Grid(header=("Outcome", "Decision", "Reason"), rows=rows, widths=(35, 20, 45))
