"""One look for every figure: seaborn's theme, labelled axes with units, money (in the data's currency)
and percent formats.
Each function draws on a new or given Axes and returns nothing, so a notebook never shows a repr.
pyplot and seaborn (with scipy.stats, about a second together) are imported when the first figure is
drawn: a notebook's import cell, setting the theme, pays for matplotlib's settings alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
import pandas as pd
from matplotlib.rcsetup import cycler
from matplotlib.ticker import FuncFormatter, PercentFormatter

from helpers import tables
from helpers.run.formats import money

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.typing import RcKeyType

# seaborn's theme ``set_theme(style="whitegrid", context="notebook", palette="deep")`` (seaborn 0.13) as
# matplotlib settings, so that setting it needs no seaborn; tests/test_startup.py checks it against seaborn's.
# One setting is left out: ``image.cmap: rocket`` names a colormap seaborn registers on import (no figure
# relies on the default colormap: each heat map names its own).
DEEP = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
SEABORN_THEME: dict[RcKeyType, object] = {
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.facecolor": "white", "axes.grid": True,
    "axes.labelcolor": ".15", "axes.labelsize": 12, "axes.linewidth": 1.25, "axes.titlesize": 12,
    "axes.spines.bottom": True, "axes.spines.left": True, "axes.spines.right": True, "axes.spines.top": True,
    "axes.prop_cycle": cycler(color=[mpl.colors.to_rgb(color) for color in DEEP]),
    "figure.facecolor": "white", "text.color": ".15", "font.family": ["sans-serif"], "font.size": 12,
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "grid.color": ".8", "grid.linestyle": "-", "grid.linewidth": 1, "legend.fontsize": 11, "legend.title_fontsize": 12,
    "lines.linewidth": 1.5, "lines.markersize": 6, "lines.solid_capstyle": "round",
    "patch.edgecolor": "w", "patch.force_edgecolor": True, "patch.linewidth": 1,
    "xtick.bottom": False, "xtick.top": False, "xtick.color": ".15", "xtick.direction": "out", "xtick.labelsize": 11,
    "xtick.major.size": 6, "xtick.major.width": 1.25, "xtick.minor.size": 4, "xtick.minor.width": 1,
    "ytick.left": False, "ytick.right": False, "ytick.color": ".15", "ytick.direction": "out", "ytick.labelsize": 11,
    "ytick.major.size": 6, "ytick.major.width": 1.25, "ytick.minor.size": 4, "ytick.minor.width": 1,
}  # fmt: skip
# seaborn's colour codes: "b", "g", "r", "m", "y", "c" draw its six-colour deep palette, "k" a near black
COLOR_CODES = dict(
    zip("bgrmyck", [*(mpl.colors.to_rgb(DEEP[i]) for i in (0, 2, 3, 4, 8, 9)), (0.1, 0.1, 0.1)], strict=True)
)


def set_theme() -> None:
    """The project's look for figures and tables (call once per notebook): seaborn's theme (without
    importing seaborn), dates on axes written as briefly as they stay clear, and every table displayed
    through ``helpers.tables``."""
    mpl.rcParams.update(SEABORN_THEME)
    named = mpl.colors.get_named_colors_mapping()
    for code, rgb in COLOR_CODES.items():
        named[code] = rgb  # item by item: matplotlib's colour cache is cleared on each
    mpl.rcParams.update(
        {"figure.figsize": (7.5, 4.2), "figure.dpi": 90, "axes.titleweight": "bold", "date.converter": "concise"}
    )
    tables.use()


def money_axis(axis: Axis, currency: str) -> None:
    """Tick labels in ``currency`` (ISO code) with its symbol, as an English reader writes them (``£1,200``)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: money(v, currency, "en")))


def _axes(ax: Axes | None) -> Axes:
    """``ax``, or the Axes of a new figure."""
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.subplots()[1]


def pareto(curve: pd.DataFrame, ax: Axes | None = None) -> None:
    """Lorenz-style Pareto curve with the 80/20 rule of thumb marked."""
    ax = _axes(ax)
    ax.plot(curve.customer_share, curve.revenue_share, lw=2.5, label="this customer base")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="every customer equal")
    ax.scatter([0.2], [0.8], color="crimson", zorder=3, label="80/20 rule of thumb")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(xlabel="customers, best first (%)", ylabel="share of revenue (%)", title="Pareto curve")
    ax.legend(loc="lower right")


def heatmap_share(table: pd.DataFrame, title: str, ax: Axes | None = None) -> None:
    """A table of shares (0-1) as an annotated heat map."""
    import seaborn as sns

    ax = _axes(ax)
    sns.heatmap(table, annot=True, fmt=".0%", cmap="Blues", cbar=False, ax=ax, annot_kws={"size": 8})
    ax.set_title(title)


def histogram(
    values: pd.Series, xlabel: str, title: str, bins: int = 60, clip: float | None = None, ax: Axes | None = None
) -> None:
    """Histogram of ``values`` (optionally clipped at ``clip`` for readability)."""
    import seaborn as sns

    ax = _axes(ax)
    sns.histplot(values.clip(upper=clip) if clip else values, bins=bins, ax=ax)
    ax.set(xlabel=xlabel, ylabel="count", title=title)


def bars(
    df: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    xlabel: str,
    ylabel: str,
    hue: str | None = None,
    percent: bool = False,
    ax: Axes | None = None,
) -> None:
    """Bar chart with labelled axes; ``percent`` formats the y axis as a share. Several rows per bar: their
    mean, with a 95% bootstrap interval drawn with a fixed seed (the same figure at every run)."""
    import seaborn as sns

    ax = _axes(ax)
    sns.barplot(data=df, x=x, y=y, hue=hue, ax=ax, seed=0)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)


def monthly_revenue(monthly: pd.DataFrame, currency: str, ax: Axes | None = None) -> None:
    """Revenue per month (columns month, revenue, in ``currency``) as a line."""
    ax = _axes(ax)
    ax.plot(monthly.month, monthly.revenue, lw=2)
    money_axis(ax.yaxis, currency)
    ax.set(xlabel="month", ylabel=f"revenue ({currency})", title="Revenue by month: sales and Black Friday peaks")


def lines(
    df: pd.DataFrame,
    x: str,
    ys: dict[str, str],
    title: str,
    xlabel: str,
    ylabel: str,
    marker: str | None = "o",
    currency: str | None = None,
    ax: Axes | None = None,
) -> None:
    """One line per column in ``ys`` (column -> legend label) against ``x``; ``currency`` (ISO code):
    the y axis is money in it."""
    ax = _axes(ax)
    for column, label in ys.items():
        ax.plot(df[x], df[column], marker=marker, lw=2, label=label)
    if currency:
        money_axis(ax.yaxis, currency)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()


def heatmap_counts(table: pd.DataFrame, title: str, ax: Axes | None = None) -> None:
    """A table of counts as an annotated heat map (thousands separated)."""
    import seaborn as sns

    ax = _axes(ax)
    sns.heatmap(table, annot=True, fmt=",d", cmap="Blues", cbar=False, ax=ax, annot_kws={"size": 8})
    ax.set_title(title)


def shares_by_group(
    df: pd.DataFrame, group: str, shares: dict[str, str], title: str, xlabel: str, ax: Axes | None = None
) -> None:
    """Side-by-side bars of several shares (columns -> legend labels) per group, as percentages."""
    import seaborn as sns

    ax = _axes(ax)
    long = df.melt(id_vars=group, value_vars=list(shares), var_name="measure", value_name="share")
    long["measure"] = long.measure.map(shares)
    sns.barplot(data=long, x=group, y="share", hue="measure", ax=ax)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.tick_params(axis="x", rotation=30)
    ax.set(xlabel=xlabel, ylabel="share (%)", title=title)


def effects(
    df: pd.DataFrame,
    label: str,
    estimate: str,
    low: str,
    high: str,
    title: str,
    xlabel: str,
    ax: Axes | None = None,
    truth: str | None = None,
) -> None:
    """Horizontal estimates with their intervals (one row per ``label``), a zero line for reference,
    and the true value as a cross when ``truth`` names a column."""
    ax = _axes(ax)
    y = range(len(df))
    ax.errorbar(
        df[estimate],
        list(y),
        xerr=[df[estimate] - df[low], df[high] - df[estimate]],
        fmt="o",
        capsize=4,
        label="estimate, 95% interval",
    )
    if truth:
        ax.scatter(df[truth], list(y), marker="x", s=60, color="firebrick", zorder=3, label="truth")
        ax.legend(loc="best")
    ax.axvline(0, color="grey", ls="--")
    ax.set_yticks(list(y), df[label])
    ax.set(xlabel=xlabel, title=title)
