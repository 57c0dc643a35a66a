"""Appendix A's three parts over HTTP: the schedule's new definition fields and indicator codes, the
co-design annex's report fields (asked for before freezing), and sign-off shown in every export."""

from __future__ import annotations

import io
import json

import docx
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign import integrity, queries
from codesign.models import FrameworkApproval, FrameworkExport, FrameworkVersion, Role
from codesign.services import framework_versions
from tests.conftest import make_user, post_form, sign_in
from tests.framework_helpers import COMPLETE, TERMS, ready_draft


def _text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def _definition(session: Session, version_id: int, index: int = 0) -> dict[str, object]:
    return queries.get_version_view(session, version_id).items[index].definition


def test_definition_form_has_the_schedule_fields_and_a_default_code(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                     facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    view = queries.get_version_view(session, version.id)
    item = view.items[0].item.id
    sign_in(client, facilitator)
    page = client.get(f"/frameworks/{version.id}/outcomes/{item}").text
    for label in ("Indicator code", "Rationale", "Exclusions", "Code lists (SNOMED CT, ICD-10, OPCS-4)",
                  "Measurement period that counts for each contract year", "Data submission (what, when, how, to whom)",
                  "Thresholds that drive payment", "Payment timing", "Floor and cap",
                  "When the consequence of breach applies", "Data quality and dispute route"):
        assert label in page, label
    # The code defaults from the template (diabetes) and the position, and is stored when saved.
    codes = [v.definition["indicator_code"] for v in view.items]
    assert codes == [f"DIAB-{i:02d}" for i in range(1, len(codes) + 1)]
    assert 'value="DIAB-01"' in page


def test_bad_and_duplicate_indicator_codes_are_refused_naming_the_field(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                         facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    view = queries.get_version_view(session, version.id)
    first, second = view.items[0].item.id, view.items[1].item.id
    before = _definition(session, version.id)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}/outcomes/{first}"
    for code, message in (("diab 1!", "The indicator code must be letters, a hyphen and a number"),
                          ("DIAB-02", "DIAB-02 is already the code of")):
        refused = post_form(client, url, {**COMPLETE, "indicator_code": code}, token_from=url)
        assert refused.status_code == 422, code
        assert message in refused.text and 'href="#indicator_code"' in refused.text
        session.expire_all()
        assert _definition(session, version.id) == before  # nothing saved
    refused = post_form(client, url, {**COMPLETE, "payment_thresholds": "both"}, token_from=url)
    assert refused.status_code == 422 and "Choose one of the options for thresholds that drive payment" in refused.text
    # A free code is taken, in capitals; the other outcome keeps its default.
    assert post_form(client, url, {**COMPLETE, "indicator_code": "diab-10"}, token_from=url).status_code == 303
    session.expire_all()
    assert _definition(session, version.id)["indicator_code"] == "DIAB-10"
    assert queries.get_version_view(session, version.id).items[1].definition["indicator_code"] == "DIAB-02"
    assert second


def test_annex_fields_are_asked_for_before_freezing(client: TestClient, session: Session, facilitator,  # type: ignore[no-untyped-def]
                                                    workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    assert queries.get_version_view(session, version.id).checklist() == []
    # Without the report fields the checklist asks for each, and a conflicts line per stakeholder group.
    framework_versions.save_terms(session, facilitator, version.id,
                                  {k: v for k, v in TERMS.items() if k not in ("funding", "coi-carer")})
    problems = queries.get_version_view(session, version.id).checklist()
    assert "Co-design annex: Funding" in problems
    assert any(p.startswith("Co-design annex: Declared conflicts of interest of Carers") for p in problems)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}/payment"
    page = client.get(url).text
    assert "For the co-design annex (COS-STAR reporting items)" in page and 'name="coi-carer"' in page
    # Too long: refused with the field named, nothing saved.
    refused = post_form(client, f"{url}/terms", {**TERMS, "protocol_reference": "x" * 301}, token_from=url)
    assert refused.status_code == 422 and 'href="#protocol_reference"' in refused.text
    session.expire_all()
    assert queries.get_version_view(session, version.id).report["protocol_reference"] == "Protocol EX-1"
    assert post_form(client, f"{url}/terms", TERMS, token_from=url).status_code == 303
    session.expire_all()
    assert queries.get_version_view(session, version.id).checklist() == []
    # The snapshot carries the report, the definitions' new fields and every outcome considered.
    frozen = framework_versions.freeze(session, facilitator, version.id)
    snapshot = json.loads(frozen.snapshot_json or "")
    report = snapshot["framework"]["report"]
    assert report["funding"] == "ICB budget" and report["conflicts"]["Carers"] == "None declared"
    definition = snapshot["outcomes"][0]["definition"]
    assert definition["indicator_code"] == "DIAB-01" and definition["payment_thresholds"] == "targets"
    assert definition["dispute_route"] == COMPLETE["dispute_route"]
    fates = {c["fate"] for c in snapshot["methods"]["considered"]}
    assert "in_framework" in fates and "dropped_by_vote" in fates
    assert [r["source"] for r in snapshot["methods"]["rounds"]] == [True]


def test_sign_off_rules_and_approval_in_every_export(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                     session: Session, facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    freezer = make_user(session, Role.commissioner)
    sign_in(client, freezer)
    url = f"/frameworks/{version.id}"
    assert post_form(client, f"{url}/freeze", {}, token_from=url).status_code == 303
    # The freeze stored every format before any approval: they say so.
    before = client.get(f"{url}/export/docx").content
    text = _text(before)
    assert "Part 3. Sign-off" in text and "Not yet approved when this copy was made" in text
    assert "Commissioner" in text and "Signature" in text
    # A facilitator cannot approve; nor can the person who froze it.
    sign_in(other_client, facilitator)
    refused = post_form(other_client, f"{url}/approve", {"note": "Fine"}, token_from=url)
    assert refused.status_code == 409 and "Your role cannot approve" in refused.text
    refused = post_form(client, f"{url}/approve", {"note": "Fine"}, token_from=url)
    assert refused.status_code == 409 and "cannot also approve" in refused.text
    colleague = make_user(session, Role.commissioner)
    sign_in(other_client, colleague)
    assert post_form(other_client, f"{url}/approve", {"note": "Checked"}, token_from=url).status_code == 303
    # After approval every format is the edition that names the approver.
    after = _text(client.get(f"{url}/export/docx").content)
    assert "Not yet approved" not in after and colleague.email in after and "Checked" in after
    assert colleague.email in client.get(f"{url}/export/csv").text
    document = client.get(f"{url}/export/json").json()
    assert [a["name"] for a in document["sign_off"]["approvals"]] == [colleague.email]
    assert "sign_off" not in document["snapshot"]
    session.expire_all()
    stored = {x.format for x in session.exec(select(FrameworkExport).where(FrameworkExport.version_id == version.id))}
    assert {"docx", "docx.1", "json", "json.1", "csv.1"} <= stored
    # The checks still pass: the snapshot and its SHA-256 are untouched by the approval.
    assert integrity.verify_version(session, version.id) == []
    frozen = session.get(FrameworkVersion, version.id)
    assert frozen is not None and frozen.sha256 == document["sha256"]


def test_an_approval_is_confirmed_never_silently_changed_and_names_its_edition(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    freezer = make_user(session, Role.commissioner)
    sign_in(client, freezer)
    url = f"/frameworks/{version.id}"
    assert post_form(client, f"{url}/freeze", {}, token_from=url).status_code == 303
    before = client.get(f"{url}/export/pdf").headers["content-disposition"]
    colleague = make_user(session, Role.commissioner)
    sign_in(other_client, colleague)
    approved = post_form(other_client, f"{url}/approve", {"note": "Checked"}, token_from=url)
    assert approved.status_code == 303
    assert "Approved. Every download of this version now names you" in other_client.get(url).text
    # The same form sent again (a double tap) is the same approval; a different note is refused, and said so.
    assert post_form(other_client, f"{url}/approve", {"note": "Checked"}, token_from=url).status_code == 303
    changed = post_form(other_client, f"{url}/approve", {"note": "Checked again, all fine"}, token_from=url)
    assert changed.status_code == 409
    assert "this note was not saved: “Checked again, all fine”" in changed.text
    session.expire_all()
    notes = [a.note for a in session.exec(select(FrameworkApproval).where(FrameworkApproval.version_id == version.id))]
    assert notes == ["Checked"]
    # The edition that names the approver downloads under its own name.
    after = client.get(f"{url}/export/pdf").headers["content-disposition"]
    assert before.endswith('-v1.pdf"') and after.endswith('-v1-approved-1.pdf"'), (before, after)
