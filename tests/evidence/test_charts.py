"""The comparison charts: pure bytes from the comparison document, SVG with its text as text,
PNG for the appendix, the same figures giving the same bytes, and colours that meet 3:1."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg

from codesign.evidence import Observation, PeriodData, charts, compare


def document(period_values: dict[str, float] | None = None) -> dict[str, Any]:
    values = [50.0, 53.33, 56.67, 60.0, 63.33, 66.67, 70.0, 73.33, 76.67, 80.0]
    peers = tuple(Observation(f"P{i:02}", v, count=round(v * 10), denominator=1000, area_name=f"Peer {i}")
                  for i, v in enumerate(values))
    data = {period: PeriodData(Observation("A", value, count=round(value * 20), denominator=2000, area_name="Area A"),
                               Observation("E92000001", 66.0), peers)
            for period, value in (period_values or {"2024": 60.0}).items()}
    return compare("90001", "A", data, "higher", multiplier=100).to_json()


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_each_chart_is_an_svg_with_the_area_labelled_and_the_same_bytes_each_time() -> None:
    ev = document({"2022": 55.0, "2023": 58.0, "2024": 60.0})
    for draw in (charts.peers_chart, charts.funnel_chart, charts.trend_chart):
        svg = draw(ev, "svg")
        assert svg is not None
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        assert "Area A (this area)" in text, draw.__name__
        assert draw(ev, "svg") == svg
        assert draw(ev, "png").startswith(b"\x89PNG\r\n\x1a\n")  # type: ignore[union-attr]
    other = document({"2022": 55.0, "2023": 58.0, "2024": 61.0})
    assert charts.peers_chart(other, "svg") != charts.peers_chart(ev, "svg")


def test_nothing_to_draw_gives_no_chart() -> None:
    ev = document()
    ev["funnel"] = None
    assert charts.funnel_chart(ev) is None
    ev["trend"] = [{"period": "2024", "value": None}]
    assert charts.trend_chart(ev) is None


def test_text_alternatives_say_what_the_charts_show() -> None:
    ev = document({"2023": 58.0, "2024": 60.0})
    assert charts.peers_alt(ev) == ("Bar chart for 2024: Area A 60.0% against 10 similar areas ranging from 50.0% "
                                    "to 80.0%; best-5 mean 73.3%, peer mean 65.0%, England 66.0%.")
    assert charts.funnel_alt(ev).startswith("Funnel plot for 2024: each area's value against its denominator, with "
                                            "95% and 99.8% control limits around the peer mean of 65.0%")
    assert charts.trend_alt(ev) == ("Line chart of Area A from 2023 (58.0%) to 2024 (60.0%), with its 95% intervals, "
                                    "beside the peer mean and England.")


def test_the_colours_meet_3_to_1_on_white_and_the_area_against_its_peers() -> None:
    for colour in (charts.AREA, charts.PEER, charts.BEST, charts.MEAN, charts.ENGLAND):
        assert contrast(colour, "#FFFFFF") >= 3, colour
    assert contrast(charts.AREA, charts.PEER) >= 3


def test_the_funnel_names_the_area_in_its_legend_and_keeps_every_label_inside_the_plot() -> None:
    # The area is the largest and the most extreme, a peer is far out at the right edge: labels
    # written rightwards from those points ran over the limit lines and off the plot.
    peers = tuple(Observation(f"P{i:02}", v, count=round(v * 10), denominator=1000,
                              area_name=f"Peer area with a long name {i}") for i, v in enumerate(range(62, 71)))
    peers += (Observation("P09", 80.0, count=40000, denominator=50000, area_name="Peer area with a long name 9"),)
    data = {"2024": PeriodData(Observation("A", 30.0, count=30000, denominator=100000,
                                           area_name="Area A with a long name too"), None, peers)}
    ev = compare("90001", "A", data, "higher", multiplier=100).to_json()
    assert "P09" in ev["funnel"]["outside"] and "A" in ev["funnel"]["outside"]
    fig = charts.funnel_figure(ev)
    assert fig is not None
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    box = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text()]
    assert [t.get_text() for t in labels] == ["Peer area with a long name 9"]
    for text in labels:
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, text
    legend = ax.get_legend()
    assert legend is not None
    assert "Area A with a long name too (this area)" in [t.get_text() for t in legend.get_texts()]


def test_the_funnel_alternative_says_both_levels_as_the_table_does() -> None:
    ev = document()
    ev["funnel"] = {**ev["funnel"], "outside": [], "outside95": ["A", "P00"]}
    assert charts.funnel_alt(ev).endswith("Outside the 95% limits but within the 99.8% limits: Area A, Peer 0. "
                                          "No area lies outside the 99.8% limits.")
    ev["funnel"] = {**ev["funnel"], "outside": ["P00"], "outside95": ["A", "P00"]}
    assert charts.funnel_alt(ev).endswith("Outside the 99.8% limits: Peer 0. Outside the 95% limits but within the "
                                          "99.8% limits: Area A.")
    ev["funnel"] = {**ev["funnel"], "outside": [], "outside95": []}
    assert charts.funnel_alt(ev).endswith("Every area lies within the 95% limits.")


def test_the_bar_chart_alternative_says_how_many_peers_have_a_figure() -> None:
    ev = document()
    ev["peers"][3]["value"] = None
    ev["peers"][7]["value"] = None
    assert charts.peers_alt(ev).startswith("Bar chart for 2024: Area A 60.0% against 8 of 10 similar areas ranging")


def _texts(svg: bytes | None) -> list[str]:
    assert svg is not None
    return [t.text or "" for t in ET.fromstring(svg).iter() if t.tag.endswith("text")]


def test_an_area_whose_name_ends_in_a_bracket_is_marked_inside_it() -> None:
    # Found in a user trial: "Haringey and Islington (illustrative demo area) (this area)".
    assert charts.this_area("Area A") == "Area A (this area)"
    assert charts.this_area("Haringey (illustrative demo area)") == "Haringey (illustrative demo area; this area)"
    ev = document({"2023": 58.0, "2024": 60.0})
    ev["area_name"] = "Area A (demo)"
    for draw in (charts.peers_chart, charts.funnel_chart, charts.trend_chart):
        text = " ".join(_texts(draw(ev, "svg")))
        assert "Area A (demo; this area)" in text and ") (" not in text, draw.__name__


def test_reference_lines_at_one_value_are_one_line_named_for_both() -> None:
    # The peer mean equal to England's value: drawn apart, England's line hid the peer mean's.
    ev = document()
    ev["national"] = ev["peer_mean"]
    legend = [t for t in _texts(charts.peers_chart(ev, "svg")) if "mean" in t or "England" in t]
    assert legend == ["Best-5 mean 73.3%", "Peer mean and England 65.0%"]
    ev["national"] = 66.0
    legend = [t for t in _texts(charts.peers_chart(ev, "svg")) if "mean" in t or "England" in t]
    assert legend == ["Best-5 mean 73.3%", "Peer mean 65.0%", "England 66.0%"]


def test_the_trend_starts_from_zero_as_the_bars_do() -> None:
    # A rise from 58% to 60% filled the whole height of the chart when the axis began at 57.
    fig = charts.trend_figure(document({"2022": 58.0, "2023": 59.0, "2024": 60.0}))
    assert fig is not None and fig.axes[0].get_ylim()[0] == 0


def test_the_funnel_axis_has_readable_ticks_when_denominators_span_one_power_of_ten() -> None:
    fig = charts.funnel_figure(document())  # denominators 1,000 (peers) and 2,000 (the area)
    assert fig is not None
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    shown = [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    assert len(shown) >= 3 and all(re.fullmatch(r"\d{1,3}(,\d{3})*", t) for t in shown), shown


def test_a_chart_for_print_is_drawn_at_the_width_it_is_printed() -> None:
    # Long area names made the bar chart 8 inches wide, shrunk to the 6.2 of the page: 9 pt text
    # printed at 6.5 pt. Now its width, labels included, is the printed width.
    ev = document()
    for peer in ev["peers"]:
        peer["area_name"] = f"A similar area with quite a long name {peer['area']}"
    png = charts.peers_chart(ev, "png")
    width_px = int.from_bytes(png[16:20], "big")  # the PNG header's width
    assert abs(width_px / charts.PNG_DPI - charts.PRINT_WIDTH_IN) < 0.25, width_px / charts.PNG_DPI
