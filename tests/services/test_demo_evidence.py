"""The demo's illustrative indicator data: 6 indicators, the demo area and 10 peers, 5 periods, marked."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session, select

from codesign import queries
from codesign.library import indicator_library
from codesign.models import IndicatorValue
from codesign.services.demo import DEMO_AREA, DEMO_EVIDENCE, seed_demo_evidence


def test_the_demo_data_loads_and_compares(session: Session) -> None:
    seed_demo_evidence(session, None)
    seed_demo_evidence(session, None)  # twice: updated, never duplicated
    values = list(session.exec(select(IndicatorValue)))
    assert len(values) == 6 * 12 * 5
    assert all("not a real statistic" in v.value_note for v in values)
    groups = queries.list_peer_groups(session)
    assert [(g.area_code, len(g.peers)) for g in groups] == [(DEMO_AREA, 10)]
    for indicator in sorted({v.indicator_id for v in values}):
        assert indicator in indicator_library()  # linked by library key, so direction and unit are known
        result = queries.get_comparison(session, indicator, DEMO_AREA)
        assert result.period == "2024/25" and len(result.trend) == 5
        assert result.opportunity is not None and result.opportunity > 0  # the demo area has room to improve
        assert result.funnel is not None and result.national is not None


def test_the_demo_file_says_it_is_illustrative() -> None:
    text = (DEMO_EVIDENCE / "demo_indicators.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["Area Code"] for r in rows} == {DEMO_AREA, "E92000001"} | {f"DEMO-P{i:02}" for i in range(1, 11)}
    assert all("illustrative" in r["Indicator Name"].lower() for r in rows)
    assert "NOT REAL STATISTICS" in (DEMO_EVIDENCE / "README.md").read_text(encoding="utf-8")


def test_the_demo_framework_links_its_definitions_to_the_data_and_keeps_them_frozen(session: Session) -> None:
    from codesign.models import FrameworkVersion, VersionStatus
    from codesign.services.demo import seed_demo

    seed_demo(session)
    frozen = session.exec(select(FrameworkVersion).where(FrameworkVersion.status == VersionStatus.frozen)).one()
    _version, snapshot = queries.get_snapshot(session, frozen.id or 0)
    linked = [o for o in snapshot["outcomes"] if o.get("indicator_data")]
    assert len(linked) >= 2  # the newcomer sees charts on more than one definition
    for o in linked:
        data, definition = o["indicator_data"], o["definition"]
        assert data["available"] and data["illustrative"] and data["area"] == DEMO_AREA
        assert definition["evidence_area"] == DEMO_AREA and definition["evidence_indicator"] == data["indicator"]
        # The baseline and the comparator came from the data, marked illustrative.
        assert definition["baseline_period"] == data["period"] == "2024/25"
        assert float(definition["baseline_value"]) == round(data["value"], 1)
        assert "ILLUSTRATIVE" in definition["baseline_source"] and "DEMO-P01" in definition["comparator"]
        # Targets reach the best-5 mean by the final year.
        assert float(definition["targets"][-1]["value"]) == round(data["best5_mean"], 1)
