"""Playing a nurturing plan for prospects forward against the truth: first purchases with and
without the plan, on the same draws."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.world.play import PlayResult, UnplayablePlanError, playable_channels
from helpers.world.truth import nurture_column

if TYPE_CHECKING:
    from helpers.world import World


def play_nurture(world: World, plan: pd.DataFrame, seed: int, touches: int = 3) -> PlayResult:
    """Play a nurturing plan for prospects (customer_id, channel: one sequence of ``touches``
    contacts over 90 days each) against the truth, with the counterfactual on the same draws.

    A prospect buys a first time within 90 days if their uniform draw falls below conversion_90d,
    or below conversion_90d + nurture_<channel> when nurtured. Returns per-prospect outcomes and a
    summary: first purchases with and without the plan, incremental first purchases (realised and
    expected), first-order revenue and margin (EUR), cost, opt-outs, cost per extra customer."""
    spec = world.spec
    truth = world.truth()
    truth = truth[truth.is_prospect].reset_index(drop=True)
    row = _playable_nurture_plan(world, plan, truth, touches)
    rng = np.random.default_rng(seed)
    n = len(truth)
    u_buy, u_opt = rng.random(n), rng.random(n)
    nu = rng.gamma(spec["spend"]["q"], 1.0 / spec["spend"]["gamma"], n)  # first-order spend, Gamma-Gamma
    value = rng.gamma(spec["spend"]["p"], 1.0 / nu)
    base = truth.conversion_90d.to_numpy()
    lift = np.zeros(n)
    channel = np.full(n, "", dtype=object)
    channel[row] = plan.channel.to_numpy()
    for name in set(plan.channel):
        rows = row[plan.channel.to_numpy() == name]
        lift[rows] = truth[nurture_column(name)].to_numpy()[rows]
    without, with_plan = u_buy < base, u_buy < base + lift
    cost_each = pd.Series(channel).map({k: v["cost_per_contact"] for k, v in spec["channels"].items()}).fillna(0)
    cost = cost_each.to_numpy(float) * touches
    hazard = pd.Series(channel).map({k: v["unsubscribe"] for k, v in spec["channels"].items()}).fillna(0).to_numpy()
    opted_out = u_opt < 1 - (1 - hazard) ** touches
    categories = spec["catalogue"]["categories"].values()
    margin_rate = sum(c["share"] * c["margin_rate"] for c in categories) / sum(c["share"] for c in categories)
    out = pd.DataFrame(
        {
            "customer_id": truth.customer_id,
            "channel": channel,
            "buys_without_plan": without,
            "buys_with_plan": with_plan,
            "first_order_eur": value.round(2),
            "cost": cost,
        }
    )
    extra = with_plan & ~without
    mean_value = spec["spend"]["p"] * spec["spend"]["gamma"] / (spec["spend"]["q"] - 1)
    summary = {
        "prospects_contacted": int(len(plan)),
        "contacts": int(len(plan) * touches),
        "cost": round(float(cost.sum()), 2),
        "first_purchases_without_plan": int(without.sum()),
        "first_purchases_with_plan": int(with_plan.sum()),
        "incremental_first_purchases": int(extra.sum()),
        "expected_incremental_first_purchases": round(float(lift.sum()), 2),
        "incremental_revenue": round(float(value[extra].sum()), 2),
        "incremental_margin": round(float(value[extra].sum() * margin_rate - cost.sum()), 2),
        "expected_incremental_margin": round(float(lift.sum() * mean_value * margin_rate - cost.sum()), 2),
        "opt_outs": int(opted_out.sum()),
        "cost_per_extra_customer": round(float(cost.sum() / extra.sum()), 2) if extra.any() else None,
    }
    return PlayResult(out, summary)


def _playable_nurture_plan(world: World, plan: pd.DataFrame, truth: pd.DataFrame, touches: int) -> np.ndarray:
    """Each plan row's prospect row in ``truth`` (prospects only), once the plan is checked: the
    columns it needs, prospects only, one sequence each, known channels, consent or legal basis.
    Raises UnplayablePlanError naming what is wrong."""
    spec = world.spec
    missing = {"customer_id", "channel"} - set(plan.columns)
    if missing:
        raise UnplayablePlanError(
            f"the nurturing plan lacks column(s) {sorted(missing)}; it needs customer_id and channel."
        )
    if touches < 1:
        raise UnplayablePlanError(f"touches must be at least 1, got {touches}.")
    row = pd.Index(truth.customer_id).get_indexer(plan.customer_id)
    if (row < 0).any():
        raise UnplayablePlanError(
            f"{int((row < 0).sum())} row(s) name customers who are not prospects, e.g. "
            f"{plan.customer_id[row < 0].head(5).tolist()}; nurturing is for prospects (play "
            "covers buyers)."
        )
    if plan.customer_id.duplicated().any():
        raise UnplayablePlanError(
            "one nurturing sequence per prospect: "
            f"{plan.customer_id[plan.customer_id.duplicated()].head(5).tolist()} appear twice."
        )
    unknown = sorted(set(plan.channel) - set(spec["prospects"]["nurture_lift"]))
    if unknown:
        raise UnplayablePlanError(
            f"unknown channel(s) {unknown} in the nurturing plan; known: {list(spec['prospects']['nurture_lift'])}."
        )
    allowed = playable_channels(world, list(spec["channels"]))
    ok = allowed.to_numpy()[
        allowed.index.get_indexer(plan.customer_id), [list(spec["channels"]).index(c) for c in plan.channel]
    ]
    if not ok.all():
        raise UnplayablePlanError(
            f"{int((~ok).sum())} prospect(s) would be reached without consent or legal basis, e.g. "
            f"{plan[~ok][['customer_id', 'channel']].head(5).to_dict('records')}."
        )
    return row
