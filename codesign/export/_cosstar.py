"""The 18 COS-STAR reporting items (Core Outcome Set-STAndards for Reporting: Kirkham JJ et al.,
PLoS Med 2016;13(10):e1002148), and where the co-design annex answers each.

Numbers and topics are the statement's; the wording is a close paraphrase of each checklist item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign.export import _labels as L
from codesign.export._model import Grid

CITATION = ("Kirkham JJ, Gorst S, Altman DG, et al. Core Outcome Set-STAndards for Reporting: the COS-STAR "
            "Statement. PLoS Med 2016;13(10):e1002148.")

# (item number, topic, what the item asks). Items 1 to 18, some in parts (1a, 1b...).
ITEMS: tuple[tuple[str, str, str], ...] = (
    ("1a", "Title", "Say in the title that the document reports the development of a core outcome set"),
    ("1b", "Abstract", "Give a structured summary"),
    ("2a", "Background and objectives", "Describe the background and the rationale for developing the set"),
    ("2b", "Background and objectives", "Describe the specific objectives of developing the set"),
    ("3a", "Scope", "Describe the health condition(s) and population(s) covered"),
    ("3b", "Scope", "Describe the intervention(s) covered"),
    ("3c", "Scope", "Describe the setting(s) in which the set is to be applied"),
    ("4", "Protocol/registry entry", "Say where the development protocol can be read, and/or its registration"),
    ("5", "Participants", "Describe why each stakeholder group took part, who was eligible in each group, "
                          "and how the individuals were identified"),
    ("6a", "Information sources", "Describe the sources used to draw up the initial list of outcomes"),
    ("6b", "Information sources", "Describe how outcomes were dropped or combined, with reasons"),
    ("7", "Consensus process", "Describe how the consensus process was carried out"),
    ("8", "Outcome scoring", "Describe how outcomes were scored and how the scores were summarised"),
    ("9a", "Consensus definition", "Describe the consensus definition"),
    ("9b", "Consensus definition", "Describe how outcomes were included in or excluded from consideration "
                                   "during the consensus process"),
    ("10", "Ethics and consent", "State the ethics and consent arrangements"),
    ("11", "Protocol deviations", "Describe any changes from the protocol, with reasons and their effect"),
    ("12", "Participants", "Give the number and relevant characteristics of the people involved at every stage"),
    ("13a", "Outcomes", "List every outcome considered at the start of the consensus process"),
    ("13b", "Outcomes", "Describe any outcomes added or dropped during the process, with reasons"),
    ("14", "Core outcome set", "List the outcomes in the final set"),
    ("15", "Limitations", "Discuss the limitations of the development process"),
    ("16", "Conclusions", "Interpret the final set in the light of other evidence, with implications"),
    ("17", "Funding", "Describe the sources of funding and the role of the funders"),
    ("18", "Conflicts of interest", "Describe conflicts of interest in the team and how they were managed"),
)
NUMBERS = tuple(str(n) for n in range(1, 19))  # the 18 items


def _given(report: Mapping[str, Any], key: str) -> str:
    return str(report.get(key) or "").strip() or "Not recorded for this version"


def where(snapshot: Mapping[str, Any]) -> Grid:
    """One row per item: number, topic, and the answer or the annex section that gives it."""
    fw = snapshot["framework"]
    report = fw.get("report") or {}
    pop = fw["population_group"]
    rounds = snapshot.get("methods", {}).get("rounds", [])
    answers = {
        "1a": f"Title of this document: {fw.get('title') or 'Appendix A: Outcomes framework'}",
        "1b": "\u201cAbout this appendix\u201d at the start of the schedule",
        "2a": "\u201cAbout this appendix\u201d: outcomes co-designed to be measured and paid for in the contract",
        "2b": "To agree the outcomes, their measurement and their share of the payment (the schedule)",
        "3a": f"{pop['name']}" + (f": {pop['description']}" if pop.get("description") else ""),
        "3b": "The services under the contract named in the schedule",
        "3c": "An NHS outcomes-based contract (this schedule)",
        "4": _given(report, "protocol_reference"),
        "5": "\u201cParticipants and recruitment\u201d below",
        "6a": "\u201cOutcomes considered\u201d: where each outcome came from (participants, facilitator, library)",
        "6b": "\u201cOutcomes considered\u201d: merged, withdrawn and reworded outcomes, with reasons",
        "7": f"\u201cRounds\u201d: {len(rounds)} voting round{'s' if len(rounds) != 1 else ''}, groups side by side",
        "8": "\u201cRounds\u201d (scoring) and \u201cAgreement\u201d (Kendall's W)",
        "9a": "\u201cConsensus rule, declared before voting\u201d",
        "9b": "\u201cOutcomes considered\u201d and \u201cDepartures from the computed result\u201d",
        "10": _given(report, "ethics_consent"),
        "11": "\u201cDepartures from the computed result\u201d (decisions against the declared rule, with reasons)",
        "12": "\u201cPeople taking part at each stage\u201d (groups under the minimum size not reported)",
        "13a": "\u201cOutcomes considered\u201d: every outcome proposed, with its fate",
        "13b": "\u201cOutcomes considered\u201d and \u201cDepartures from the computed result\u201d",
        "14": f"The schedule's summary table ({len(snapshot.get('outcomes', []))} outcomes)",
        "15": _given(report, "limitations"),
        "16": "The schedule: each indicator's rationale and specification",
        "17": _given(report, "funding"),
        "18": "\u201cDeclared conflicts of interest\u201d by stakeholder group",
    }
    rows = [(f"{number}. {topic}", wording, L.printable(answers[number])) for number, topic, wording in ITEMS]
    return Grid(header=("COS-STAR item", "What it asks", "Where this annex reports it"), rows=rows,
                widths=(22, 38, 40))
