"""Charts of an indicator comparison: the peers as bars, the funnel plot and the trend.

Pure: the comparison document in (`Comparison.to_json()`, as a frozen snapshot keeps it under
`indicator_data`), image bytes out: SVG for the web page, PNG for the DOCX and PDF appendix.
matplotlib's object API with the Agg canvas (no pyplot, no display, no global figure state), so
two requests can draw at once. Every chart has a text alternative (`*_alt`) saying what it shows,
and the pages and documents put the same numbers in a table beside it.

Colours are from the NHS identity palette, each at least 3:1 against white and the area's against
the peers' (WCAG 1.4.11); colour is never the only cue: the area is labelled "(this area)", and
each reference line has its own dash pattern and a label.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Format = Literal["svg", "png"]
AREA = "#003087"  # NHS Dark Blue: 11.8:1 on white, 3.5:1 against the peers' Mid Grey
PEER = "#768692"  # NHS Mid Grey: 3.7:1 on white
BEST = "#7C2855"  # NHS Dark Pink: the best-5 mean
MEAN = "#425563"  # NHS Dark Grey: the peer mean and the control limits
ENGLAND = "#006747"  # NHS Dark Green
INK = "#212B32"
UNITS = {100.0: "%", 1_000.0: "per 1,000", 10_000.0: "per 10,000", 100_000.0: "per 100,000"}
PNG_DPI = 150
PRINT_WIDTH_IN = 6.2  # the appendix's charts: 16 cm in the DOCX, 94% of the PDF's text width
PRINT_TIGHT_IN = PRINT_WIDTH_IN - 0.2  # what is drawn, within savefig's 0.1 in padding each side


@lru_cache(maxsize=1)
def _mpl() -> SimpleNamespace:
    """matplotlib, imported and set up when the first chart is drawn: half a second that every
    server and worker process paid at start, for pages few of them show."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    # Text as text in the SVG (smaller, selectable, read by the browser's fonts); ids and output
    # fixed, so the same comparison always gives the same bytes.
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "codesign-evidence",
                                "font.family": "sans-serif",
                                "font.sans-serif": ["Liberation Sans", "Arial", "DejaVu Sans"], "font.size": 9})
    return SimpleNamespace(Figure=Figure, Canvas=FigureCanvasAgg, NullLocator=NullLocator, LogLocator=LogLocator,
                           FuncFormatter=FuncFormatter)


def unit(evidence: Mapping[str, Any]) -> str:
    return UNITS.get(float(evidence.get("multiplier") or 0), "")


def fmt_value(value: object, evidence: Mapping[str, Any]) -> str:
    if value is None:
        return "no value"
    u = unit(evidence)
    return f"{float(str(value)):.1f}{u}" if u == "%" else f"{float(str(value)):.1f}" + (f" {u}" if u else "")


def area_name(evidence: Mapping[str, Any], code: str) -> str:
    if code == evidence.get("area"):
        return str(evidence.get("area_name") or code)
    found: Mapping[str, Any] = next((p for p in evidence.get("peers") or [] if p.get("area") == code), {})
    return str(found.get("area_name") or code)


def this_area(label: str) -> str:
    """An area's label marked as the area compared: "Area A (this area)", but inside a bracket the
    label already ends with, "Haringey (illustrative demo area; this area)", not two in a row."""
    return f"{label[:-1]}; this area)" if label.endswith(")") else f"{label} (this area)"


def _save(fig: Figure, fmt: Format) -> bytes:
    canvas = _mpl().Canvas(fig)
    if fmt == "png":
        # Printed at the text's width: drawn that wide, labels and all, its text prints at the
        # size set (9 pt), not shrunk to 6.5 pt with a picture wider than the page.
        # Labels and legend do not shrink with the figure, so the drawn width follows the figure's
        # at less than one to one: found in a few secant steps.
        before: tuple[float, float] | None = None
        for _ in range(5):
            width, drawn = fig.get_figwidth(), fig.get_tightbbox(canvas.get_renderer()).width
            if abs(drawn - PRINT_TIGHT_IN) < 0.05:
                break
            slope = (drawn - before[1]) / (width - before[0]) if before and width != before[0] else 1.0
            before = (width, drawn)
            fig.set_figwidth(max(3.0, width + (PRINT_TIGHT_IN - drawn) / max(slope, 0.2)))
    out = io.BytesIO()
    if fmt == "svg":
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    else:
        fig.savefig(out, format="png", dpi=PNG_DPI, metadata={"Software": None}, bbox_inches="tight")
    return out.getvalue()


def _axis_label(evidence: Mapping[str, Any]) -> str:
    u = unit(evidence)
    return f"Value ({u})" if u else "Value"


def _peers_chart(evidence: Mapping[str, Any], fmt: Format) -> bytes:
    """Horizontal bars, best first: the area (dark blue, labelled) among its peers (grey), with
    the best-5 mean, the peer mean and England as labelled vertical lines."""
    rows = [(p["area"], p.get("value")) for p in evidence.get("peers") or [] if p.get("value") is not None]
    if evidence.get("value") is not None:
        rows.append((evidence["area"], evidence["value"]))
    rows.sort(key=lambda r: (float(r[1]), r[0]), reverse=evidence.get("direction") == "higher")
    rows.reverse()  # barh draws from the bottom: the best ends on top
    fig = _mpl().Figure(figsize=(7.0, 0.3 * len(rows) + 1.6))
    ax = fig.add_subplot()
    # Long names on two lines: on one, they took the width the bars need.
    labels = [textwrap.fill(this_area(area_name(evidence, code)) if code == evidence["area"]
                            else area_name(evidence, code), 34) for code, _ in rows]
    colours = [AREA if code == evidence["area"] else PEER for code, _ in rows]
    ax.barh(range(len(rows)), [float(v) for _, v in rows], color=colours, height=0.7)
    ax.set_yticks(range(len(rows)), labels=labels)
    for tick, (code, _) in zip(ax.get_yticklabels(), rows, strict=True):
        if code == evidence["area"]:
            tick.set_fontweight("bold")
    for value, (label, colour, style) in _reference_lines(evidence).items():
        ax.axvline(value, color=colour, linestyle=style, linewidth=1.6, label=f"{label} {fmt_value(value, evidence)}")
    ax.set_xlabel(_axis_label(evidence))
    height = fig.get_figheight() * 0.77  # about the axes' share of the figure, in inches
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / height), ncols=3, frameon=False)
    ax.set_title(f"{evidence.get('period', '')}: {'higher' if evidence.get('direction') == 'higher' else 'lower'} "
                 "is better", fontsize=9, loc="left", color=INK)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, fmt)


def _reference_lines(evidence: Mapping[str, Any]) -> dict[float, tuple[str, str, str]]:
    """The best-5 mean, peer mean and England lines: (label, colour, dash pattern) by value. Lines
    at one value (as shown, to one decimal) are one line named for both ("Peer mean and England"):
    drawn apart, the last one hid the others."""
    lines: dict[float, tuple[str, str, str]] = {}
    shown: dict[str, float] = {}
    for key, label, colour, style in (("best5_mean", "Best-5 mean", BEST, "--"), ("peer_mean", "Peer mean", MEAN, ":"),
                                      ("national", "England", ENGLAND, "-.")):
        if evidence.get(key) is None:
            continue
        value = float(evidence[key])
        same = shown.setdefault(fmt_value(value, evidence), value)
        if same in lines:
            named, first_colour, first_style = lines[same]
            lines[same] = (f"{named} and {label[0].lower() + label[1:] if label != 'England' else label}",
                           first_colour, first_style)
        else:
            lines[value] = (label, colour, style)
    return lines


def peers_alt(evidence: Mapping[str, Any]) -> str:
    peers = evidence.get("peers") or []
    values = [float(p["value"]) for p in peers if p.get("value") is not None]
    spread = (f" ranging from {fmt_value(min(values), evidence)} to {fmt_value(max(values), evidence)}"
              if values else "")
    # Peers with no figure for the period are not drawn: say how many of them are.
    among = f"{len(values)} of {len(peers)}" if len(values) < len(peers) else f"{len(values)}"
    return (f"Bar chart for {evidence.get('period', '')}: {area_name(evidence, evidence['area'])} "
            f"{fmt_value(evidence.get('value'), evidence)} against {among} similar areas{spread}; "
            f"best-5 mean {fmt_value(evidence.get('best5_mean'), evidence)}, peer mean "
            f"{fmt_value(evidence.get('peer_mean'), evidence)}"
            + (f", England {fmt_value(evidence['national'], evidence)}" if evidence.get("national") is not None
               else "") + ".")


def _funnel_chart(evidence: Mapping[str, Any], fmt: Format) -> bytes | None:
    fig = funnel_figure(evidence)
    return None if fig is None else _save(fig, fmt)


def funnel_figure(evidence: Mapping[str, Any]) -> Figure | None:
    """Each area's value against its denominator, with 95% (dashed) and 99.8% (solid) control
    limits around the peer mean; the area is a diamond named in the legend, peers outside 99.8%
    are labelled beside their points, towards the middle."""
    funnel = evidence.get("funnel")
    if not funnel or not funnel.get("limits"):
        return None
    fig: Figure = _mpl().Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    limits = funnel["limits"]
    xs = [float(x["denominator"]) for x in limits]
    for key, style, label in (("95", "--", "95% limits"), ("998", "-", "99.8% limits")):
        ax.plot(xs, [float(x[f"upper{key}"]) for x in limits], color=MEAN, linestyle=style, linewidth=1.2,
                label=label)
        ax.plot(xs, [float(x[f"lower{key}"]) for x in limits], color=MEAN, linestyle=style, linewidth=1.2)
    ax.axhline(float(funnel["centre"]), color=BEST, linestyle=":", linewidth=1.4,
               label=f"Peer mean {fmt_value(funnel['centre'], evidence)}")
    peers = [p for p in evidence.get("peers") or [] if p.get("value") is not None and p.get("denominator")]
    ax.scatter([float(p["denominator"]) for p in peers], [float(p["value"]) for p in peers], color=PEER, s=30,
               marker="o", label="Similar areas", zorder=3)
    outside = set(funnel.get("outside") or [])
    # The area is named in the legend (its diamond), not beside its point: a label there ran over
    # the limit lines and off the plot when the area was the largest or the most extreme.
    if evidence.get("value") is not None and evidence.get("denominator"):
        point = (float(evidence["denominator"]), float(evidence["value"]))
        ax.scatter([point[0]], [point[1]], color=AREA, s=70, marker="D", zorder=4,
                   label=this_area(area_name(evidence, evidence["area"])))
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    middle = (low * high) ** 0.5  # the middle of a log axis
    for p in peers:
        if p["area"] in outside:
            # Written towards the middle of the plot, so a label never runs off its edge.
            right = float(p["denominator"]) > middle
            ax.annotate(area_name(evidence, p["area"]), (float(p["denominator"]), float(p["value"])),
                        textcoords="offset points", xytext=(-5 if right else 5, 4), fontsize=8, color=INK,
                        ha="right" if right else "left")
    # Ticks written out ("20,000"): at 1, 2 and 5 of each power of ten over a wide range, and at
    # round numbers over a narrow one (denominators often span less than a power of ten, which
    # left two ticks on the axis).
    subs = (1.0, 2.0, 5.0) if high / low >= 10 else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
    ax.xaxis.set_major_locator(_mpl().LogLocator(base=10, subs=subs, numticks=12))
    ax.xaxis.set_major_formatter(_mpl().FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
    ax.xaxis.set_minor_locator(_mpl().NullLocator())  # minor log ticks would be most of the drawing time
    ax.set_xlabel("Denominator (people counted)")
    ax.set_ylabel(_axis_label(evidence))
    # Two columns: the area's name can be long, and a legend wider than the plot squeezes it.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def funnel_alt(evidence: Mapping[str, Any]) -> str:
    funnel = evidence.get("funnel") or {}
    return (f"Funnel plot for {evidence.get('period', '')}: each area's value against its denominator, with 95% "
            f"and 99.8% control limits around the peer mean of {fmt_value(funnel.get('centre'), evidence)}"
            + (" (widened for over-dispersion)" if funnel.get("overdispersed") else "") + ". "
            + _outside_text(evidence, funnel))


def _outside_text(evidence: Mapping[str, Any], funnel: Mapping[str, Any]) -> str:
    """Both levels, as the table does: an area outside 95% but inside 99.8% is said to be so."""
    out998 = [area_name(evidence, c) for c in funnel.get("outside") or []]
    out95 = [area_name(evidence, c) for c in funnel.get("outside95") or [] if c not in (funnel.get("outside") or [])]
    if not out998 and not out95:
        return "Every area lies within the 95% limits."
    parts = []
    if out998:
        parts.append(f"Outside the 99.8% limits: {', '.join(out998)}.")
    if out95:
        parts.append(f"Outside the 95% limits but within the 99.8% limits: {', '.join(out95)}.")
    if not out998:
        parts.append("No area lies outside the 99.8% limits.")
    return " ".join(parts)


def _trend_chart(evidence: Mapping[str, Any], fmt: Format) -> bytes | None:
    fig = trend_figure(evidence)
    return None if fig is None else _save(fig, fmt)


def trend_figure(evidence: Mapping[str, Any]) -> Figure | None:
    """The area's value by period with its 95% interval, beside the peer mean and England."""
    trend = [t for t in evidence.get("trend") or []]
    if not any(t.get("value") is not None for t in trend):
        return None
    fig: Figure = _mpl().Figure(figsize=(7.0, 3.6))
    ax = fig.add_subplot()
    periods = [str(t["period"]) for t in trend]
    series = (("value", this_area(area_name(evidence, evidence["area"])), AREA, "-", "D"),
              ("peer_mean", "Peer mean", PEER, "--", "s"), ("national", "England", ENGLAND, ":", "^"))
    for key, label, colour, style, marker in series:
        points = [(i, float(t[key])) for i, t in enumerate(trend) if t.get(key) is not None]
        if points:
            ax.plot([i for i, _ in points], [v for _, v in points], color=colour, linestyle=style, marker=marker,
                    linewidth=1.8, label=label)
    bars = [(i, float(t["value"]), float(t["lower_ci95"]), float(t["upper_ci95"])) for i, t in enumerate(trend)
            if t.get("value") is not None and t.get("lower_ci95") is not None and t.get("upper_ci95") is not None]
    if bars:
        ax.errorbar([b[0] for b in bars], [b[1] for b in bars],
                    yerr=[[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]], fmt="none", ecolor=AREA,
                    capsize=3, linewidth=1)
    ax.set_xticks(range(len(periods)), labels=periods)
    low = min((v for t in trend for k in ("value", "peer_mean", "national", "lower_ci95")
               if (v := _number(t.get(k))) is not None), default=0.0)
    if low >= 0:
        ax.set_ylim(bottom=0)  # from zero, as the bar chart: a change of 2 points is not drawn as a cliff
    ax.set_ylabel(_axis_label(evidence))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


def trend_alt(evidence: Mapping[str, Any]) -> str:
    trend = [t for t in evidence.get("trend") or [] if t.get("value") is not None]
    if not trend:
        return "No trend: the area has no values."
    first, last = trend[0], trend[-1]
    return (f"Line chart of {area_name(evidence, evidence['area'])} from {first['period']} "
            f"({fmt_value(first['value'], evidence)}) to {last['period']} ({fmt_value(last['value'], evidence)}), "
            f"with its 95% intervals, beside the peer mean and England.")


_DRAW: dict[str, Callable[[Mapping[str, Any], Format], bytes | None]] = {
    "peers": _peers_chart, "funnel": _funnel_chart, "trend": _trend_chart}
CACHED = 96  # charts kept in memory: the same figures always draw the same bytes


@lru_cache(maxsize=CACHED)
def _drawn(kind: str, fmt: Format, document: str) -> bytes | None:
    return _DRAW[kind](json.loads(document), fmt)


def _chart(kind: str, evidence: Mapping[str, Any], fmt: Format) -> bytes | None:
    """Drawing takes a few hundred milliseconds a chart; a page seen again (or the same frozen
    figures exported again) reuses the bytes, keyed by the figures themselves."""
    return _drawn(kind, fmt, json.dumps(evidence, sort_keys=True, default=str))


def peers_chart(evidence: Mapping[str, Any], fmt: Format = "svg") -> bytes:
    drawn = _chart("peers", evidence, fmt)
    assert drawn is not None  # a bar chart is always drawn, if only of the area
    return drawn


def funnel_chart(evidence: Mapping[str, Any], fmt: Format = "svg") -> bytes | None:
    return _chart("funnel", evidence, fmt)


def trend_chart(evidence: Mapping[str, Any], fmt: Format = "svg") -> bytes | None:
    return _chart("trend", evidence, fmt)
