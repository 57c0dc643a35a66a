"""What a commissioner's trial of the evidence pages found (issue 13): a unit that is not the
data's, a chart that cannot be drawn, a baseline that no longer matches the data, a direction that
is not the library's, an area with no peers, and peers with no figure for the period."""

from __future__ import annotations

import importlib
import io
import re
from typing import Any

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import queries
from codesign.evidence import charts
from codesign.models import User
from codesign.services import evidence, framework_versions
from tests.evidence_helpers import HEADER, data_file, figure, peer_file
from tests.framework_helpers import ready_draft
from tests.http.test_definition_evidence import LINK, OPEN_TARGETS, fill, save, stored, url

# The module, not the function of the same name that codesign.queries exports.
linked = importlib.import_module("codesign.queries.definition_evidence")
PEERS = [f"P{i:02}" for i in range(10)]
RATE = {"evidence_indicator": "93000", "evidence_area": "A"}


def rate_file() -> str:
    """A rate per 100,000: the area at 90.95 (176 of 193,512); peers 80 to 98 per 100,000 of 200,000."""
    lines = [HEADER, figure("93000", "A", "2024/25", 90.95, 176, 193512)]
    lines += [figure("93000", p, "2024/25", 80.0 + 2 * i, round((80 + 2 * i) * 2), 200000) for i, p in enumerate(PEERS)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def draft(client: TestClient, session: Session, facilitator: User, workshop: Any) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    version, _round = ready_draft(session, facilitator, workshop)
    from tests.conftest import sign_in
    sign_in(client, facilitator)
    item = queries.get_version_view(session, version.id).items[0].item
    assert item.id is not None
    return version.id, item.id


def imported(session: Session, facilitator: User, text: str, peers: bool = True) -> None:
    evidence.import_indicators(session, facilitator, text, "indicators.csv")
    if peers:
        evidence.import_peers(session, facilitator, peer_file("A", PEERS), "peers.csv")


def test_linking_a_per_1000_definition_to_per_100000_data_is_refused_naming_the_unit(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft) -> None:
    imported(session, facilitator, rate_file())
    before = stored(session, draft)
    response = save(client, draft, **RATE, unit="rate_per_1000")
    assert response.status_code == 422
    assert ("The figures for indicator 93000 in area A are a rate per 100,000 (value x denominator / count), but "
            "this definition&#39;s unit is rate per 1,000. Change the unit to rate per 100,000") in response.text
    assert 'href="#unit"' in response.text  # the error summary names the field
    assert stored(session, draft) == before
    assert save(client, draft, **RATE, unit="rate_per_100000").status_code == 303
    page = client.get(url(draft))
    assert page.status_code == 200 and "Opportunity" in page.text


def test_a_definition_linked_before_its_data_came_is_compared_in_the_data_unit_and_says_so(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft) -> None:
    assert save(client, draft, **RATE, unit="rate_per_1000").status_code == 303  # no figures yet: nothing to check
    imported(session, facilitator, rate_file())
    page = client.get(url(draft))
    assert page.status_code == 200
    assert page.text.count("data:image/svg") == 3
    assert "this definition&#39;s unit is rate per 1,000" in page.text
    ev = linked.linked_evidence(session, stored(session, draft))
    assert ev is not None and ev["multiplier"] == 100_000
    assert ev["opportunity"] < 500  # ~194 at the area's denominator, never 19,357
    version = client.get(f"/frameworks/{draft[0]}")
    assert "this definition&#39;s unit is rate per 1,000" in version.text


def test_a_chart_that_cannot_be_drawn_leaves_its_table_and_the_page(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft, monkeypatch) -> None:
    imported(session, facilitator, data_file())
    assert save(client, draft, **LINK).status_code == 303

    def broken(evidence: Any, fmt: str) -> bytes:
        raise ValueError("'yerr' must not contain negative values")

    monkeypatch.setitem(charts._DRAW, "trend", broken)
    charts._drawn.cache_clear()
    page = client.get(url(draft))
    assert page.status_code == 200
    assert page.text.count("data:image/svg") == 2
    assert "This chart could not be drawn from these figures. The same numbers are in the table below." in page.text
    trend = page.text[page.text.index('id="chart-trend"'):]
    assert '<details class="nhsuk-details" open>' in trend and "95% interval" in trend


def test_a_frozen_version_holding_figures_in_the_wrong_unit_still_renders(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft, monkeypatch) -> None:
    imported(session, facilitator, rate_file())
    # As the code was: compared with the definition's multiplier, the data's own unit unknown.
    monkeypatch.setattr(linked, "get_data_multiplier", lambda db, indicator, area: None)
    assert save(client, draft, **RATE, unit="rate_per_1000").status_code == 303
    frozen = framework_versions.freeze(session, facilitator, draft[0])
    monkeypatch.undo()
    _version, snapshot = queries.get_snapshot(session, draft[0])
    kept = next(o for o in snapshot["outcomes"] if o["indicator_data"])["indicator_data"]
    assert kept["multiplier"] == 1000 and kept["upper_ci95"] < kept["value"]  # the broken figures
    charts._drawn.cache_clear()
    page = client.get(url(draft))
    assert page.status_code == 200 and "This chart could not be drawn" in page.text
    for fmt in ("pdf", "docx", "xlsx"):
        assert client.get(f"/frameworks/{frozen.id}/export/{fmt}").status_code == 200, fmt
    nxt = framework_versions.new_draft_from(session, facilitator, frozen.id)
    page = client.get(url((nxt.id or 0, queries.get_version_view(session, nxt.id or 0).items[0].item.id or 0)))
    assert page.status_code == 200 and "this definition&#39;s unit is rate per 1,000" in page.text


def test_a_baseline_that_no_longer_matches_the_data_is_warned_on_the_page_and_the_version(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft) -> None:
    imported(session, facilitator, data_file())
    assert save(client, draft, **LINK, **OPEN_TARGETS).status_code == 303  # baseline 40, 2025/26, "NDA 2025/26"
    page = client.get(url(draft))
    warning = page.text[page.text.index('id="baseline-mismatch"'):]
    warning = warning[:warning.index("</div>")]
    assert "the value is 40, the data&#39;s is 60.0; the period is 2025/26, the data&#39;s is 2024" in warning
    assert "Use this as the baseline" in warning and "baseline-from-data" in warning
    version = client.get(f"/frameworks/{draft[0]}")
    assert "the baseline does not match the linked indicator data" in version.text
    assert "freezing is still allowed" in version.text
    assert fill(client, draft).status_code == 303
    assert 'id="baseline-mismatch"' not in client.get(url(draft)).text
    assert "does not match the linked indicator data" not in client.get(f"/frameworks/{draft[0]}").text
    # Re-imported data with another value: the saved baseline no longer matches.
    evidence.import_indicators(session, facilitator, data_file().replace(",A,Area A,ICB,Persons,18+ yrs,,,2024,60.0",
                                                                         ",A,Area A,ICB,Persons,18+ yrs,,,2024,61.5"),
                               "indicators.csv")
    assert "the value is 60.0, the data&#39;s is 61.5" in client.get(url(draft)).text


def test_a_direction_that_is_not_the_library_one_is_warned(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft) -> None:
    imported(session, facilitator, data_file(indicator="hes-amputations"))  # the library: lower is better
    assert save(client, draft, evidence_indicator="hes-amputations", evidence_area="A").status_code == 303
    page = client.get(url(draft))
    expected = ("This definition says higher is better, but the indicator library says lower is better for "
                "indicator hes-amputations")
    assert expected in page.text and expected in client.get(f"/frameworks/{draft[0]}").text
    assert save(client, draft, evidence_indicator="hes-amputations", evidence_area="A", direction="lower",
                **{"rag_green": "36", "rag_amber": "40", "target-0": "40", "target-1": "38",
                   "target-2": "36"}).status_code == 303
    assert "the indicator library says" not in client.get(url(draft)).text


def test_an_area_with_no_peers_says_so_and_suggests_nothing(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft) -> None:
    imported(session, facilitator, data_file(), peers=False)
    assert save(client, draft, **LINK, **OPEN_TARGETS).status_code == 303
    page = client.get(url(draft))
    assert re.search(r'This area has no similar areas set: add them on the <a href="[^"]*/evidence/peers">Peer areas '
                     r"page</a>", page.text)
    assert "already at or better" not in page.text and "Suggested targets" not in page.text
    assert fill(client, draft).status_code == 303
    definition = stored(session, draft)
    assert definition["baseline_value"] == "60.0" and definition["comparator"] == ""
    response = fill(client, draft, targets=True)
    assert response.status_code == 422 and "area A has no similar areas set" in response.text


def test_peers_missing_the_period_are_counted_and_named_on_the_page_and_in_the_appendix(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, draft) -> None:
    older = data_file(period="2023")
    latest = "\n".join(line for line in data_file().splitlines() if ",P03," not in line and ",P07," not in line)
    imported(session, facilitator, older + latest.split("\n", 1)[1] + "\n")
    assert save(client, draft, **LINK, **OPEN_TARGETS).status_code == 303
    expected = ("8 of 10 similar areas have a figure for 2024; no figure for Area P03 (P03), Area P07 (P07). The peer "
                "mean and the best five are from the 8 that have one")
    assert expected in client.get(url(draft)).text
    assert fill(client, draft, targets=True).status_code == 303
    frozen = framework_versions.freeze(session, facilitator, draft[0])
    from docx import Document
    document = Document(io.BytesIO(client.get(f"/frameworks/{frozen.id}/export/docx").content))
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert expected in cells
