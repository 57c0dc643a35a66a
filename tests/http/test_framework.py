"""A commissioner turns revealed results into a frozen, contract-ready framework over HTTP."""

from __future__ import annotations

import re

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import queries
from codesign.models import FrameworkVersion, Role
from codesign.services import framework_versions, population, sessions
from tests.conftest import join, make_user, post_form, sign_in
from tests.framework_helpers import closed_rating_round, ready_draft


def test_build_define_pay_and_freeze_through_the_pages(client: TestClient, session: Session, facilitator,  # type: ignore[no-untyped-def]
                                                       workshop) -> None:
    found = closed_rating_round(session, facilitator, workshop)
    lead = make_user(session, Role.commissioner)
    sign_in(client, lead)
    group = workshop.population_group_id
    response = post_form(client, f"/groups/{group}/framework/start", {}, token_from=f"/groups/{group}/framework")
    assert response.status_code == 303
    url = response.headers["location"].replace("http://testserver", "")
    page = client.get(url)
    assert "enter the annual contract value" in page.text  # the checklist
    assert post_form(client, f"{url}/shortlist/build", {"round": str(found.id)}, token_from=url).status_code == 303
    version_id = int(url.rsplit("/", 1)[1])
    view = queries.get_version_view(session, version_id)
    assert len(view.items) == 2

    # Including an outcome the vote did not put in needs a reason: refused with the page re-rendered.
    other = view.excluded[0].item.id
    refused = post_form(client, f"{url}/shortlist/include", {"item": str(other), "include": "yes", "reason": ""},
                        token_from=url)
    assert refused.status_code == 422 and "reason for departing" in refused.text

    # A definition: inconsistent values refused with what was typed kept; then prefilled and completed.
    item = view.items[0].item.id
    form_url = f"{url}/outcomes/{item}"
    bad = post_form(client, form_url, {"indicator_name": "My <indicator>", "direction": "lower", "baseline_value": "4",
                                        "target-1": "5"}, token_from=form_url)
    assert bad.status_code == 422 and "below the baseline" in bad.text and 'value="My &lt;indicator&gt;"' in bad.text
    saved = post_form(client, form_url, {"indicator_name": "Part done"}, token_from=form_url)
    assert saved.status_code == 303
    assert "Still to fill in" in client.get(form_url).text

    # Payment terms: bad money refused; good ones saved; weights suggested; preview adds up.
    pay = f"{url}/payment"
    bad_terms = post_form(client, f"{pay}/terms", {"contract_value": "twelve million", "year-0-label": "2027/28",
                                                   "year-0-share": "150", "provider": "<i>Trust</i>" + "x" * 200},
                          token_from=pay)
    assert bad_terms.status_code == 422 and "in pounds" in bad_terms.text and "between 0 and 100" in bad_terms.text
    assert "The provider must be 200 characters or fewer" in bad_terms.text and "&lt;i&gt;Trust" in bad_terms.text
    session.expire_all()
    assert session.get(FrameworkVersion, version_id).contract_value_pence is None  # type: ignore[union-attr]
    ok_terms = post_form(client, f"{pay}/terms", {"title": "Outcomes framework", "contract_value": "£12,000,000",
                                                  "mechanism": "withhold", "year-0-label": "2027/28", "year-0-share": "10",
                                                  "commissioner": "  Example ICB ", "provider": "Example Trust",
                                                  "contract_reference": ""},
                         token_from=pay)
    assert ok_terms.status_code == 303
    session.expire_all()
    saved_version = session.get(FrameworkVersion, version_id)
    assert saved_version is not None
    assert (saved_version.commissioner, saved_version.provider, saved_version.contract_reference) == (
        "Example ICB", "Example Trust", "")
    assert 'value="Example Trust"' in client.get(pay).text
    assert "Commissioner: <strong>Example ICB</strong> · Provider: <strong>Example Trust</strong></p>" in client.get(url).text
    assert post_form(client, f"{pay}/weights", {"action": "suggest"}, token_from=pay).status_code == 303
    preview = client.get(pay + "?level=50").text
    assert "£1,200,000.00 at stake" in preview and "£600,000.00" in preview

    # Not ready yet: freezing is refused and says why.
    refused = post_form(client, f"{url}/freeze", {}, token_from=url)
    assert refused.status_code == 422 and "Not ready to freeze" in refused.text
    assert session.get(FrameworkVersion, version_id).status == "draft"  # type: ignore[union-attr]


def test_frozen_version_page_public_link_and_refusals(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                      session: Session, facilitator, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}"
    assert post_form(client, f"{url}/freeze", {}, token_from=url).status_code == 303
    frozen = session.get(FrameworkVersion, version.id)
    assert frozen is not None and frozen.sha256
    page = client.get(url).text
    assert frozen.sha256 in page and "Download Appendix A" in page
    # Changing it through any form is refused, and the page says so.
    for path, data in ((f"{url}/payment/weights", {"action": "suggest"}), (f"{url}/payment/terms", {"contract_value": "1"}),
                       (f"{url}/freeze", {})):
        response = post_form(client, path, data, token_from=url)
        assert response.status_code == 409 and "is frozen and cannot change" in response.text
    # The public page needs no sign-in, shows per-group results and never a small group's figures.
    public = other_client.get(f"/p/{frozen.public_token}")
    assert public.status_code == 200 and "You said, we did" in public.text
    assert "Commissioned by Example ICB; provided by Example Trust." in public.text
    assert frozen.sha256 in public.text
    assert other_client.get("/p/not-the-token").status_code == 404
    # Another person approves; the freezer cannot.
    assert "Approve this version" not in page
    colleague = make_user(session, Role.commissioner)
    sign_in(other_client, colleague)
    assert post_form(other_client, f"{url}/approve", {"note": "Checked"}, token_from=url).status_code == 303
    assert "Checked" in other_client.get(url).text
    # A new draft from it; the frozen page then leads to that draft instead of offering a second one.
    assert "Start a new draft from this version" in client.get(url).text
    started = post_form(client, f"{url}/new-draft", {}, token_from=url)
    assert started.status_code == 303
    draft_url = started.headers["location"].replace("http://testserver", "")
    page = client.get(url).text
    assert "Start a new draft from this version" not in page
    assert f'{draft_url}">Continue' in page and "Continue the draft, version 2" in page


def test_public_page_hides_small_groups(other_client: TestClient, session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    version, _ = ready_draft(session, facilitator, workshop, sizes={"commissioner": 3})
    frozen = framework_versions.freeze(session, facilitator, version.id)
    text = other_client.get(f"/p/{frozen.public_token}").text
    assert re.search(r"Patients</td>\s*<td[^>]*>5</td>", text)
    assert re.search(r"Commissioners</td>\s*<td[^>]*>Too few people to report</td>", text)
    assert not re.search(r"Commissioners</td>\s*<td[^>]*>3</td>", text)
    assert '"n":3' not in (frozen.snapshot_json or "")


def test_participants_and_observers_cannot_edit(client: TestClient, session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    version, _ = ready_draft(session, facilitator, workshop)
    join(client, workshop.join_code)
    assert client.get(f"/frameworks/{version.id}").status_code == 303  # to sign in
    observer = make_user(session, Role.observer)
    sign_in(client, observer)
    assert client.get(f"/frameworks/{version.id}").status_code == 200
    response = post_form(client, f"/frameworks/{version.id}/payment/weights", {"action": "suggest"},
                         token_from=f"/frameworks/{version.id}")
    assert response.status_code == 403


def test_downloads_in_every_format_are_made_once_and_kept(client: TestClient, session: Session, facilitator,  # type: ignore[no-untyped-def]
                                                          workshop) -> None:
    import io
    import json

    from docx import Document
    from sqlmodel import select

    from codesign.export.canonical import snapshot_sha256
    from codesign.models import FrameworkExport

    version, _ = ready_draft(session, facilitator, workshop)
    sign_in(client, facilitator)
    draft_download = client.get(f"/frameworks/{version.id}/export/docx")
    assert draft_download.status_code == 409 and "Freeze it first" in draft_download.text
    # Freezing renders every export in the background (TestClient runs it before returning).
    assert post_form(client, f"/frameworks/{version.id}/freeze", {}, token_from=f"/frameworks/{version.id}").status_code == 303
    kept = session.exec(select(FrameworkExport).where(FrameworkExport.version_id == version.id)).all()
    assert sorted(k.format for k in kept) == ["csv", "docx", "fhir", "json", "pdf", "xlsx"]
    frozen = session.get(FrameworkVersion, version.id)
    assert frozen is not None
    for fmt, magic in (("docx", b"PK"), ("xlsx", b"PK"), ("pdf", b"%PDF"), ("csv", b"rank"), ("json", b"{"),
                       ("fhir", b'{\n  "resourceType": "Bundle"')):
        first = client.get(f"/frameworks/{version.id}/export/{fmt}")
        assert first.status_code == 200 and first.content.startswith(magic), fmt
        assert "attachment; filename=\"appendix-a-" in first.headers["content-disposition"]
        assert client.get(f"/frameworks/{version.id}/export/{fmt}").content == first.content  # the same bytes
    body = json.loads(client.get(f"/frameworks/{version.id}/export/json").content)
    assert body["sha256"] == frozen.sha256 == snapshot_sha256(body["snapshot"])
    document = Document(io.BytesIO(client.get(f"/frameworks/{version.id}/export/docx").content))
    footer = " ".join(p.text for p in document.sections[0].footer.paragraphs)
    assert frozen.sha256 in footer
    assert client.get(f"/frameworks/{version.id}/export/odt").status_code == 404


def test_building_from_another_population_groups_round_is_refused(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                  facilitator, workshop) -> None:
    frailty = population.create_population_group(session, facilitator, "Older people living with frailty", "",
                                                 "older-people-frailty")
    elsewhere = sessions.create_session(session, facilitator, frailty.id, "Frailty workshop", "2026-04-01")
    theirs = closed_rating_round(session, facilitator, elsewhere)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}"
    response = post_form(client, f"{url}/shortlist/build", {"round": str(theirs.id)}, token_from=url)
    assert response.status_code == 422
    assert "Choose a round from a session of this population group" in response.text
    assert queries.get_version_view(session, version.id).items == []
