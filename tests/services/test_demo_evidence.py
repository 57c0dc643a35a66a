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
