"""What Appendix A says, built once from the snapshot: the DOCX and the PDF both render this.

Everything here is plain text already in the reader's words (labels and formats from
`_labels`), so the two documents cannot drift apart. No I/O, no markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesign.export import _labels as L
from codesign.export import _schedule
from codesign.export._annex import Annex, build_annex
from codesign.export._model import Grid, Pairs
from codesign.export._schedule import IndicatorSpec
from codesign.export._signoff import SignOff, build_sign_off

TITLE = "Appendix A: Outcomes framework"
# Fixed sentences both documents print.
NOTES = {
    "participants": "Participants are not named or numbered. Groups smaller than the minimum size are not reported.",
    "no_departures": "No departures: the framework follows the computed result.",
    "parts": ("This appendix has three parts. Part 1, the schedule, is what the contract pays on: a summary and "
              "one specification per indicator. Part 2, the co-design annex, records how the outcomes were chosen "
              "(the 18 COS-STAR reporting items). Part 3 is the sign-off."),
    "schedule_summary": ("Weights are shares of each year's outcome-linked money. Targets are in the indicator's "
                         "unit; outcomes marked (gap) have no routine data source yet and are reported only."),
    "cos_star": "The co-design annex answers each item of the COS-STAR reporting standard, as listed here.",
    "votes": "Each group's score (0 to 1) and number of people in the round each outcome came from.",
    "signatures": "Signed for and on behalf of each party, to confirm this schedule as part of the contract.",
}


@dataclass(frozen=True)
class Appendix:
    title: str
    subtitle: str
    document_title: str
    author: str
    frozen_at: str
    footer: str
    contract: Pairs  # commissioner, provider, contract reference: those given
    about: list[str]
    payment_terms: Pairs
    payment_years: Grid
    payment_outcomes: Grid
    rounding: str
    excluded_intro: str
    excluded: Grid | None
    annex: Annex
    # The three parts: the schedule (summary and one specification per indicator), the co-design
    # annex (`annex`) and the sign-off.
    schedule_summary: Grid
    specs: list[IndicatorSpec]
    sign_off: SignOff


CONTRACT_LABELS = (("commissioner", "Commissioner"), ("provider", "Provider"), ("reference", "Contract reference"))


def footer_text(snapshot: Mapping[str, Any], sha256: str) -> str:
    return f"Appendix A · version {snapshot['framework']['version']} · SHA-256 {sha256}"


def build(snapshot: Mapping[str, Any], sha256: str) -> Appendix:
    fw = snapshot["framework"]
    years = L.year_labels(snapshot)
    subtitle = f"{fw['population_group']['name']} · Version {fw['version']}"
    if fw.get("previous_version") is not None:
        subtitle += f" (replaces version {fw['previous_version']})"
    return Appendix(
        title=TITLE,
        subtitle=subtitle,
        document_title=fw.get("title") or f"{TITLE}: {fw['population_group']['name']}",
        author=(fw.get("frozen_by") or {}).get("name", ""),
        frozen_at=fw.get("frozen_at") or "",
        footer=footer_text(snapshot, sha256),
        contract=contract_parties(snapshot),
        about=_about(snapshot),
        payment_terms=_payment_terms(snapshot),
        payment_years=_payment_years(snapshot),
        payment_outcomes=_payment_outcomes(snapshot),
        rounding=snapshot["payment"].get("rounding", ""),
        excluded_intro=_excluded_intro(snapshot),
        excluded=_excluded(snapshot),
        annex=build_annex(snapshot),
        schedule_summary=_schedule.summary(snapshot, years),
        specs=[_schedule.spec(snapshot, o, years) for o in snapshot["outcomes"]],
        sign_off=build_sign_off(snapshot),
    )


def contract_parties(snapshot: Mapping[str, Any]) -> Pairs:
    """The contract this appendix belongs to, as far as it was given (versions frozen before the
    parties were recorded have none)."""
    given = snapshot["framework"].get("contract") or {}
    return [(label, given[key]) for key, label in CONTRACT_LABELS if given.get(key)]


def _about(snapshot: Mapping[str, Any]) -> list[str]:
    fw, summary = snapshot["framework"], snapshot.get("summary", {})
    pop = fw["population_group"]
    rounds = snapshot.get("methods", {}).get("rounds", [])
    names: list[str] = []
    for rnd in rounds:
        names += [n.lower() for n in rnd.get("participants", {}) if n.lower() not in names]
    groups = L.words_list(names) if names else "patients, carers, clinicians and commissioners"
    described = f": {pop['description'].rstrip('.')}." if pop.get("description") else "."
    who = fw.get("frozen_by") or {}
    by = who.get("name", "") + (f" ({who['role']})" if who.get("role") else "")
    count, gaps = summary.get("outcome_count", len(snapshot["outcomes"])), summary.get("measurability_gaps", 0)
    paras = [
        f"This appendix sets out the outcomes on which the provider will be measured and paid for "
        f"{pop['name']}{described}",
        f"The outcomes were co-designed by {groups}. People proposed outcomes in facilitated workshops; each "
        f"stakeholder group then voted on them in {len(rounds)} round{'s' if len(rounds) != 1 else ''}, and every "
        "group's result is reported side by side. The consensus rule was declared before voting. The commissioner "
        "then agreed how each outcome will be measured and what share of the payment it carries. The methods "
        "annex records who took part, the rules used and every decision that departed from the computed result.",
        f"This is version {fw['version']}, frozen on {L.when(fw.get('frozen_at'))} by {by or 'the commissioner'}. "
        "A frozen version is never edited: any change makes a new version."
        + (f" It replaces version {fw['previous_version']}." if fw.get("previous_version") is not None else ""),
        "The SHA-256 fingerprint in the footer of every page is computed from the frozen data (published as the "
        "JSON export); recomputing it confirms that this appendix describes exactly that version.",
        f"The framework has {count} outcome{'s' if count != 1 else ''}; {gaps} of them "
        f"{'has' if gaps == 1 else 'have'} a measurability gap (no routine data source yet: reported only, "
        "weight 0%).",
    ]
    if pop.get("attribution"):
        paras.append(f"Sources: {pop['attribution']}")
    return paras


def _weight(outcome: Mapping[str, Any]) -> str:
    pct = L.percent_bp(int(outcome["payment_weight_bp"]))
    return f"{pct} (gap)" if outcome.get("measurability_gap") else pct


def _payment_terms(snapshot: Mapping[str, Any]) -> Pairs:
    pay = snapshot["payment"]
    return [("Annual contract value", L.money(int(pay["contract_value_pence"]))),
            ("Payment mechanism", L.label(L.MECHANISMS, pay.get("mechanism"))),
            ("Money at stake over the contract", L.money(int(pay.get("total_at_stake_pence", 0))))]


def _payment_years(snapshot: Mapping[str, Any]) -> Grid:
    rows = [(y["label"], L.percent_bp(int(y["outcome_share_bp"])),
             "Yes: reported only, no money" if y.get("shadow") else "No",
             L.money(int(y["at_stake_pence"]))) for y in snapshot["payment"]["years"]]
    return Grid(header=("Contract year", "Share of contract value linked to outcomes", "Shadow year",
                        "Money at stake"), rows=rows, widths=(18, 32, 26, 24), numeric=frozenset({1, 3}))


def _payment_outcomes(snapshot: Mapping[str, Any]) -> Grid:
    years = [y["label"] for y in snapshot["payment"]["years"]]
    rows = []
    for o in snapshot["outcomes"]:
        money = L.money_by_year(o)
        rows.append((str(o["rank"]), o["statement"], _weight(o), *[L.money(money.get(y, 0)) for y in years]))
    totals = {y["label"]: int(y["at_stake_pence"]) for y in snapshot["payment"]["years"]}
    rows.append(("", "All outcomes", L.percent_bp(sum(int(o["payment_weight_bp"]) for o in snapshot["outcomes"])),
                 *[L.money(totals[y]) for y in years]))
    year_width = max(12, 45 // max(len(years), 1))
    return Grid(header=("Rank", "Outcome", "Weight", *years), rows=rows,
                widths=(7, max(100 - 7 - 11 - year_width * len(years), 20), 11, *[year_width] * len(years)),
                numeric=frozenset({0, 2, *range(3, 3 + len(years))}))


def _excluded_intro(snapshot: Mapping[str, Any]) -> str:
    if not snapshot.get("excluded"):
        return "No outcome that reached consensus was left out."
    return "These outcomes reached consensus in the vote but were left out of the framework, for the reason given."


def _excluded(snapshot: Mapping[str, Any]) -> Grid | None:
    rows = [(e["statement"], L.computed_result(e.get("computed")), L.text(e.get("reason")))
            for e in snapshot.get("excluded", [])]
    return Grid(header=("Outcome", "Computed result", "Reason for leaving it out"), rows=rows,
                widths=(35, 25, 40)) if rows else None
