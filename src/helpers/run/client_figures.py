"""The client report's figures, drawn from the notebooks' metrics.json in the report's language: the
same figures the body's sentences quote, labels from the catalogue, numbers, money and percentages
as ``helpers.run.formats`` writes them. Each is inline SVG with its text kept as text (so it can be
searched and measured), at least MIN_FONT_PT points at the width it is printed."""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable

from matplotlib import style
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from helpers.run import catalogue, formats

MIN_FONT_PT = 8.0
WIDTH_IN = 6.4  # the figure's width, inches: within the A4 page's width inside its margins (174 mm)
TITLE_CHARS = 70  # a title wraps beyond this, so the figure never outgrows the page (and shrinks its text)
STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "svg.fonttype": "none",
    "svg.hashsalt": "client-report",  # the same clip-path ids on every run: a rerun writes the same report
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BLUE, ORANGE, GREY = "#1f4e79", "#d9822b", "#8c8c8c"
MESSAGES = (
    "Share of customers",
    "Share of revenue",
    "Who brings the revenue, by segment",
    "Budget",
    "Expected incremental margin",
    "What each budget earns: the best plan within the limits",
    "Response lift of each past campaign, with its 95% interval (points)",
)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _title(ax: Axes, text: str, language: str) -> None:
    ax.set_title(textwrap.fill(catalogue.gettext(text, language), TITLE_CHARS), loc="left")


def _figure(height_in: float) -> tuple[Figure, Axes]:
    """A figure outside pyplot (a notebook's inline figures are left alone) and its one plot."""
    fig = Figure(figsize=(WIDTH_IN, height_in))
    return fig, fig.subplots()


def segments(metrics: dict, currency: str, language: str) -> str | None:
    """Share of customers and share of revenue of each segment, the largest revenue first."""
    shares = metrics.get("segments")
    if not shares:
        return None
    order = sorted(shares, key=lambda s: shares[s]["revenue_share"])
    with style.context(STYLE):
        fig, ax = _figure(0.35 * len(order) + 0.9)
        rows = range(len(order))
        for offset, key, colour in ((0.2, "customer_share", GREY), (-0.2, "revenue_share", BLUE)):
            label = "Share of customers" if key == "customer_share" else "Share of revenue"
            ax.barh([r + offset for r in rows], [shares[s][key] for s in order], 0.38, color=colour,
                    label=catalogue.gettext(label, language))  # fmt: skip
        ax.set_yticks(list(rows), [catalogue.name(s, language) for s in order])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.percent(v, language)))
        _title(ax, "Who brings the revenue, by segment", language)
        ax.legend(loc="lower right", frameon=False)
        return _svg(fig)


def frontier(metrics: dict, currency: str, language: str) -> str | None:
    """The expected incremental margin of the best plan at each budget (money on both axes)."""
    points = sorted((float(budget), margin) for budget, margin in (metrics.get("frontier") or {}).items())
    if len(points) < 2:
        return None
    money = FuncFormatter(lambda v, _: formats.money(v, currency, language))
    with style.context(STYLE):
        fig, ax = _figure(2.8)
        ax.plot([b for b, _ in points], [m for _, m in points], marker="o", color=BLUE)
        ax.xaxis.set_major_formatter(money)
        ax.yaxis.set_major_formatter(money)
        ax.set_xlabel(catalogue.gettext("Budget", language))
        ax.set_ylabel(catalogue.gettext("Expected incremental margin", language))
        _title(ax, "What each budget earns: the best plan within the limits", language)
        ax.set_ylim(bottom=min(0.0, min(m for _, m in points)))
        return _svg(fig)


def campaigns(metrics: dict, currency: str, language: str) -> str | None:
    """Each past campaign's response lift and its interval; those that hold after Holm's correction in blue."""
    history = metrics.get("history")
    if not history:
        return None
    holding = set(metrics.get("significant_after_holm") or ())
    names = sorted(history)
    with style.context(STYLE):
        fig, ax = _figure(0.24 * len(names) + 0.9)
        for row, name in enumerate(names):
            low, high = history[name]["ci"]
            colour = BLUE if name in holding else GREY
            ax.plot([low, high], [row, row], color=colour, linewidth=2)
            ax.plot([history[name]["incremental_points"]], [row], "o", color=colour)
        ax.axvline(0, color="#444", linewidth=0.8)
        ax.set_yticks(range(len(names)), names)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.number(v, language, 1, sign=True)))
        _title(ax, "Response lift of each past campaign, with its 95% interval (points)", language)
        return _svg(fig)


FIGURES: dict[str, tuple[Callable[[dict, str, str], str | None], ...]] = {
    "20_segment_customers": (segments,),
    "40_plan_channel_mix": (frontier,),
    "50_design_and_read_test": (campaigns,),
}


def _prefixed(svg: str, prefix: str) -> str:
    """``svg`` with every id, and every reference to one, prefixed: unique among the report's figures."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    return re.sub(r'(url\(#|href="#)([^")]+)', rf"\g<1>{prefix}\2", svg)


def figures(stem: str, metrics: dict, currency: str, language: str) -> list[str]:
    """The SVG figures of notebook ``stem``'s section, those its metrics hold the figures of."""
    drawn = [draw(metrics, currency, language) for draw in FIGURES.get(stem, ())]
    return [_prefixed(svg, f"{stem}-{n}-") for n, svg in enumerate(s for s in drawn if s)]
