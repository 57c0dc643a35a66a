"""The methods annex: who took part, the rules declared before voting, agreement and departures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codesign.export import _cosstar
from codesign.export import _labels as L
from codesign.export._model import Grid, Pairs
from codesign.export._study import StudyAnnex, build_study
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
    # COS-STAR items (export/_cosstar.py), what the workshops do not record, every stage and outcome.
    cos_star: Grid
    report: Pairs
    conflicts: Grid
    stages: Grid
    characteristics: str
    considered: Grid
    votes: Grid
    provenance: Grid
    # A panel's study (issue 14): participation, attrition and stability; empty without a panel.
    study: list[StudyAnnex] = field(default_factory=list)


FATES = {"in_framework": "In the framework", "added": "Added to the framework against the vote",
         "left_out": "Left out by decision", "dropped_by_vote": "Dropped by vote",
         "not_shortlisted": "Not carried to the shortlist", "merged": "Merged", "withdrawn": "Withdrawn",
         "not_moderated": "Proposed, never moderated"}
REPORT_LABELS = (("protocol_reference", "Protocol reference"), ("ethics_consent", "Ethics and consent"),
                 ("funding", "Funding"), ("eligibility", "Eligibility and recruitment of participants"),
                 ("limitations", "Limitations"))
CHARACTERISTICS = ("Participants are described by stakeholder group only: codesign does not record their age, sex, "
                   "ethnicity or other characteristics, and names no one.")


def build_annex(snapshot: Mapping[str, Any]) -> Annex:
    methods = snapshot.get("methods", {})
    rounds = methods.get("rounds", [])
    names = L.group_names(snapshot)
    report = snapshot["framework"].get("report") or {}
    return Annex(
        cos_star=_cosstar.where(snapshot),
        report=[(label, str(report.get(key) or "").strip() or "Not recorded for this version")
                for key, label in REPORT_LABELS],
        conflicts=Grid(header=("Stakeholder group", "Declared conflicts of interest"),
                       rows=[(g, str(text).strip() or "Not recorded") for g, text in
                             (report.get("conflicts") or {}).items()]
                       or [("All groups", "Not recorded for this version")],
                       widths=(30, 70)),
        stages=_stages(methods),
        characteristics=CHARACTERISTICS,
        considered=_considered(methods.get("considered")),
        votes=_votes(snapshot),
        provenance=_provenance(snapshot),
        participants=_participants(rounds),
        consensus_text=methods.get("consensus_text") or L.NOT_STATED,
        rounds=[RoundAnnex(heading=round_label(r), fields=_round_fields(r, names)) for r in rounds]
        + [RoundAnnex(heading=f"Pooled round {p['number']}: {p['title']}", fields=_pooled_fields(p, names))
           for p in methods.get("pooled_rounds", [])],
        agreement=_agreement(rounds),
        agreement_note=("Kendall's W measures how far people agree on the order of the outcomes: 0 is no "
                        "agreement, 1 is complete agreement. Between groups compares the groups' rankings."),
        tie_break=methods.get("tie_break") or L.NOT_STATED,
        departures=_departures(methods.get("departures", [])),
        study=_study_section(methods),
    )


def _study_section(methods: Mapping[str, Any]) -> list[StudyAnnex]:
    """The study across rounds (export/_study.py), when the population group has a panel."""
    return build_study(methods)


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
    consensus: Pairs = [
        ("Consensus IN when", f"at least {L.percent_fraction(rule.get('in_min_pct_7_9'))} of every group rate it "
                              f"7-9 and fewer than {L.percent_fraction(rule.get('in_max_pct_1_3'))} rate it 1-3"),
        ("Consensus OUT when", f"at least {L.percent_fraction(rule.get('out_min_pct_1_3'))} of every group rate it "
                               f"1-3 and fewer than {L.percent_fraction(rule.get('out_max_pct_7_9'))} rate it 7-9"),
        ("Important to one group", "Flagged when one group reaches the IN threshold"
         if rule.get("important_to_one_group") else "Not used"),
        ("Veto-in", f"{veto} can vote an outcome in" if rule.get("patient_veto_in") else "Not used"),
    ] if rnd.get("method") == "rating" else [  # the 1-9 rule means nothing to a ranking, points or pairs
        ("Consensus", "Not used: this method orders the outcomes; it has no 1-9 consensus rule"),
    ]
    return [
        ("Session", L.text(rnd.get("session"))),
        ("Voting method", L.label(L.METHODS, rnd.get("method"))),
        ("Options", _options(rnd)),
        ("Opened", L.when(rnd.get("opened_at"))),
        ("Closed", L.when(rnd.get("closed_at"))),
        ("Combining the groups", L.label(L.COMBINES, rnd.get("combine"))),
        ("Group weights", _weights(rnd, names)),
        *consensus,
        ("Minimum group size", f"{size}: smaller groups are not reported"),
        ("Groups not reported", ", ".join(f"{g} (fewer than {size} people)" for g in suppressed) or "All reported"),
    ]


def _people(participants: Mapping[str, Any]) -> str:
    """ "Patients 12, Carers fewer than 5 people: not reported" (suppressed groups are named, not counted)."""
    return ", ".join(f"{g} {n}" if n is not None else f"{g} (too few to report)"
                     for g, n in participants.items()) or "Nobody"


def _pooled_fields(pooled: Mapping[str, Any], names: Mapping[str, str]) -> Pairs:
    """A pooled round (one round run in several of a panel's sessions): its settings, as a round's,
    then who was counted in the pool and in each session."""
    fields = _round_fields(pooled, names)
    return [
        ("Panel", L.text(pooled.get("panel"))),
        ("Sessions", L.text(pooled.get("session"))),
        ("Counting", L.text(pooled.get("counting"))),
        *[pair for pair in fields if pair[0] != "Session"],
        ("People counted, all sessions together", _people(pooled.get("participants") or {})),
        *[(f"{s['session']} (round {s['round_number']}, {'online' if s.get('mode') == 'online' else 'in a room'})",
           f"{_people(s.get('participants') or {})}; {L.number(s.get('pooled_people'))} in the pooled count")
          for s in pooled.get("sessions", [])],
    ]


def _departures(departures: list[Mapping[str, Any]]) -> Grid | None:
    if not departures:
        return None
    rows = [(d["statement"], L.label(L.DEPARTURE_ACTIONS, d.get("action")), L.text(d.get("reason")))
            for d in departures]
    return Grid(header=("Outcome", "Decision", "Reason"), rows=rows, widths=(35, 20, 45))


def _stages(methods: Mapping[str, Any]) -> Grid:
    """People taking part at each stage: proposing in each session, then each voting round."""
    stages = [(f"Proposing outcomes: {st.get('session')}", st.get("participants") or {}, DEFAULT_SIZE)
              for st in methods.get("stages") or []]
    stages += [(f"{round_label(r)}{' (the shortlist was built from it)' if r.get('source') else ''}",
                r.get("participants") or {}, int((r.get("rule") or {}).get("min_group_size", DEFAULT_SIZE)))
               for r in methods.get("rounds", [])]
    groups: list[str] = []
    for _label, counts, _size in stages:
        groups += [g for g in counts if g not in groups]
    rows = []
    for label, counts, size in stages:
        cells = [label]
        for g in groups:
            n = counts.get(g, "absent")
            cells.append("Did not take part" if n == "absent" else f"Fewer than {size}" if n is None else str(n))
        rows.append(tuple(cells))
    width = min(18, 60 // max(len(groups), 1))
    return Grid(header=("Stage", *groups), rows=rows or [("No stage recorded",)],
                widths=(100 - width * len(groups), *[width] * len(groups)),
                numeric=frozenset(range(1, len(groups) + 1)))


DEFAULT_SIZE = L.DEFAULT_MIN_GROUP_SIZE


def _considered(considered: list[Mapping[str, Any]] | None) -> Grid:
    if considered is None:  # a version frozen before every outcome was reported
        return Grid(header=("Outcome", "Fate", "Reason"), rows=[("Not recorded for this version",)],
                    widths=(40, 25, 35))
    rows = []
    for c in considered:
        fate = L.label(FATES, c.get("fate"))
        if c.get("merged_into"):
            fate += f" into \u201c{c['merged_into']}\u201d"
        if c.get("reworded_from"):
            fate += "; reworded from " + "; ".join(f"\u201c{w}\u201d" for w in c["reworded_from"])
        rows.append((L.text(c.get("statement")), fate, L.text(c.get("reason")) if c.get("reason") else "\u2013"))
    return Grid(header=("Outcome", "Fate", "Reason"), rows=rows or [("No outcome was proposed",)],
                widths=(40, 30, 30))


def _votes(snapshot: Mapping[str, Any]) -> Grid:
    """Each framework outcome's score by group in the round it came from, compactly (suppressed
    groups: not reported)."""
    names = L.group_names(snapshot)
    rows = []
    for o in snapshot.get("outcomes", []):
        groups = o.get("votes", {}).get("groups", {})
        cells = [f"{o['definition'].get('indicator_code') or o['rank']} {o['statement']}"]
        for key in names:
            g = groups.get(key)
            if g is None:
                cells.append("\u2013")
            elif g.get("suppressed"):
                cells.append("Not reported")
            else:
                cells.append(f"{L.number(g.get('score'))} (n={L.number(g.get('n'))})")
        cells.append(L.computed_result(o.get("computed")))
        rows.append(tuple(cells))
    width = min(14, 50 // max(len(names), 1))
    return Grid(header=("Outcome", *names.values(), "Computed result"), rows=rows,
                widths=(30, *[width] * len(names), 70 - width * len(names)),
                numeric=frozenset(range(1, len(names) + 1)))


def _provenance(snapshot: Mapping[str, Any]) -> Grid:
    """Where each framework outcome came from: one row per source (merged ones marked)."""
    rows = []
    for o in snapshot.get("outcomes", []):
        label = f"{o['definition'].get('indicator_code') or o['rank']} {o['statement']}"
        for src in o.get("provenance", {}).get("sources", []):
            rows.append((label, L.label(L.SOURCE_KINDS, src.get("kind")) + (" (merged in)" if src.get("via_merge")
                                                                              else ""),
                         L.text(src.get("group")) if src.get("group") else "\u2013",
                         L.text(src.get("statement")), L.text(src.get("session")) if src.get("session") else "\u2013"))
    return Grid(header=("Outcome", "Source", "Stakeholder group", "Words first proposed", "Session"),
                rows=rows or [("No source recorded",)], widths=(26, 18, 14, 26, 16))
