"""The FHIR R4 Measure bundle (codesign/export/fhir.py): each field against the snapshot it came from,
and a round trip through the `fhir.resources` models (R4B: see the README on why not R5)."""

from __future__ import annotations

import copy
import io
import json
import re
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measure import Measure

from codesign.export import FORMATS, export, filename
from codesign.export.fhir import WEIGHT_EXTENSIONS, bundle, effective_period, indicator_code, write_fhir
from tests.export.snapshots import example, large, with_hash

THO = "http://terminology.hl7.org/CodeSystem"
BASE = "https://fhir.example.nhs.uk/fhir"


def demo() -> dict[str, Any]:
    """Like the demo's frozen version: a rate (proportion, lower is better), a percentage
    (proportion, higher is better) and a mean score (continuous variable) made lower-is-better
    days here, so both scorings meet both directions."""
    snapshot = example()
    third = snapshot["outcomes"][2]["definition"]
    third.update(unit="days", direction="lower", numerator="Days spent in hospital in the year",
                 denominator="Adults with diabetes registered all year")
    for outcome in snapshot["outcomes"]:  # as a version frozen before indicator codes: OUT-<rank>
        outcome["definition"].pop("indicator_code", None)
    return snapshot


def make(snapshot: dict[str, Any] | None = None, base: str = "") -> tuple[dict[str, Any], dict[str, Any], str]:
    snapshot, sha = with_hash(snapshot or demo())
    buf = io.BytesIO()
    export(snapshot, sha, "fhir", buf, fhir_base=base)
    return snapshot, json.loads(buf.getvalue()), sha


def measures(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in doc["entry"]]


def coding(concept: dict[str, Any]) -> tuple[str, str]:
    [c] = concept["coding"]
    return c["system"], c["code"]


def populations(m: dict[str, Any]) -> list[tuple[str, str]]:
    [group] = m["group"]
    return [(coding(p["code"])[1], p["description"]) for p in group["population"]]


def test_a_collection_bundle_of_one_measure_per_outcome_and_a_composite() -> None:
    snapshot, doc, _ = make()
    assert doc["resourceType"] == "Bundle" and doc["type"] == "collection"
    assert doc["timestamp"] == snapshot["framework"]["frozen_at"]
    found = measures(doc)
    assert [m["resourceType"] for m in found] == ["Measure"] * (len(snapshot["outcomes"]) + 1)
    assert [m["identifier"][0]["value"] for m in found[:-1]] == ["OUT-01", "OUT-02", "OUT-03"]
    coded = measures(make(example())[1])  # the schedule's codes, where the definitions have them
    assert [m["identifier"][0]["value"] for m in coded[:-1]] == [
        o["definition"]["indicator_code"] for o in example()["outcomes"]]
    assert [e["fullUrl"] for e in doc["entry"]] == [m["url"] for m in found]
    assert len({m["url"] for m in found}) == len(found) and len({m["id"] for m in found}) == len(found)


def test_scoring_improvement_and_populations_follow_unit_and_direction() -> None:
    snapshot, doc, _ = make()
    rate, share, days, _composite = measures(doc)
    d = [o["definition"] for o in snapshot["outcomes"]]
    assert coding(rate["scoring"]) == (f"{THO}/measure-scoring", "proportion")
    assert coding(rate["improvementNotation"]) == (f"{THO}/measure-improvement-notation", "decrease")
    assert coding(share["scoring"]) == (f"{THO}/measure-scoring", "proportion")
    assert coding(share["improvementNotation"]) == (f"{THO}/measure-improvement-notation", "increase")
    assert coding(days["scoring"]) == (f"{THO}/measure-scoring", "continuous-variable")
    assert coding(days["improvementNotation"]) == (f"{THO}/measure-improvement-notation", "decrease")
    assert populations(rate) == [("initial-population", d[0]["population"]), ("denominator", d[0]["denominator"]),
                                 ("numerator", d[0]["numerator"])]
    assert populations(days) == [("initial-population", d[2]["population"]),
                                 ("measure-population", "Adults with diabetes registered all year"),
                                 ("measure-observation", "Days spent in hospital in the year")]
    for m in (rate, share, days):
        for p in m["group"][0]["population"]:
            assert coding(p["code"])[0] == f"{THO}/measure-population"
            assert p["criteria"] == {"language": "text/plain", "expression": p["description"]}


@pytest.mark.parametrize(("unit", "scoring"), [("percent", "proportion"), ("rate_per_1000", "proportion"),
                                               ("rate_per_100000", "proportion"), ("count", "continuous-variable"),
                                               ("mean_score", "continuous-variable"), ("days", "continuous-variable")])
def test_every_unit_has_its_scoring(unit: str, scoring: str) -> None:
    snapshot = demo()
    snapshot["outcomes"][0]["definition"]["unit"] = unit
    _, doc, _ = make(snapshot)
    assert coding(measures(doc)[0]["scoring"])[1] == scoring


def test_identity_version_status_dates_and_publisher() -> None:
    snapshot, doc, _ = make()
    rate, share, days, composite = measures(doc)
    framework = snapshot["framework"]
    for m in (rate, share, days, composite):
        assert m["version"] == "1" and m["status"] == "active" and m["experimental"] is False
        assert m["date"] == "2026-11-22T10:15:00Z"
        assert m["publisher"] == "Example Integrated Care Board"
        assert m["author"] == [{"name": "Example Integrated Care Board"}]
        assert m["effectivePeriod"] == {"start": "2026-04-01", "end": "2029-03-31"}  # 2026/27 to 2028/29
        assert re.fullmatch(r"[A-Z][A-Za-z0-9_]{0,254}", m["name"])  # FHIR's mea-0
    assert rate["name"] == "OUT_01" and composite["name"] == "OutcomesFramework"
    assert rate["title"] == snapshot["outcomes"][0]["definition"]["indicator_name"]
    assert rate["description"].startswith(f"Outcome as voted: {snapshot['outcomes'][0]['statement']}")
    assert snapshot["outcomes"][0]["description"] in rate["description"]
    assert composite["title"] == framework["title"]
    assert coding(rate["type"][0])[1] == "outcome" and coding(days["type"][0])[1] == "patient-reported-outcome"
    # Markdown fields escape people's words: "<and>" is not an HTML tag to a markdown reader.
    assert "each time \\<and\\> not repeat" in share["description"]


def test_indicator_code_is_the_definitions_when_it_has_one() -> None:
    snapshot = demo()
    snapshot["outcomes"][1]["definition"]["indicator_code"] = "DIAB-02"
    assert indicator_code(snapshot["outcomes"][0]) == "OUT-01"
    _, doc, _ = make(snapshot)
    rate, share = measures(doc)[:2]
    assert [rate["identifier"][0]["value"], share["identifier"][0]["value"]] == ["OUT-01", "DIAB-02"]
    assert share["identifier"][0]["use"] == "official" and share["name"] == "DIAB_02"
    assert share["id"].endswith("-diab-02")
    # Codes that make the same FHIR id still give distinct ids and fullUrls.
    snapshot["outcomes"][0]["definition"]["indicator_code"] = "diab_02"
    _, doc, _ = make(snapshot)
    ids = [m["id"] for m in measures(doc)]
    assert ids[0].endswith("-diab-02") and ids[1].endswith("-diab-02-r2") and len(set(ids)) == len(ids)
    assert len({e["fullUrl"] for e in doc["entry"]}) == len(ids)


def test_the_composite_weights_each_component_by_its_payment_weight() -> None:
    snapshot, doc, _ = make()
    *parts, composite = measures(doc)
    assert coding(composite["scoring"]) == (f"{THO}/measure-scoring", "composite")
    assert coding(composite["compositeScoring"]) == (f"{THO}/composite-measure-scoring", "weighted")
    artifacts = composite["relatedArtifact"]
    assert [a["type"] for a in artifacts] == ["composed-of"] * 3
    assert [a["resource"] for a in artifacts] == [f"{m['url']}|1" for m in parts]
    weights = [[(x["url"], x["valueDecimal"]) for x in a["extension"]] for a in artifacts]
    expected = [o["payment_weight_bp"] / 10000 for o in snapshot["outcomes"]]
    assert expected == [0.6, 0.4, 0.0]  # the gap outcome is listed with weight 0
    assert weights == [[(url, w) for url in WEIGHT_EXTENSIONS] for w in expected]
    assert WEIGHT_EXTENSIONS == ("http://hl7.org/fhir/uv/cqm/StructureDefinition/cqm-weight",
                                 "http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-weight")
    assert composite["identifier"][0]["value"] == "EX-2027-DIAB-01"  # the contract reference


def test_forty_outcome_weights_add_up_to_one() -> None:
    _, doc, _ = make(large(40))
    artifacts = measures(doc)[-1]["relatedArtifact"]
    assert len(artifacts) == 40
    assert sum(round(a["extension"][0]["valueDecimal"] * 10000) for a in artifacts) == 10000


def test_canonical_urls_from_a_base_or_stable_urn_uuids() -> None:
    _, with_base, _ = make(base=BASE)
    rate = measures(with_base)[0]
    assert rate["url"] == f"{BASE}/Measure/adults-with-diabetes-haringey-islington-out-01" == with_base["entry"][0]["fullUrl"]
    assert rate["identifier"][0]["system"].startswith(f"{BASE}/")
    _, plain, _ = make()
    urls = [m["url"] for m in measures(plain)]
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", u) for u in urls)
    # The same measure keeps its url in the next version; the version number tells them apart.
    later = demo()
    later["framework"].update(version=2, previous_version=1, frozen_at="2027-01-10T09:00:00Z")
    _, next_version, _ = make(later)
    assert [m["url"] for m in measures(next_version)] == urls
    assert {m["version"] for m in measures(next_version)} == {"2"}
    assert measures(next_version)[-1]["relatedArtifact"][0]["resource"] == f"{urls[0]}|2"
    # Another commissioner's framework for a group of the same name gets other names.
    theirs = demo()
    theirs["framework"]["contract"]["commissioner"] = "Another ICB"
    _, other, _ = make(theirs)
    assert not {m["url"] for m in measures(other)} & set(urls)


def test_the_snapshot_sha256_is_carried_and_checked() -> None:
    snapshot, doc, sha = make()
    assert doc["id"] == sha and doc["identifier"]["value"] == sha
    assert doc["meta"]["tag"][0]["code"] == sha
    assert all(m["meta"]["tag"][0]["code"] == sha for m in measures(doc))
    with pytest.raises(ValueError, match="does not match"):
        write_fhir(snapshot, "0" * 64, io.BytesIO())


@pytest.mark.parametrize(("labels", "period"), [
    (["2026/27", "2027/28"], {"start": "2026-04-01", "end": "2028-03-31"}),
    (["2099/2100", "2027-28"], {"start": "2027-04-01", "end": "2100-03-31"}),
    (["Year one", "2027/28"], {"start": "2027-04-01", "end": "2028-03-31"}),  # free text is left out
    (["2027/29", "Year two"], {}),
])
def test_effective_period_from_the_contract_years(labels: list[str], period: dict[str, str]) -> None:
    snapshot = demo()
    snapshot["payment"]["years"] = [{"label": label, "outcome_share_bp": 0, "shadow": True, "at_stake_pence": 0}
                                    for label in labels]
    assert effective_period(snapshot) == period
    if not period:
        _, doc, _ = make(snapshot)
        assert all("effectivePeriod" not in m for m in measures(doc))


def test_missing_words_are_said_and_never_none() -> None:
    snapshot = demo()
    del snapshot["framework"]["contract"]
    snapshot["outcomes"][0]["description"] = ""
    snapshot["outcomes"][0]["definition"]["indicator_name"] = ""
    _, doc, _ = make(snapshot)
    rate, *_, composite = measures(doc)
    assert "publisher" not in rate and "author" not in rate and "identifier" not in composite
    assert rate["title"] == snapshot["outcomes"][0]["statement"]
    gap = measures(doc)[2]
    assert "None" not in json.dumps(doc)
    assert make(example())[1]["entry"][2]["resource"]["group"][0]["population"][2]["description"] == \
        "Not specified in the frozen definition"  # the gap outcome has no numerator yet
    assert "Measurability gap" in gap["guidance"]


def test_registry_media_type_and_file_name() -> None:
    snapshot = example()
    assert FORMATS["fhir"].media_type == "application/fhir+json" and FORMATS["fhir"].binary
    assert filename(snapshot, "fhir") == "appendix-a-adults-with-diabetes-haringey-islington-v1.fhir.json"
    # Options go only to the formats that take them.
    snapshot, sha = with_hash(snapshot)
    plain, based = io.BytesIO(), io.BytesIO()
    export(snapshot, sha, "json", plain, fhir_base=BASE)
    write_fhir(snapshot, sha, based, fhir_base=BASE)
    assert BASE not in plain.getvalue().decode() and BASE in based.getvalue().decode()


@pytest.mark.parametrize("base", ["", BASE])
def test_round_trip_through_fhir_resources(base: str) -> None:
    """Parse with the R4B models (FHIR 4.3, whose Measure and Bundle are R4's), serialise, parse again."""
    _, doc, _ = make(base=base)
    parsed = Bundle.model_validate(doc)
    again = Bundle.model_validate_json(parsed.model_dump_json())
    assert again == parsed
    assert json.loads(again.model_dump_json()) == doc  # nothing we wrote was dropped or changed
    for entry in parsed.entry or []:
        assert isinstance(entry.resource, Measure)


def test_fhir_resources_refuses_what_we_must_not_write() -> None:
    """The round trip can fail: a Measure without a status, or a population without criteria, is refused."""
    _, doc, _ = make()
    broken = copy.deepcopy(doc)
    del broken["entry"][0]["resource"]["status"]
    with pytest.raises(ValueError, match="status"):
        Bundle.model_validate(broken)
    broken = copy.deepcopy(doc)
    del broken["entry"][0]["resource"]["group"][0]["population"][0]["criteria"]
    with pytest.raises(ValueError, match="criteria"):
        Bundle.model_validate(broken)


def test_bundle_function_matches_the_written_file() -> None:
    snapshot, doc, sha = make()
    assert bundle(snapshot, sha) == doc


# The canonical base in the settings (CODESIGN_FHIR_BASE) -------------------------------------------

def test_the_base_comes_from_the_settings() -> None:
    from codesign.config import Settings, SettingsError

    dev = {"CODESIGN_ENV": "development", "CODESIGN_SECRET_KEY": "x" * 40, "CODESIGN_DATABASE_URL": "sqlite://"}
    assert Settings.from_env(dev).fhir_base_url == ""  # urn:uuid: names
    public = {**dev, "CODESIGN_PUBLIC_URL": "https://codesign.example.nhs.uk/"}
    assert Settings.from_env(public).fhir_base_url == "https://codesign.example.nhs.uk/fhir"
    given = {**public, "CODESIGN_FHIR_BASE": " https://fhir.example.nhs.uk/r4/ "}
    assert Settings.from_env(given).fhir_base_url == "https://fhir.example.nhs.uk/r4"
    assert Settings(public_url="codesign.local").fhir_base_url == ""  # not an address a URL can hang off
    for bad in ("fhir.example.nhs.uk", "https://fhir.example.nhs.uk/r4?x=1", "urn:uuid:"):
        with pytest.raises(SettingsError, match="CODESIGN_FHIR_BASE must be an http"):
            Settings.from_env({**dev, "CODESIGN_FHIR_BASE": bad})
