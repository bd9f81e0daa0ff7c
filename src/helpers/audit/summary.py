"""The audit: every decision on every world variant over K seeds, gathered into one table per
decision and strategy (share of the oracle's value captured and regret in EUR, each with a 95%
interval over seeds), written to JSON so that a change that makes a decision worse shows up."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from helpers.audit import coverage, decisions, scenarios, win_back
from helpers.audit.worlds import AuditInputError, Variant, variant_world
from helpers.paths import SYNTHETIC_DIR
from helpers.run.notebook import world_data

DEFAULT_SEEDS = 20


def audit_seed(
    variant: Variant, seed: int, root: Path = SYNTHETIC_DIR, world: dict | None = None
) -> tuple[list[dict], dict]:
    """Every decision on ``variant``'s world for ``seed``: rows (variant, seed, decision, strategy,
    scores; the oracle's value beside each) and the truth checks (the next best offer's, the CLV's,
    and whether each reported interval holds its truth). The value of a plan is its expected
    incremental margin given the truth (EUR, before the play's draws, so free of play noise;
    intrusion losses are only in the played figure), that of a CLV ranking the true 52-week value of
    its top decile (EUR), that of a segment order the true value of the customers it reaches (EUR),
    that of a scenario set the true margin of its messages (EUR)."""
    w = variant_world(variant, seed, root, **(world or {}))
    data = world_data(w)
    learned = decisions.learn(w, data, seed)
    offers, uplift_checks = decisions.next_best_offer(w, learned, seed)
    clv_rows, clv_checks = decisions.clv_ranking(w, data)
    scenario_rows, scenario_held = scenarios.scenario_set(w, data, seed)
    tables = {
        "next best offer": (offers, "expected_eur"),
        "contact plan": (decisions.contact_plan(w, data, learned, seed), "expected_eur"),
        "CLV ranking": (clv_rows, "top_decile_true_eur"),
        "segment order": (win_back.segment_order(w, data), "reached_true_eur"),
        "scenario set": (scenario_rows, "true_margin_eur"),
    }
    held = {
        **coverage.test_readout_held(w, data, seed),
        **coverage.clv_total_held(w, seed),
        "scenario holdout readout, revenue": scenario_held,
    }
    checks = {"variant": variant.name, "seed": seed, **uplift_checks, **clv_checks, "coverage": held}
    return _rows(variant.name, seed, tables), checks


def _rows(variant: str, seed: int, tables: dict[str, tuple[list[dict], str]]) -> list[dict]:
    """One row per decision and strategy, its value (the column named beside each table) and the oracle's."""
    rows = []
    for decision, (table, value) in tables.items():
        best = next((r for r in table if r["strategy"] == "oracle"), None)
        if best is None:  # nothing to decide on this world (no customer in a win-back segment)
            continue
        for r in table:
            rows.append(
                {
                    "variant": variant,
                    "seed": seed,
                    "decision": decision,
                    **r,
                    "value": r[value],
                    "oracle_value": best[value],
                    "oracle_played_eur": best.get("played_eur", np.nan),
                }
            )
    return rows


def run_audit(
    variants: list[Variant],
    seeds: int = DEFAULT_SEEDS,
    root: Path = SYNTHETIC_DIR,
    progress: Callable[[str], None] = print,
    world: dict | None = None,
) -> tuple[pd.DataFrame, list[dict]]:
    """``audit_seed`` for seeds 1..``seeds`` on every variant (``world`` overrides every variant's
    world parameters, e.g. n_customers): all rows, and the truth checks."""
    if seeds < 1:
        raise AuditInputError(f"seeds must be at least 1, got {seeds}.")
    rows, checks = [], []
    for variant in variants:
        for seed in range(1, seeds + 1):
            start = time.perf_counter()
            seed_rows, seed_checks = audit_seed(variant, seed, root, world)
            rows += seed_rows
            checks.append(seed_checks)
            progress(f"{variant.name}, seed {seed}: {time.perf_counter() - start:.0f} s")
    return pd.DataFrame(rows), checks


def interval(values: pd.Series, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and its ``level`` t interval over seeds (the mean twice for a single seed)."""
    x = values.dropna().to_numpy(float)
    mean = float(x.mean()) if len(x) else float("nan")
    if len(x) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per variant, decision and strategy: mean value (EUR), share of the oracle's value captured
    and regret (EUR), each with its 95% interval over seeds, the share of the oracle's played
    value (with the play's noise), and the number of seeds."""
    out = []
    for (variant, decision, strategy), g in rows.groupby(["variant", "decision", "strategy"], sort=False):
        share = g.value / g.oracle_value.where(g.oracle_value != 0)
        (s, s_lo, s_hi), (r, r_lo, r_hi) = interval(share), interval(g.oracle_value - g.value)
        played = (g.played_eur / g.oracle_played_eur.where(g.oracle_played_eur != 0)) if "played_eur" in g else share
        out.append(
            {
                "variant": variant,
                "decision": decision,
                "strategy": strategy,
                "seeds": len(g),
                "value": round(float(g.value.mean()), 1),
                "share_of_oracle": round(s, 4),
                "share_low": round(s_lo, 4),
                "share_high": round(s_hi, 4),
                "regret": round(r, 1),
                "regret_low": round(r_lo, 1),
                "regret_high": round(r_hi, 1),
                "played_share_of_oracle": round(float(played.mean()), 4) if played.notna().any() else None,
            }
        )
    return pd.DataFrame(out)


def checks_summary(checks: list[dict]) -> pd.DataFrame:
    """Per variant: mean over seeds of the sleeping dogs and all customers the next best offer
    leaves alone, the mean rank correlation of predicted with true uplift (over arms), and that of
    CLV with true value is in the rows."""
    table = pd.DataFrame(
        [
            {
                "variant": c["variant"],
                "seed": c["seed"],
                "sleeping_dogs_left_alone": c["sleeping_dogs_left_alone"],
                "all_left_alone": c["all_left_alone"],
                **{k: v for k, v in c.items() if k.startswith("sleeping_dogs_left_alone, ")},
                "uplift_spearman": float(np.nanmean(list(c["uplift_spearman"].values()))),
            }
            for c in checks
        ]
    )
    return table.groupby("variant", sort=False).mean(numeric_only=True).drop(columns="seed").round(4).reset_index()


def write_json(path: Path, table: pd.DataFrame, checks: list[dict], meta: dict) -> None:
    """The summary table, the per-variant checks, the mean calibration by decile, and ``meta``
    (seeds, sizes, wall time), as JSON."""
    calibration: dict[str, dict[str, list[dict]]] = {}
    for c in checks:
        for arm, cal in c["uplift_calibration"].items():
            calibration.setdefault(c["variant"], {}).setdefault(arm, []).append(cal)
    mean_cal = {
        v: {
            arm: {k: np.mean([c[k] for c in cals], axis=0).round(5).tolist() for k in ("predicted", "true")}
            for arm, cals in arms.items()
        }
        for v, arms in calibration.items()
    }
    payload = {
        **meta,
        "table": table.to_dict("records"),
        "checks": checks_summary(checks).to_dict("records"),
        "coverage": coverage.coverage_summary(checks).to_dict("records"),
        "uplift_calibration_by_decile": mean_cal,
    }
    Path(path).write_text(json.dumps(payload, indent=1, default=float) + "\n")
