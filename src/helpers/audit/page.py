"""The audit's report: the summary table as a markdown page and a figure of the share of the
oracle's value each strategy captures (mean and 95% interval over seeds), beside the JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.audit.coverage import coverage_summary  # noqa: E402
from helpers.audit.summary import checks_summary, run_audit, summarise, write_json  # noqa: E402
from helpers.audit.worlds import Variant  # noqa: E402
from helpers.paths import REPORTS_DIR, SYNTHETIC_DIR  # noqa: E402

COLUMNS = [
    "decision",
    "strategy",
    "value",
    "share_of_oracle",
    "share_low",
    "share_high",
    "regret",
    "played_share_of_oracle",
]


def markdown_table(frame: pd.DataFrame) -> str:
    """A frame as a GitHub markdown table (numbers as printed by pandas)."""
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def markdown(table: pd.DataFrame, checks: pd.DataFrame, held: pd.DataFrame, meta: dict) -> str:
    """The page: one table per variant (value in EUR, share of the oracle with its interval, regret
    in EUR), the next best offer's sleeping-dog check per variant, and the coverage of each kind of
    reported interval (``held``, ``coverage.coverage_summary``)."""
    lines = [
        "# Decision audit against the truth",
        "",
        f"{meta['seeds']} seeds per variant; {meta['wall_s']:,.0f} s. Value: the plan's expected incremental "
        "margin given the truth (EUR, before the play's draws; next best offer over 8 weeks, contact plan over 3 "
        "monthly campaigns; for the scenario set the true margin of its triggered messages over 26 weeks); for the CLV "
        "ranking, the true 52-week value of its top decile (EUR); for the segment order, the true 52-week value of the "
        "customers a win-back campaign the size of its first two segments reaches (EUR). Share: value / "
        "the oracle's on the same seed, mean and 95% interval over seeds; played share: the same with the played "
        "(realised) margins, play noise included. Regret: the oracle's value minus the strategy's (EUR).",
        "",
    ]
    for variant, rows in table.groupby("variant", sort=False):
        lines += [f"## {variant}", "", markdown_table(rows[COLUMNS]), ""]
    lines += ["## Sleeping dogs left alone (next best offer)", "", markdown_table(checks), ""]
    lines += [
        "## Coverage of reported intervals",
        "",
        "Share of the intervals the notebooks report that hold their truth, over seeds, beside the level they claim.",
        "",
        markdown_table(held),
        "",
    ]
    return "\n".join(lines)


def figure(table: pd.DataFrame, path: Path, floor: float = -1.5) -> None:
    """Share of the oracle's value per decision and strategy (the first variant), with intervals,
    each end clipped at ``floor`` (a mass send loses several times the oracle's value)."""
    rows = table[(table.variant == table.variant.iloc[0]) & (table.strategy != "oracle")]
    mean, low, high = (rows[c].clip(lower=floor) for c in ("share_of_oracle", "share_low", "share_high"))
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.4))
    ax.errorbar(mean, range(len(rows)), xerr=[mean - low, high - mean], fmt="o")
    ax.set_yticks(range(len(rows)), rows.decision + ": " + rows.strategy)
    ax.axvline(0, color="grey", lw=0.8)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xlim(floor - 0.05, 1.1)
    ax.set_xlabel(f"share of the oracle's value (1: as good as the truth; clipped at {floor})")
    ax.set_title(f"Decision audit, {rows.variant.iloc[0]} world (95% interval over seeds)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def audit_report(
    variants: list[Variant],
    seeds: int,
    out: Path = REPORTS_DIR / "audit",
    root: Path = SYNTHETIC_DIR,
    world: dict | None = None,
) -> pd.DataFrame:
    """Run the audit and write ``out``/audit.json, audit.md and audit.png; returns the summary table."""
    start = time.perf_counter()
    rows, checks = run_audit(variants, seeds, root, world=world)
    table = summarise(rows)
    meta = {
        "seeds": seeds,
        "variants": [v.name for v in variants],
        "world": {k: str(v) for k, v in (world or {}).items()},
        "wall_s": round(time.perf_counter() - start, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "audit.json", table, checks, meta)
    rows.to_csv(out / "audit_rows.csv", index=False)
    (out / "audit_checks.json").write_text(json.dumps(checks, default=float) + "\n")
    (out / "audit.md").write_text(markdown(table, checks_summary(checks), coverage_summary(checks), meta))
    figure(table, out / "audit.png")
    return table
