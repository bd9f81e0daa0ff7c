"""Do the intervals the notebooks report hold the truth? Per seed: notebook 50's test readout (a
letter, and a letter then a call, against a control group; 95% intervals of the incremental
response and revenue per customer) against the test's true effects; notebook 21's 90% interval of
the CLV total over 52 weeks against what customers then spend and against the truth's expected
value; and notebook 45's holdout readouts (``scenarios.scenario_set``). Over seeds, the share of
intervals that hold their truth, beside the level they claim."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.data.dataset import Dataset
from helpers.models import experiments, interval_coverage, world_test
from helpers.world import World

TEST_ARMS = {"control": 0.2, "mail": 0.4, "mail then call": 0.4}  # notebook 50's default shares
TEST_OFFER, TEST_WEEKS, MARGIN_RATE = "new_collection", 4, 0.5
LEVELS = {
    "test readout, response points": 0.95,
    "test readout, revenue per customer": 0.95,
    "CLV total, realised 52 weeks": 0.90,
    "CLV total, expected 52 weeks": 0.90,
    "scenario holdout readout, revenue": 0.95,
}
"""Each kind of interval the audit checks, and the level it claims."""


def test_readout_held(world: World, data: Dataset, seed: int) -> dict[str, list[bool]]:
    """Notebook 50's test played on the world for ``seed``: per treated arm, whether the readout's
    intervals hold the true incremental points and revenue per customer."""
    rng = np.random.default_rng(seed)
    as_of = dt.date.fromisoformat(world.parameters["end"])
    trial = world_test.play_test(world, data, as_of, TEST_ARMS, TEST_OFFER, TEST_WEEKS, seed, rng)
    table = experiments.readout(trial.outcomes, rng, trial.costs, MARGIN_RATE).set_index("arm").join(trial.truth)
    points, revenue = table["true incremental points"], table["true incremental revenue"]
    return {
        "test readout, response points": inside(table.points_low, points, table.points_high),
        "test readout, revenue per customer": inside(table.revenue_low, revenue, table.revenue_high),
    }


def inside(low: pd.Series, truth: pd.Series, high: pd.Series) -> list[bool]:
    """Per interval, whether it holds its truth (a missing bound holds nothing)."""
    return ((low <= truth) & (truth <= high)).tolist()


def clv_total_held(world: World, seed: int) -> dict[str, list[bool]]:
    """Whether the 90% interval of the CLV total over 52 weeks (``clv_intervals.value_intervals``)
    holds what the customers then spend (the world's draw for ``seed``) and their true expected value."""
    held = interval_coverage.coverage(world, level=LEVELS["CLV total, realised 52 weeks"], seed=seed)
    return {
        "CLV total, realised 52 weeks": [held["realised_total_covered"] == 1],
        "CLV total, expected 52 weeks": [held["expected_total_covered"] == 1],
    }


def coverage_summary(checks: list[dict]) -> pd.DataFrame:
    """Per variant and kind of interval: its claimed level, how many intervals were checked over the
    seeds and the share that held the truth."""
    rows = []
    for variant in dict.fromkeys(c["variant"] for c in checks):
        for kind, level in LEVELS.items():
            held = [h for c in checks if c["variant"] == variant for h in c["coverage"].get(kind, [])]
            rows.append(
                {
                    "variant": variant,
                    "interval": kind,
                    "level": level,
                    "intervals": len(held),
                    "coverage": round(float(np.mean(held)), 3) if held else None,
                }
            )
    return pd.DataFrame(rows)
