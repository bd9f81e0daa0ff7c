"""Every decision of the playbooks made on one world, beside its naive baselines and its oracle,
and scored against the truth: the next best offer (notebook 30), the contact plan (notebook 40) and
the CLV ranking (notebook 21). One call per world and seed; ``helpers.audit.summary`` gathers them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from helpers.audit import oracle
from helpers.data.dataset import Dataset
from helpers.decide import audience, contact_plan as cp, next_best_offer as nbo, offer_strategies
from helpers.describe import segmentation
from helpers.errors import ModelInputError
from helpers.features import customer_summary, execute
from helpers.models import clv, gamma_gamma
from helpers.world import World
from helpers.world.play import PlayResult
from helpers.world.truth import decile_calibration, effect_column, rank_correlation

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingRegressor as Regressor

MARGIN_RATE = 0.5  # what the notebooks assume (the truth's margin rate differs per customer)
PLAY_WEEKS = 8  # notebook 30's horizon
PLAN_MONTHS = 3  # notebook 40's horizon, one campaign a month
PER_CUSTOMER = {"budget": 0.06, "phone": 450 / 20_000, "postal": 2_500 / 20_000, "reach": 150 / 20_000}
"""Notebook 40's budget (1,200 EUR), call slots, print run and can't-lose promise per customer of its 20,000."""


@dataclass
class Learned:
    """What the analysis learned on a world: the arms, each buyer's features today, the predicted
        conversion uplift and expected incremental margin per arm (EUR before cost), the response
        model's chance of buying, the mean margin effect per arm (EUR), whether each arm's average
    conversion effect is proven (its 95% interval above zero), and the true margins per arm (for the
    oracle only)."""

    arm_table: pd.DataFrame
    ids: pd.Index
    uplift: pd.DataFrame
    value: pd.DataFrame
    response: pd.DataFrame
    average_margin: pd.Series
    proven: pd.Series
    true_margins: pd.DataFrame
    history: pd.DataFrame
    models: dict


def learn(world: World, data: Dataset, seed: int) -> Learned:
    """Notebook 30's learning steps on ``data`` (conversion uplift per arm, the response model), and
    the truth's margins per arm."""
    rng = np.random.default_rng(seed)
    history = nbo.training_table(data, MARGIN_RATE)
    arm_table = nbo.arms(data)
    discounts = {name: offer["discount"] for name, offer in world.spec["offers"].items()}
    models = nbo.fit_arms(history, rng, outcomes=("converted",))
    ids = pd.Index(audience.buyers(data).customer_id, name="customer_id")
    today = nbo.customer_features(data, dt.date.fromisoformat(world.parameters["end"]), ids)
    columns = nbo.feature_columns(history)
    uplift = nbo.score_customers(models, today, columns, "converted")
    value = nbo.expected_margin(uplift, today, arm_table, MARGIN_RATE, nbo.history_basket(history), discounts)
    X = today.reindex(columns=columns).to_numpy(float)
    response = pd.DataFrame(
        {arm: cast("Regressor", model).predict(X) for arm, model in nbo.fit_response_models(history, rng).items()},
        index=today.index,
    )
    margins = history.groupby(["arm", "w"]).margin.mean().unstack()
    effects = nbo.effects_by_arm(history).query("outcome == 'converted'").set_index("arm")
    true_margins = oracle.true_arm_margins(world, arm_table, ids, PLAY_WEEKS)
    return Learned(
        arm_table, ids, uplift, value, response, margins[1] - margins[0], effects.low > 0, true_margins, history, models
    )


def played(world: World, plan: pd.DataFrame, weeks: int, seed: int) -> dict:
    """A plan's played incremental margin (EUR, realised on the world's draws) and expected one
    (before any draw, at the truth's margin rates), contacts and cost."""
    result: PlayResult = world.play(plan, weeks=weeks, seed=seed)
    rate = world.truth().set_index("customer_id").margin_rate
    contacts = result.contacts
    expected = (
        float((contacts.expected_incremental_revenue * rate.reindex(contacts.customer_id).to_numpy()).sum())
        - result.summary["cost"]
        if len(contacts)
        else 0.0
    )
    return {
        "played_eur": result.summary["incremental_margin"],
        "expected_eur": round(expected, 2),
        "contacts": result.summary["contacts"],
        "cost_eur": result.summary["cost"],
    }


def offer_plan(choice: pd.Series, arm_table: pd.DataFrame) -> pd.DataFrame:
    """customer_id, channel, offer for each customer whose next best offer is an arm (week 0)."""
    chosen = choice[choice != nbo.NO_CONTACT]
    arm = arm_table.set_index("arm")
    return pd.DataFrame(
        {
            "customer_id": chosen.index.to_numpy(),
            "channel": chosen.map(arm.channel).to_numpy(),
            "offer": chosen.map(arm.offer).to_numpy(),
        }
    )


def next_best_offer(world: World, learned: Learned, seed: int) -> tuple[list[dict], dict]:
    """Notebook 30's decision and baselines at week 0, and its oracle: one row per strategy, and the
    truth checks (sleeping dogs left alone, calibration of predicted uplift by decile, rank correlation)."""
    t = learned
    costs = t.arm_table.set_index("arm").cost_per_contact
    eligible = nbo.arm_matrix(world.eligibility().loc[t.ids], t.arm_table)
    choice = nbo.choose_offers(t.value, costs, eligible)
    best = oracle.oracle_offers(t.true_margins, costs, eligible)
    plans = offer_strategies.strategy_plans(choice, choice, t.response, eligible, t.arm_table, t.average_margin, seed)
    plans.pop("next best offer, margin model")  # no margin model here: it is the same plan
    plans = {_named(name): plan.assign(week=0) for name, plan in plans.items()}
    proven = eligible & t.proven.reindex(eligible.columns).fillna(False).to_numpy()
    cautious = nbo.choose_offers(t.value, costs, proven).next_best_offer
    plans["next best offer, proven arms only"] = offer_plan(cautious, t.arm_table)
    plans["oracle"] = offer_plan(best.next_best_offer, t.arm_table)
    rows = [{"strategy": name, **played(world, plan, PLAY_WEEKS, seed)} for name, plan in plans.items()]
    checks = _uplift_checks(world, t, choice.next_best_offer)
    hidden = world.truth().set_index("customer_id").loc[t.ids]
    dogs = hidden.uplift_type.eq("sleeping_dog").to_numpy()
    for name, chosen in (("proven arms only", cautious), ("oracle", best.next_best_offer)):
        checks[f"sleeping_dogs_left_alone, {name}"] = float((chosen == nbo.NO_CONTACT).to_numpy()[dogs].mean())
    return rows, checks


def _named(strategy: str) -> str:
    """The strategy's name across seeds: the mass send's arm, in its name, changes with the seed."""
    return "send to all (best average arm)" if strategy.startswith("send to all") else strategy


def _uplift_checks(world: World, t: Learned, choice: pd.Series) -> dict:
    hidden = world.truth().set_index("customer_id").loc[t.ids]
    dogs = hidden.uplift_type.eq("sleeping_dog").to_numpy()
    alone = (choice == nbo.NO_CONTACT).to_numpy()
    calibration, spearman = {}, {}
    for row in t.arm_table.itertuples():
        true_effect = hidden[effect_column(row.channel, row.offer)].to_numpy()
        table = decile_calibration(t.uplift[row.arm].to_numpy(), true_effect)
        calibration[row.arm] = {"predicted": table.mean_predicted.tolist(), "true": table.mean_true.tolist()}
        spearman[row.arm] = rank_correlation(t.uplift[row.arm], true_effect)
    return {
        "sleeping_dogs_left_alone": float(alone[dogs].mean()) if dogs.any() else float("nan"),
        "all_left_alone": float(alone.mean()),
        "sleeping_dog_share": float(dogs.mean()),
        "uplift_calibration": calibration,
        "uplift_spearman": spearman,
    }


def plan_limits(world: World, data: Dataset, customers: pd.Index) -> tuple[pd.DataFrame, float, dict]:
    """Notebook 40's limits scaled to the world's buyers: eligibility on the send date (consent,
    pressure cap 4), the budget (EUR), and the capacities, segments of ``customers`` and minimum
    reach (``optimise_contact_plan``'s keywords)."""
    send_date = dt.date.fromisoformat(world.parameters["end"]) + dt.timedelta(days=1)
    buyers = audience.buyers(data)
    recent = cp.recent_contacts(data.frame("contacts"), data.frame("campaigns"), send_date)
    eligible = audience.eligible_on(data, buyers, send_date, recent=recent, pressure_cap=4)
    n = len(buyers)
    segments = (
        segmentation.segments_as_of(data.table("transactions"), send_date - dt.timedelta(days=1))
        .set_index("customer_id")
        .segment.reindex(customers)
    )
    limits = {
        "capacities": {"phone": round(PER_CUSTOMER["phone"] * n), "postal": round(PER_CUSTOMER["postal"] * n)},
        "segments": segments,
        "min_reach": {"can't lose": min(round(PER_CUSTOMER["reach"] * n), int((segments == "can't lose").sum()))},
    }
    return eligible, PER_CUSTOMER["budget"] * n, limits


def contact_plan(world: World, data: Dataset, learned: Learned, seed: int) -> list[dict]:
    """Notebook 40's optimised plan, its two baselines (mass send, one channel per segment) and its
    oracle, each repeated monthly and played over ``PLAN_MONTHS`` months: one row per strategy."""
    t = learned
    eligible, budget, limits = plan_limits(world, data, t.value.index)
    segments = limits["segments"]
    plan, _ = cp.optimise_contact_plan(t.value, t.arm_table, eligible, budget, **limits)
    best, _ = oracle.oracle_contact_plan(t.true_margins, t.arm_table, eligible, budget, **limits)
    arms = cp.best_arm_per_channel(t.value, t.arm_table)
    candidates = {
        "optimised plan": plan,
        "mass send on every consented channel": cp.mass_plan(eligible, arms),
        "one channel per segment": cp.rule_plan(segments, eligible, arms),
        "oracle": best,
    }
    return [
        {"strategy": name, **played(world, cp.monthly(p, t.arm_table, PLAN_MONTHS), 4 * PLAN_MONTHS, seed)}
        for name, p in candidates.items()
    ]


def clv_ranking(world: World, data: Dataset) -> tuple[list[dict], dict]:
    """Notebook 21's CLV (BG/NBD and Gamma-Gamma, 12 months) against two naive rankings (past
    revenue, recency) and the truth's expected value over 52 weeks: per ranking the true value of
    its top decile (EUR, the oracle's: the truth's own top decile), its share of all true value, and
    its rank correlation with the truth."""
    as_of = dt.date.fromisoformat(world.parameters["end"])
    tx = data.table("transactions")
    summary = gamma_gamma.with_repeat_spend(execute(customer_summary(tx, as_of), "customer_id"), tx, as_of)
    models = clv.fit_models(summary)
    if models.purchases is None or models.spend is None:
        raise ModelInputError(f"{world.path.name}: {models.message}")
    value = clv.customer_value(summary, models.purchases, models.spend).set_index("customer_id")
    true = oracle.true_value_ranking(world, value.index)
    scores = {
        "CLV (BG/NBD x Gamma-Gamma)": value.clv,
        "past revenue": summary.set_index("customer_id").revenue.reindex(value.index),
        "recency": -(summary.set_index("customer_id").eval("T - recency")).reindex(value.index),
        "oracle": true,
    }
    top = max(1, len(true) // 10)
    rows = []
    for name, score in scores.items():
        order = np.argsort(-score.to_numpy(float), kind="stable")[:top]
        rows.append(
            {
                "strategy": name,
                "top_decile_true_eur": round(float(true.to_numpy()[order].sum()), 2),
                "top_decile_capture": float(true.to_numpy()[order].sum() / true.sum()),
                "spearman": rank_correlation(score, true.to_numpy()),
            }
        )
    calibration = decile_calibration(value.clv, true)
    return rows, {
        "clv_calibration": {"predicted": calibration.mean_predicted.tolist(), "true": calibration.mean_true.tolist()}
    }
