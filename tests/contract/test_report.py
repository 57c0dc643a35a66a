"""The co-design annex's report fields (contract/report.py): parsed, refused when too long, missing listed."""

from __future__ import annotations

from codesign.contract import report

GROUPS = [("patient", "Patients"), ("carer", "Carers")]


def test_report_parsed_with_conflicts_per_group() -> None:
    errors: dict[str, str] = {}
    parsed = report.parse({"protocol_reference": "  Protocol 7 ", "funding": "ICB\r\nbudget", "coi-patient": "None",
                           "coi-nobody": "ignored"}, GROUPS, errors)
    assert errors == {}
    assert parsed["protocol_reference"] == "Protocol 7" and parsed["funding"] == "ICB\nbudget"
    assert parsed["conflicts"] == {"Patients": "None", "Carers": ""}
    assert report.missing(parsed, ["Patients", "Carers"]) == [
        "Ethics approval and participants' consent", "Eligibility and recruitment of participants", "Limitations",
        "Declared conflicts of interest of Carers (write “None declared” if there are none)"]


def test_too_long_is_refused_by_field() -> None:
    errors: dict[str, str] = {}
    report.parse({"protocol_reference": "x" * 301, "limitations": "y" * 2001, "coi-carer": "z" * 1001}, GROUPS, errors)
    assert set(errors) == {"protocol_reference", "limitations", "coi-carer"}
    assert errors["protocol_reference"].endswith("must be 300 characters or fewer (you have 301)")


def test_load_survives_bad_json() -> None:
    assert report.load("not json") == {} and report.load("[1]") == {} and report.load(None) == {}
