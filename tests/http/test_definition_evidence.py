"""A measurement definition linked to indicator data over HTTP: the link, the charts with their
tables, "Use this as the baseline" (and its 422), the suggested targets, and a frozen version
keeping the numbers when the data are gone."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign import integrity, queries
from codesign.models import AuditEvent, IndicatorValue, ShortlistItem, User
from codesign.services import evidence, framework_versions
from tests.conftest import csrf_from, sign_in
from tests.evidence_helpers import data_file, peer_file
from tests.framework_helpers import COMPLETE, ready_draft

# Area A: 60% of 2,000; its ten peers P00..P09 at 50..80% of 1,000; England 66% (evidence_helpers).
LINK = {"evidence_indicator": "90001", "evidence_area": "A"}
# Targets left empty and a green band that the suggested final target (73.3) does not pass.
OPEN_TARGETS = {"target-0": "", "target-1": "", "target-2": "", "rag_green": "75", "rag_amber": "65"}


@pytest.fixture
def linked(client: TestClient, session: Session, facilitator: User, workshop: Any) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    version, _round = ready_draft(session, facilitator, workshop)
    evidence.import_indicators(session, facilitator, data_file(), "indicators-2024.csv")
    evidence.import_peers(session, facilitator, peer_file("A", [f"P{i:02}" for i in range(10)]), "peers.csv")
    sign_in(client, facilitator)
    item = queries.get_version_view(session, version.id).items[0].item
    assert item.id is not None
    return version.id, item.id


def url(ids: tuple[int, int]) -> str:
    return f"/frameworks/{ids[0]}/outcomes/{ids[1]}"


def save(client: TestClient, ids: tuple[int, int], **extra: str):  # type: ignore[no-untyped-def]
    return client.post(url(ids), data={**COMPLETE, **extra, "csrf_token": csrf_from(client, url(ids))})


def stored(session: Session, ids: tuple[int, int]) -> dict[str, Any]:
    item = session.get(ShortlistItem, ids[1])
    assert item is not None
    session.refresh(item)
    return dict(json.loads(item.definition_json))


def fill(client: TestClient, ids: tuple[int, int], targets: bool = False):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_from(client, url(ids)), **({"targets": "yes"} if targets else {})}
    return client.post(f"{url(ids)}/baseline-from-data", data=data)


def test_linking_a_definition_shows_three_charts_each_with_a_table(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                   linked) -> None:
    page = client.get(url(linked))
    assert "Link this definition to imported indicator data" in page.text and "data:image/svg" not in page.text
    assert save(client, linked, **LINK).status_code == 303
    assert {k: stored(session, linked)[k] for k in LINK} == LINK
    page = client.get(url(linked))
    images = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]+)"', page.text)
    assert len(images) == 3
    assert images[0].startswith("Bar chart for 2024: Area A 60.0% against 10 similar areas ranging from 50.0% "
                                "to 80.0%; best-5 mean 73.3%")
    assert images[1].startswith("Funnel plot for 2024") and images[2].startswith("Line chart of Area A")
    assert page.text.count("the numbers as a table</span>") == 3
    # The peers table lists every area, best first, the area marked, the best five flagged.
    assert re.search(r'<th scope="row" class="nhsuk-table__header">Area P09 \(P09\)</th><td class="nhsuk-table__cell">'
                     r"80.0</td><td class=\"nhsuk-table__cell\">1,000</td><td class=\"nhsuk-table__cell\">Yes", page.text)
    assert "Area A (A; this area)" in page.text
    assert "Illustrative data" not in page.text  # these test figures are not marked illustrative


def test_the_link_names_both_indicator_and_area_or_is_refused(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                              linked) -> None:
    before = stored(session, linked)
    response = save(client, linked, evidence_indicator="90001")
    assert response.status_code == 422
    assert "Enter the area code as well" in response.text
    assert stored(session, linked) == before


def test_use_this_as_the_baseline_fills_value_period_source_and_names_the_peers(client: TestClient,  # type: ignore[no-untyped-def]
                                                                                session: Session, linked) -> None:
    assert save(client, linked, **LINK, **OPEN_TARGETS).status_code == 303
    response = fill(client, linked)
    assert response.status_code == 303 and response.headers["location"].endswith(url(linked))
    definition = stored(session, linked)
    assert definition["baseline_value"] == "60.0" and definition["baseline_period"] == "2024"
    assert definition["baseline_source"].startswith("Test indicator (indicator 90001), Area A (A), 2024; from "
                                                    "indicators-2024.csv imported on ")
    assert definition["comparator"].startswith("10 similar areas: Area P00 (P00), Area P01 (P01),")
    assert "best-5 mean 73.3 (P09, P08, P07, P06, P05), England 66.0, 2024" in definition["comparator"]
    assert [t["value"] for t in definition["targets"]] == ["", "", ""]  # targets only when chosen
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "definition.baseline_from_data")).first()


def test_suggested_targets_are_shown_and_applied_only_when_chosen(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                  linked) -> None:
    assert save(client, linked, **LINK, **OPEN_TARGETS).status_code == 303
    page = client.get(url(linked))
    # Best-5 mean 73.3 by the final year, equal steps from 60.0.
    assert re.findall(r'<td class="nhsuk-table__cell">(\d{4}/\d{2})</td><td class="nhsuk-table__cell">([0-9.]+)</td>',
                      page.text) == [("2026/27", "64.4"), ("2027/28", "68.9"), ("2028/29", "73.3")]
    assert [t["value"] for t in stored(session, linked)["targets"]] == ["", "", ""]
    assert fill(client, linked, targets=True).status_code == 303
    definition = stored(session, linked)
    assert [t["value"] for t in definition["targets"]] == ["64.4", "68.9", "73.3"]
    # Still editable: a saved form replaces them.
    assert save(client, linked, **LINK, **{**OPEN_TARGETS, "baseline_value": "60", "target-2": "72"}).status_code == 303
    assert stored(session, linked)["targets"][2]["value"] == "72"


def test_no_data_for_the_link_is_a_clear_422_and_changes_nothing(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                                  linked) -> None:
    assert save(client, linked, evidence_indicator="90001", evidence_area="NOWHERE").status_code == 303
    before = stored(session, linked)
    response = fill(client, linked)
    assert response.status_code == 422
    assert "There is no baseline to use: There are no figures for indicator 90001 in area NOWHERE" in response.text
    assert 'href="#evidence_data"' in response.text
    assert stored(session, linked) == before
    assert fill(client, linked, targets=True).status_code == 422


def test_a_baseline_that_contradicts_the_targets_is_refused(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                             linked) -> None:
    assert save(client, linked, **LINK).status_code == 303  # targets 40, 45, 50: below the data's 60
    before = stored(session, linked)
    response = fill(client, linked)
    assert response.status_code == 422
    assert "The baseline from the data would contradict this definition" in response.text
    assert stored(session, linked) == before


def test_a_frozen_version_keeps_the_numbers_without_the_data(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                             facilitator: User, linked) -> None:
    assert save(client, linked, **LINK, **OPEN_TARGETS).status_code == 303
    assert fill(client, linked, targets=True).status_code == 303
    frozen = framework_versions.freeze(session, facilitator, linked[0])
    session.exec(delete(IndicatorValue))  # type: ignore[call-overload]
    session.commit()
    assert session.exec(select(IndicatorValue)).first() is None
    _version, snapshot = queries.get_snapshot(session, linked[0])
    kept = next(o for o in snapshot["outcomes"] if o["indicator_data"])["indicator_data"]
    assert (kept["value"], kept["period"], kept["source"], kept["best5_mean"]) == (60.0, "2024", "indicators-2024.csv",
                                                                                    73.334)
    assert [p["area"] for p in kept["peers"]] == [f"P{i:02}" for i in range(10)]
    assert kept["opportunity"] == pytest.approx(266.68) and kept["imported_at"]
    page = client.get(url(linked))
    assert "As kept when version 1 was frozen" in page.text and page.text.count("data:image/svg") == 3
    download = client.get(f"/frameworks/{frozen.id}/export/xlsx")
    assert download.status_code == 200
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(download.content))["Comparison data"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(row[3:5] == ["Area A (A; this area)", 60] for row in values), values[:3]
    assert integrity.verify(session).problems == []
