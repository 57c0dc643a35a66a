"""The frozen framework as an HL7 FHIR R4 Bundle of Measure resources (JSON).

A `collection` Bundle holds one Measure per outcome in the framework and one composite Measure
that weights them by their payment weights. It is a pure function of the snapshot
(docs/framework-snapshot.md), its SHA-256 and a canonical base: no clock, no database, so the
bundle stored at freeze and one made later by `codesign export` are the same bytes.

Canonical URLs. With a base (CODESIGN_FHIR_BASE, else CODESIGN_PUBLIC_URL + "/fhir"; see
`Settings.fhir_base_url`) a Measure's url is ``{base}/Measure/{id}``, the RESTful form a FHIR
server would serve it at. Without one there is no address we could honestly claim, so every
canonical is a name-based ``urn:uuid:`` (UUID 5 of the commissioner, population group and what it
names): stable across versions and machines, never a link that does not resolve. Either way a
Measure's url stays the same from one framework version to the next; `version` tells them apart,
and the composite pins each component to its version (``url|version``).

Traceability: the snapshot's SHA-256 is the Bundle's id and identifier, and a meta tag on every
Measure, so a Measure lifted out of the bundle still names the frozen version it came from.

Codes (HL7 terminology, http://terminology.hl7.org): measure-scoring, measure-improvement-notation,
measure-population, composite-measure-scoring, measure-type. `composite` is in the measure-scoring
code system as HL7 Terminology publishes it (4.0.0), though not in the copy bundled with R4 4.0.1;
Measure.scoring's binding is extensible, so R4 allows it (it is how the quality-measure IGs mark
a composite).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, BinaryIO

from codesign.export import _labels as L
from codesign.export import _schedule

THO = "http://terminology.hl7.org/CodeSystem"
SCORING_SYSTEM = f"{THO}/measure-scoring"
IMPROVEMENT_SYSTEM = f"{THO}/measure-improvement-notation"
POPULATION_SYSTEM = f"{THO}/measure-population"
COMPOSITE_SCORING_SYSTEM = f"{THO}/composite-measure-scoring"
MEASURE_TYPE_SYSTEM = f"{THO}/measure-type"
# The weight of a component in a weighted composite: a decimal on RelatedArtifact. Two IGs define
# it with the same meaning and type (checked on their published StructureDefinition pages):
# - HL7 International "Quality Measure IG" (uv/cqm, STU1 1.0.0, R4): cqm-weight, value[x] decimal;
# - HL7 US "Quality Measure IG" (CQF Measures, us/cqfmeasures STU3-STU5, R4): cqfm-weight,
#   value[x] decimal, context RelatedArtifact.
# We carry both, with the same value: the first is the realm-neutral one an NHS reader would look
# for, the second the one today's measure tooling (built on the US IG) reads.
WEIGHT_EXTENSIONS = ("http://hl7.org/fhir/uv/cqm/StructureDefinition/cqm-weight",
                     "http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-weight")
URN_NAMESPACE = uuid.UUID("6f1b7c1e-3d0a-5b8e-9c44-1f6a2d7e8b90")  # codesign's own UUID 5 namespace

# Unit -> measure scoring (the mapping: a share or a rate is a proportion; a count, a mean
# score or a number of days is a quantity per person, a continuous variable).
SCORING = {"percent": "proportion", "rate_per_1000": "proportion", "rate_per_100000": "proportion",
           "count": "continuous-variable", "mean_score": "continuous-variable", "days": "continuous-variable"}
SCORING_DISPLAY = {"proportion": "Proportion", "continuous-variable": "Continuous Variable",
                   "composite": "Composite"}
IMPROVEMENT = {"higher": ("increase", "Increased score indicates improvement"),
               "lower": ("decrease", "Decreased score indicates improvement")}
MEASURE_TYPES = {"outcome": ("outcome", "Outcome"), "process": ("process", "Process"),
                 "PROM": ("patient-reported-outcome", "Patient Reported Outcome")}  # PREM: no R4 code
POPULATION_DISPLAY = {"initial-population": "Initial Population", "numerator": "Numerator",
                      "denominator": "Denominator", "measure-population": "Measure Population",
                      "measure-observation": "Measure Observation"}
NOT_SPECIFIED = "Not specified in the frozen definition"
_FY = re.compile(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|])")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def indicator_code(outcome: Mapping[str, Any]) -> str:
    """The outcome's indicator code: the definition's `indicator_code` when it has one, else
    OUT-<rank> (OUT-01, OUT-02...), which is stable for a frozen version because ranks are."""
    return _schedule.code(outcome).strip()


def write_fhir(snapshot: Mapping[str, Any], sha256: str, stream: BinaryIO, *, fhir_base: str = "") -> None:
    """Write the Bundle as pretty-printed UTF-8 JSON (application/fhir+json) to `stream`."""
    L.check_sha256(snapshot, sha256)
    text = json.dumps(bundle(snapshot, sha256, fhir_base), indent=2, ensure_ascii=False, allow_nan=False)
    stream.write(text.encode("utf-8") + b"\n")


def bundle(snapshot: Mapping[str, Any], sha256: str, fhir_base: str = "") -> dict[str, Any]:
    """The Bundle as a JSON-ready dict: one Measure per outcome, then the composite."""
    names = _Names(snapshot, fhir_base.strip().rstrip("/"))
    measures = [_measure(snapshot, sha256, names, o) for o in snapshot["outcomes"]]
    measures.append(_composite(snapshot, sha256, names, measures))
    return {
        "resourceType": "Bundle",
        "id": sha256,  # 64 hex digits: a valid FHIR id, and the version's fingerprint
        "meta": {"tag": [_sha_tag(sha256, names)]},
        "identifier": {"system": names.uri("framework-snapshot-sha256"), "value": sha256},
        "type": "collection",
        "timestamp": snapshot["framework"]["frozen_at"],
        "entry": [{"fullUrl": m["url"], "resource": m} for m in measures],
    }


class _Names:
    """Ids and canonical URIs for one framework (see the module docstring)."""

    def __init__(self, snapshot: Mapping[str, Any], base: str) -> None:
        framework = snapshot["framework"]
        self.base = base
        self.slug = L.slug(str(framework["population_group"]["name"]), limit=40)
        self.seed = f"{_commissioner(snapshot)}|{framework['population_group']['name']}"
        self.taken: set[str] = set()

    def uri(self, path: str) -> str:
        if self.base:
            return f"{self.base}/{path}"
        return f"urn:uuid:{uuid.uuid5(URN_NAMESPACE, f'{self.seed}|{path}')}"

    def measure_id(self, code: str, rank: int) -> str:
        """`<group slug>-<code>`, at most 64 characters (FHIR ids); should two codes come out the
        same ("A_1", "a-1"), the later one gets its rank added, as fullUrls must differ in a Bundle."""
        rid = f"{self.slug}-{_ID_UNSAFE.sub('-', code).strip('-').lower() or 'measure'}"[:64]
        if rid in self.taken:
            rid = f"{rid[:58]}-r{rank}"
        self.taken.add(rid)
        return rid


def _measure(snapshot: Mapping[str, Any], sha256: str, names: _Names, outcome: Mapping[str, Any]) -> dict[str, Any]:
    d = outcome["definition"]
    code = indicator_code(outcome)
    scoring = SCORING.get(str(d.get("unit", "")), "proportion")
    rid = names.measure_id(code, int(outcome["rank"]))
    measure: dict[str, Any] = {
        "resourceType": "Measure",
        "id": rid,
        "meta": {"tag": [_sha_tag(sha256, names)]},
        "url": names.uri(f"Measure/{rid}"),
        "identifier": [{"use": "official", "system": names.uri(f"indicator-code/{names.slug}"), "value": code}],
        **_common(snapshot),
        "name": _computable_name(code),
        "title": _plain(d.get("indicator_name")) or _plain(outcome["statement"]),
        "description": _description(outcome),
        "scoring": _concept(SCORING_SYSTEM, scoring, SCORING_DISPLAY[scoring]),
    }
    if kind := MEASURE_TYPES.get(str(d.get("indicator_type", ""))):
        measure["type"] = [_concept(MEASURE_TYPE_SYSTEM, *kind)]
    if improvement := IMPROVEMENT.get(str(d.get("direction", ""))):
        measure["improvementNotation"] = _concept(IMPROVEMENT_SYSTEM, *improvement)
    measure["guidance"] = _guidance(outcome)
    measure["group"] = [{"population": _populations(scoring, d)}]
    return _without_empty(measure)


def _populations(scoring: str, d: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Proportion: initial population (the cohort), denominator, numerator. Continuous variable:
    initial population, measure population (who is measured: the denominator's words) and the
    measure observation (what is measured of each: the numerator's words), as FHIR R4 defines
    the two scorings. The criteria are the frozen definition's words (text/plain): codesign holds
    no CQL, and saying so beats pointing at a library that does not exist."""
    cohort = _plain(d.get("population")) or NOT_SPECIFIED
    numerator = _plain(d.get("numerator")) or NOT_SPECIFIED
    denominator = _plain(d.get("denominator")) or NOT_SPECIFIED
    if scoring == "continuous-variable":
        parts = [("initial-population", cohort), ("measure-population", denominator),
                 ("measure-observation", numerator)]
    else:
        parts = [("initial-population", cohort), ("denominator", denominator), ("numerator", numerator)]
    return [{"code": _concept(POPULATION_SYSTEM, key, POPULATION_DISPLAY[key]), "description": words,
             "criteria": {"language": "text/plain", "expression": words}} for key, words in parts]


def _composite(snapshot: Mapping[str, Any], sha256: str, names: _Names,
               measures: list[dict[str, Any]]) -> dict[str, Any]:
    framework = snapshot["framework"]
    rid = f"{names.slug}-composite"
    components = []
    for outcome, m in zip(snapshot["outcomes"], measures, strict=True):
        weight = _weight(int(outcome.get("payment_weight_bp", 0)))
        components.append({
            "extension": [{"url": url, "valueDecimal": weight} for url in WEIGHT_EXTENSIONS],
            "type": "composed-of",
            "display": f"{m['identifier'][0]['value']}: {m['title']}",
            "resource": f"{m['url']}|{m['version']}",
        })
    group = framework["population_group"]
    description = (f"All {len(measures)} outcomes of the framework for {_md(_plain(group['name']))}, "
                   "each weighted by its share of the outcome-linked payment (weights add up to 1). "
                   f"{_md(_plain(group.get('description')))}")
    return _without_empty({
        "resourceType": "Measure",
        "id": rid,
        "meta": {"tag": [_sha_tag(sha256, names)]},
        "url": names.uri(f"Measure/{rid}"),
        "identifier": _contract_identifier(snapshot, names),
        **_common(snapshot),
        "name": "OutcomesFramework",
        "title": _plain(framework.get("title")) or f"Outcomes framework: {_plain(group['name'])}",
        "description": description.strip(),
        "type": [_concept(MEASURE_TYPE_SYSTEM, "composite", "Composite")],
        "scoring": _concept(SCORING_SYSTEM, "composite", SCORING_DISPLAY["composite"]),
        "compositeScoring": _concept(COMPOSITE_SCORING_SYSTEM, "weighted", "Weighted"),
        "relatedArtifact": components,
    })


def _common(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """What every Measure of the framework shares: version, status, dates, publisher, period."""
    framework = snapshot["framework"]
    commissioner = _commissioner(snapshot)
    return {
        "version": str(int(framework["version"])),
        "status": "active",  # the snapshot exists only for a frozen version
        "experimental": False,
        "date": framework["frozen_at"],
        "publisher": commissioner,
        "author": [{"name": commissioner}] if commissioner else [],
        "effectivePeriod": effective_period(snapshot),
    }


def effective_period(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """From the start of the first contract year to the end of the last, shadow years included.

    Years are NHS financial years labelled like "2026/27" (1 April 2026 to 31 March 2027); a label
    that is not one (it is free text) is left out, and with none readable there is no period."""
    starts = []
    for year in snapshot.get("payment", {}).get("years", []):
        if match := _FY.fullmatch(str(year.get("label", "")).strip()):
            first, second = int(match.group(1)), match.group(2)
            if int(second) % 100 == (first + 1) % 100 and (len(second) == 2 or int(second) == first + 1):
                starts.append(first)
    if not starts:
        return {}
    return {"start": f"{min(starts)}-04-01", "end": f"{max(starts) + 1}-03-31"}


def _guidance(outcome: Mapping[str, Any]) -> str:
    """The contract terms a measure reader needs beside the computation, in words."""
    d = outcome["definition"]
    unit = str(d.get("unit", ""))
    lines = [f"Unit: {L.label(L.UNIT_NAMES, unit)}. {L.label(L.DIRECTIONS, d.get('direction'))}."]
    if _plain(d.get("baseline_value")):
        lines.append(f"Baseline: {_md(L.measure(str(d['baseline_value']), unit))} "
                     f"({_md(L.text(d.get('baseline_period')))}; {_md(L.text(d.get('baseline_source')))}).")
    targets = [f"{_md(str(t['year']))}: {_md(L.measure(str(t.get('value', '')), unit))}"
               for t in d.get("targets", []) if str(t.get("value", "")).strip()]
    if targets:
        lines.append(f"Targets: {'; '.join(targets)}.")
    if outcome.get("measurability_gap"):
        lines.append("Measurability gap: no routine data source yet; reported only, payment weight 0%.")
    else:
        lines.append(f"Payment weight: {L.percent_bp(int(outcome.get('payment_weight_bp', 0)))} "
                     "of each year's outcome-linked sum.")
    if _plain(d.get("data_source")):
        lines.append(f"Data source: {_md(_plain(d['data_source']))}.")
    return "\n\n".join(lines)


def _description(outcome: Mapping[str, Any]) -> str:
    """The outcome in the words voted on, then its description (markdown, user text escaped)."""
    parts = [f"Outcome as voted: {_md(_plain(outcome['statement']))}", _md(_plain(outcome.get("description")))]
    return "\n\n".join(p for p in parts if p)


def _contract_identifier(snapshot: Mapping[str, Any], names: _Names) -> list[dict[str, Any]]:
    reference = _plain(snapshot["framework"].get("contract", {}).get("reference"))
    return [{"use": "official", "system": names.uri("contract-reference"), "value": reference}] if reference else []


def _sha_tag(sha256: str, names: _Names) -> dict[str, str]:
    return {"system": names.uri("framework-snapshot-sha256"), "code": sha256,
            "display": "SHA-256 of the frozen framework snapshot"}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _weight(bp: int) -> float:
    """Basis points as a fraction of 1 (2500 -> 0.25); exact to the 4 decimals basis points have."""
    return round(bp / 10000, 4)


def _computable_name(code: str) -> str:
    """A name a machine can use (FHIR's mea-0: starts with a capital, then letters, digits, _)."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", code).strip("_")
    name = name[:1].upper() + name[1:]
    return name if re.match(r"[A-Z]", name) else f"Measure_{name}".rstrip("_")


def _commissioner(snapshot: Mapping[str, Any]) -> str:
    return _plain(snapshot["framework"].get("contract", {}).get("commissioner"))


def _plain(value: object) -> str:
    """A string field, whitespace-trimmed; "" for a missing one (never the text "None")."""
    return "" if value is None else L.printable(str(value)).strip()


def _md(value: str) -> str:
    """People's words inside a markdown field: escape what markdown would read as markup or HTML."""
    return _MARKDOWN.sub(r"\\\1", value)


def _without_empty(resource: dict[str, Any]) -> dict[str, Any]:
    """FHIR allows no empty strings, lists or objects: leave such elements out."""
    return {k: v for k, v in resource.items() if v not in ("", [], {}, None)}
