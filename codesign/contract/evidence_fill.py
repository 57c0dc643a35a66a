"""A measurement definition's baseline, comparator and suggested targets from indicator data.

Pure: takes the indicator data document a definition links to (the comparison as
`codesign.queries.definition_evidence` builds it and a frozen snapshot keeps it) and gives the
definition's fields as text, as a commissioner would type them. Nothing here writes.

Suggested targets follow RightCare's "opportunity": reach the best-5 peer mean by the final
contract year, in equal steps from the baseline (linear in between). They are a suggestion, shown
and applied only when the user chooses, and stay editable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ILLUSTRATIVE = "ILLUSTRATIVE values, not real statistics"
PLACES = 1  # Fingertips shows values to one decimal place; more only when one is too coarse for the steps
BEST_FIVE = 5
MAX_COMPARATOR = 2000  # the definition's text limit (definition.MAX_TEXT)


def rounded(value: float | Decimal, places: int = PLACES) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def area_label(name: str, code: str) -> str:
    return f"{name} ({code})" if name and name != code else code


def source_text(evidence: Mapping[str, Any]) -> str:
    """Where the baseline comes from: the indicator, the area, the file and when it was imported."""
    name = evidence.get("indicator_name") or evidence["indicator"]
    when = str(evidence.get("imported_at") or "")[:10]
    area = area_label(evidence.get("area_name", ""), evidence["area"])
    text = (f"{name} (indicator {evidence['indicator']}), {area}, "
            f"{evidence.get('period', '')}; from {evidence.get('source') or 'an imported file'}"
            + (f" imported on {when}" if when else ""))
    return text + (f". {ILLUSTRATIVE}" if evidence.get("illustrative") else "")


def comparator_text(evidence: Mapping[str, Any]) -> str:
    """The comparator, naming the actual peer areas, then the peer and best-5 means and England."""
    peers = evidence.get("peers") or []

    def listed(with_names: bool) -> str:
        return ", ".join(area_label(p.get("area_name", "") if with_names else "", p["area"]) for p in peers)

    figures = [f"peer mean {_figure(evidence.get('peer_mean'))}",
               f"best-5 mean {_figure(evidence.get('best5_mean'))} ({', '.join(evidence.get('best5') or [])})"]
    if evidence.get("national") is not None:
        figures.append(f"England {_figure(evidence['national'])}")
    tail = f"; {', '.join(figures)}, {evidence.get('period', '')}" + (f". {ILLUSTRATIVE}"
                                                                       if evidence.get("illustrative") else "")
    text = f"{len(peers)} similar areas: {listed(True)}{tail}"
    if len(text) > MAX_COMPARATOR:  # very long area names: the codes still name every peer
        text = f"{len(peers)} similar areas: {listed(False)}{tail}"
    return text[:MAX_COMPARATOR]


_YEAR = re.compile(r"[0-9]{4}(/[0-9]{2}|/[0-9]{4}|-[0-9]{2})?")  # "2024", "2024/25": a period a year long


def value_places(evidence: Mapping[str, Any]) -> int:
    """Decimal places for a table of the peers' values: one, as Fingertips shows them, or two when
    at one the fifth and sixth best would look tied (and best-5 membership arbitrary)."""
    best = evidence.get("best5") or []
    if len(best) < BEST_FIVE:
        return PLACES
    values = {p["area"]: p.get("value") for p in evidence.get("peers") or []}
    fifth = values.get(best[-1])
    others = [v for code, v in values.items() if v is not None and code not in best]
    if fifth is None or not others:
        return PLACES
    sixth = max(others) if evidence.get("direction") == "higher" else min(others)
    tied = rounded(fifth) == rounded(sixth) and float(fifth) != float(sixth)
    return PLACES + 1 if tied else PLACES


def opportunity_words(evidence: Mapping[str, Any]) -> str:
    """What the opportunity counts: people for a percentage (each is a person who would meet it),
    events for a rate; more or fewer by the direction; "a year" only when the period is a year."""
    what = "people" if float(evidence.get("multiplier") or 0) == 100 else "events"
    more = "more" if evidence.get("direction") == "higher" else "fewer"
    return f"{more} {what}" + (" a year" if _YEAR.fullmatch(str(evidence.get("period", ""))) else "")


def opportunity_text(evidence: Mapping[str, Any]) -> str:
    """"8,008 more people a year if the area matched the best-5 mean", or why there is none."""
    value = evidence.get("opportunity")
    if value is None:
        return ("Not available: this area has no similar areas set" if not evidence.get("peers")
                else "Not available (no denominator or unit)")
    if round(float(value)) == 0:
        return "None: the area is already at or better than the best-5 mean"
    return f"{float(value):,.0f} {opportunity_words(evidence)} if the area matched the best-5 mean"


def _figure(value: object) -> str:
    return "not available" if value is None else f"{rounded(float(str(value)))}"


def baseline_fields(evidence: Mapping[str, Any]) -> dict[str, str]:
    """The baseline value, period and source and the comparator, from the data. An area with no
    similar areas set gets no comparator text: "0 similar areas: ; peer mean not available" says
    nothing a contract can hold anyone to."""
    if evidence.get("value") is None:
        raise ValueError("no value for the area in that period")
    fields = {"baseline_value": str(rounded(evidence["value"])), "baseline_period": str(evidence.get("period", "")),
              "baseline_source": source_text(evidence)}
    if evidence.get("peers"):
        fields["comparator"] = comparator_text(evidence)
    return fields


def baseline_mismatch(definition: Mapping[str, Any], evidence: Mapping[str, Any]) -> list[str]:
    """How a saved baseline differs from the linked data's (value, period, source), in words; [] when
    it matches, when no baseline value is saved, or when the data have no value. The value matches
    when the data's, rounded to the places typed (at least one), equals it."""
    saved = str(definition.get("baseline_value") or "").strip()
    if not saved or not evidence.get("available") or evidence.get("value") is None:
        return []
    try:
        typed = Decimal(saved)
    except ArithmeticError:
        return []
    places = max(PLACES, -int(typed.as_tuple().exponent))
    data = rounded(float(evidence["value"]), places)
    out = []
    if data != typed:
        out.append(f"the value is {saved}, the data's is {data}")
    period = str(evidence.get("period", ""))
    if str(definition.get("baseline_period") or "").strip() != period:
        out.append(f"the period is {str(definition.get('baseline_period') or '').strip() or 'not set'}, "
                   f"the data's is {period}")
    if str(definition.get("baseline_source") or "").strip() != source_text(evidence):
        out.append(f"the source is not the linked data ({source_text(evidence)})")
    return out


def peer_coverage(evidence: Mapping[str, Any]) -> str | None:
    """"8 of 10 similar areas have a figure for 2024/25; no figure for: ..." when some peers have
    no figure for the period compared (the peer mean and the best five are from the rest), else None."""
    peers = evidence.get("peers") or []
    missing = [area_label(str(p.get("area_name") or ""), p["area"]) for p in peers if p.get("value") is None]
    if not missing:
        return None
    period = evidence.get("period", "")
    have = len(peers) - len(missing)
    return (f"{have} of {len(peers)} similar areas {'has' if have == 1 else 'have'} a figure for {period}; "
            f"no figure for {', '.join(missing)}. The peer mean and the best five are from the {have} that have one")


def suggest_targets(evidence: Mapping[str, Any], years: Sequence[str]) -> list[str] | None:
    """One target per contract year, from the baseline to the best-5 mean in equal steps (the final
    year reaches it), or None when there is nothing to suggest: no best-5 mean, or the area is
    already at or beyond it (the opportunity is 0). Rounded to one decimal place, or more where a
    step would otherwise round back to the baseline (a linear payment needs a target that differs)."""
    value, goal, direction = evidence.get("value"), evidence.get("best5_mean"), evidence.get("direction")
    if value is None or goal is None or not years or direction not in ("higher", "lower"):
        return None
    for places in (PLACES, PLACES + 1, PLACES + 2):
        base, end = rounded(value, places), rounded(goal, places)
        if (end <= base) if direction == "higher" else (end >= base):
            return None
        n = len(years)
        steps = [rounded(base + (end - base) * (i + 1) / n, places) for i in range(n)]
        if all(s != base for s in steps):
            return [str(s) for s in steps]
    return None
