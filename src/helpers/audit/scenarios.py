"""Notebook 45's triggered scenarios against the truth: which rules to switch on, and at which
threshold. Notebook 45 picks, per rule, the threshold of highest true incremental margin played
alone, kept if positive: it reads the truth, so it is the oracle set here. What an analyst can do
without the truth is the same choice from the holdout readouts (incremental revenue x the assumed
margin rate, less the cost); the audit plays each set together over the same horizon and values
it by the true incremental margin of its messages (EUR, after their cost)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from helpers import features
from helpers.audit import coverage
from helpers.data.dataset import Dataset
from helpers.decide import audience, automation, rule_backtest, triggers
from helpers.paths import REPO_ROOT
from helpers.world import World

RULES_FILE = REPO_ROOT / "synthetic_data" / "scenarios" / "triggers_retail_fr.yml"
WEEKS = 26  # notebook 45's horizon
NEWSLETTER_EVERY_WEEKS = 4
THRESHOLDS: dict[str, list[float]] = {
    "days_since_purchase": [60, 90, 120],
    "p_alive_below": [0.3, 0.5, 0.7],
}  # notebook 45's
MARGIN_RATE = 0.5  # what the notebooks assume


def scenario_horizon(world: World, data: Dataset, seed: int) -> tuple[automation.Horizon, triggers.TriggerSet]:
    """Notebook 45's horizon (the newsletter calendar over ``WEEKS`` weeks after the history, CUPED on
    last year's revenue) and its rules as they can run (``rule_backtest.backtest``)."""
    as_of = dt.date.fromisoformat(world.parameters["end"])
    tx = data.table("transactions")
    offers = sorted(set(world.spec["offers"]) | set(data.frame("campaigns").offer))
    categories = sorted(features.category_orders(tx, as_of).index)
    rules = triggers.load_rules(RULES_FILE, offers, categories)
    backtest = rule_backtest.backtest(data, rules, as_of, seed, months=6)
    first_day = as_of + dt.timedelta(days=1)
    eligible = audience.eligible_on(data, audience.buyers(data), first_day)
    newsletter = automation.newsletter_calendar(
        eligible, first_day, WEEKS, every_weeks=NEWSLETTER_EVERY_WEEKS, own_maximum=backtest.own_maximum
    )
    last_year = features.revenue_between(tx, as_of - dt.timedelta(days=364), as_of)
    over = automation.horizon(
        world, backtest.history, eligible, newsletter, WEEKS, seed, backtest.purchases, last_year, backtest.own_maximum
    )
    return over, backtest.rules


def set_margin(over: automation.Horizon, rules: triggers.TriggerSet) -> float:
    """True incremental margin (EUR, after cost) of the messages of ``rules`` played together."""
    if not rules.rules:
        return 0.0
    return float(automation.play_scenarios(over, rules).readout.true_incremental_margin.sum())


def scenario_set(world: World, data: Dataset, seed: int) -> tuple[list[dict], list[bool]]:
    """The rules as written, the set chosen from the holdout readouts and the oracle set (notebook
    45's), each played together: one row per strategy (its rules and true margin, EUR); and, per rule
    and threshold played alone, whether the holdout readout's 95% interval holds the rule's true
    incremental revenue (rules without an interval left out)."""
    over, rules = scenario_horizon(world, data, seed)
    candidates = automation.threshold_variants(rules, THRESHOLDS)
    readouts = pd.concat(
        [automation.play_scenarios(over, rules).readout, automation.compare(over, rules, candidates)], ignore_index=True
    )
    # recommended_rules picks by the column true_incremental_margin: here the holdout's estimate of it
    estimated = readouts.assign(true_incremental_margin=readouts.holdout_estimate * MARGIN_RATE - readouts.cost)
    sets = {
        "rules as written": rules,
        "chosen from the holdout readouts": automation.recommended_rules(rules, candidates, estimated),
        "oracle": automation.recommended_rules(rules, candidates, readouts),
    }
    rows = [
        {
            "strategy": name,
            "rules": ", ".join(r.name for r in chosen.rules),
            "true_margin_eur": round(set_margin(over, chosen), 2),
        }
        for name, chosen in sets.items()
    ]
    read = readouts.dropna(subset=["ci_low", "ci_high"])  # a rule with no holdout or no message has no interval
    return rows, coverage.inside(read.ci_low, read.true_incremental_revenue, read.ci_high)
