"""Triggered scenarios played forward on a synthetic world, read out as a marketer would (treated
against the rule's random holdout) and against the truth (each message's expected effect).

The rules are scheduled on the history plus the purchases customers would make anyway over the
horizon (``future_purchases``, the counterfactual of ``play`` on the same seed), beside a
business-as-usual campaign calendar that shares the pressure cap; then campaigns and triggered
messages are played together. First-order approximation: a purchase caused by a message does not
trigger further rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.decide.triggers import Rule, TriggerSet, contact_days, fits_caps, order_days, schedule
from helpers.models.effects import difference_in_means
from helpers.models.experiments import cuped
from helpers.models.likelihood import Fit
from helpers.world import World
from helpers.world.baseline import future_purchases
from helpers.world.play import PlayResult

THRESHOLD_FIELDS = {"days_since_purchase": "days", "p_alive_below": "threshold"}  # event -> the field compared


def newsletter_calendar(
    eligible: pd.DataFrame,
    start: dt.date,
    weeks: int,
    channel: str = "email",
    offer: str = "new_collection",
    every_weeks: int = 4,
    own_maximum: pd.Series | None = None,
) -> pd.DataFrame:
    """Business as usual: one message every ``every_weeks`` weeks to everyone the channel may reach
    (customer_id, channel, offer, week, day), skipping an issue that would give a customer more
    messages in 30 days than their ``own_maximum`` (customer_id -> contacts a month) allows."""
    reach = pd.Series(eligible.index[eligible[channel].to_numpy()] if channel in eligible else eligible.index[:0])
    allowed = (
        own_maximum.reindex(reach).astype(float).fillna(np.inf).to_numpy()
        if own_maximum is not None
        else np.full(len(reach), np.inf)
    )
    parts = []
    for most in np.unique(allowed):
        kept: list[int] = []
        for week in range(0, weeks, every_weeks):
            if fits_caps(kept, 7 * week, np.inf, 1, most):
                kept.append(7 * week)
        who = reach[allowed == most].to_numpy()
        parts.append(
            pd.DataFrame({"customer_id": np.tile(who, len(kept)), "week": np.repeat([d // 7 for d in kept], len(who))})
        )
    calendar = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"customer_id": [], "week": []})
    calendar = calendar.sort_values(["week", "customer_id"], ignore_index=True)
    return calendar.assign(
        channel=channel, offer=offer, day=pd.Timestamp(start) + pd.to_timedelta(calendar.week * 7, unit="D")
    )[["customer_id", "channel", "offer", "week", "day"]]


@dataclass(frozen=True)
class Horizon:
    """What every rule set played over the same weeks shares, computed once (``horizon``): the
    first and last day, the order log (history plus the purchases customers make anyway, the
    counterfactual of ``play``) and its order days, the campaigns and their days per customer (the
    shared cap), and what the readouts read."""

    world: World
    weeks: int
    seed: int
    start: dt.date
    end: dt.date
    orders: pd.DataFrame
    days: pd.DataFrame
    eligible: pd.DataFrame
    campaigns: pd.DataFrame
    campaign_days: dict[int, list[int]]
    truth: pd.DataFrame
    purchases: Fit | None
    pre_revenue: pd.Series | None
    own_maximum: pd.Series | None


def horizon(
    world: World,
    history: pd.DataFrame,
    eligible: pd.DataFrame,
    campaigns: pd.DataFrame,
    weeks: int,
    seed: int,
    purchases: Fit | None = None,
    pre_revenue: pd.Series | None = None,
    own_maximum: pd.Series | None = None,
) -> Horizon:
    """The ``weeks`` weeks after the world's history, on which rules are played with the ``campaigns``
    (customer_id, channel, offer, week, day). ``history``: order days (customer_id, day, category) up
    to the end of the history; ``pre_revenue``: each customer's revenue before (EUR), to sharpen the
    holdout readout (CUPED); ``own_maximum``: customer_id -> contacts a month the customer allows,
    held with the rules' cap; ``purchases``: the fitted purchase model whose P(alive) p_alive_below
    rules follow (``rule_backtest.purchase_model``)."""
    start = pd.Timestamp(world.parameters["end"]).date() + dt.timedelta(days=1)
    future = future_purchases(world, weeks, seed)[["customer_id", "day"]].assign(category=None)
    orders = pd.concat([history, future], ignore_index=True)
    return Horizon(
        world,
        weeks,
        seed,
        start,
        start + dt.timedelta(days=weeks * 7 - 1),
        orders,
        order_days(orders),
        eligible,
        campaigns,
        contact_days(campaigns),
        world.truth(),
        purchases,
        pre_revenue,
        own_maximum,
    )


@dataclass
class ScenarioPlay:
    fires: pd.DataFrame  # every trigger with its status and week
    played: PlayResult  # campaigns and sent triggers played together
    readout: pd.DataFrame  # per rule


def play_scenarios(over: Horizon, rules: TriggerSet) -> ScenarioPlay:
    """Schedule ``rules`` over the horizon ``over`` and play them with its campaigns."""
    fires = schedule(
        rules,
        over.orders,
        over.eligible,
        over.start,
        over.end,
        over.seed,
        over.campaign_days,
        over.purchases,
        over.own_maximum,
        over.days,
    )
    fires["week"] = (fires.send_day - pd.Timestamp(over.start)).dt.days // 7
    sent = fires[fires.status == "sent"]
    plan = pd.concat(
        [
            over.campaigns.assign(rule="campaign")[["customer_id", "channel", "offer", "week", "rule"]],
            sent[["customer_id", "channel", "offer", "week", "rule"]],
        ],
        ignore_index=True,
    )
    played = over.world.play(plan, over.weeks, over.seed)
    return ScenarioPlay(fires, played, readout_by_rule(fires, played, over.truth, over.campaigns, over.pre_revenue))


def readout_by_rule(
    fires: pd.DataFrame,
    played: PlayResult,
    truth: pd.DataFrame,
    campaigns: pd.DataFrame,
    pre_revenue: pd.Series | None = None,
) -> pd.DataFrame:
    """Per rule: triggers by status, messages, customers, cost, opt-outs, overlap with campaigns;
    the holdout estimate of incremental revenue (treated - holdout mean revenue over the horizon,
    CUPED-adjusted on ``pre_revenue`` if given, x treated customers, 95% normal interval); and the
    truth: the expected incremental revenue and margin of the rule's messages (EUR)."""
    revenue = played.customers.set_index("customer_id").revenue_with_plan
    margin_rate = truth.set_index("customer_id").margin_rate
    contacts = played.contacts.assign(margin=lambda c: c.expected_incremental_revenue * c.customer_id.map(margin_rate))
    campaign_weeks = pd.MultiIndex.from_arrays([campaigns.customer_id, campaigns.week])
    rows = []
    for rule, mine in fires.groupby("rule", sort=False):
        assigned = mine[mine.status.isin(["sent", "capped", "holdout"])].drop_duplicates("customer_id")
        outcome = revenue.reindex(assigned.customer_id).fillna(0).to_numpy()
        if pre_revenue is not None and len(assigned):
            outcome, _ = cuped(outcome, pre_revenue.reindex(assigned.customer_id).fillna(0).to_numpy())
        is_held = (assigned.status == "holdout").to_numpy()
        treated, held = outcome[~is_held], outcome[is_held]
        sent = contacts[contacts.rule == rule]
        effect = difference_in_means(treated, held)
        rows.append(
            {
                "rule": rule,
                "triggered_customers": int(mine.customer_id.nunique()),
                "sent": int((mine.status == "sent").sum()),
                "holdout": int((mine.status == "holdout").sum()),
                "capped": int((mine.status == "capped").sum()),
                "no_consent": int((mine.status == "no_consent").sum()),
                "customers_reached": int(sent.customer_id.nunique()),
                "cost": round(float(sent.cost.sum()), 2),
                "opt_outs": int(sent.opted_out.sum()),
                "near_a_campaign_share": _overlap(sent, campaign_weeks),
                "holdout_estimate": effect.estimate * len(treated),
                "ci_low": effect.low * len(treated),
                "ci_high": effect.high * len(treated),
                "true_incremental_revenue": round(float(sent.expected_incremental_revenue.sum()), 2),
                "true_incremental_margin": round(float(sent.margin.sum() - sent.cost.sum()), 2),
            }
        )
    return pd.DataFrame(rows).round({"holdout_estimate": 2, "ci_low": 2, "ci_high": 2})


def _overlap(sent: pd.DataFrame, campaign_weeks: pd.MultiIndex) -> float:
    """Share of the rule's messages sent in the same week as a campaign message to the same
    customer (``campaign_weeks``: customer_id, week pairs), or the week after."""
    if sent.empty:
        return 0.0
    same = pd.MultiIndex.from_arrays([sent.customer_id, sent.week]).isin(campaign_weeks)
    after = pd.MultiIndex.from_arrays([sent.customer_id, sent.week - 1]).isin(campaign_weeks)
    return round(float(np.mean(same | after)), 3)


def variants(rule: Rule, field: str, values: Iterable[float]) -> list[Rule]:
    """The same rule with ``field`` set to each of ``values`` (e.g. win-back at 60, 90, 120 days)."""
    return [
        dataclasses.replace(rule, name=f"{rule.name} ({field} {v})", params={**rule.params, field: v}) for v in values
    ]


def threshold_variants(rules: TriggerSet, values: Mapping[str, Iterable[float]]) -> list[Rule]:
    """The rules with a threshold (``THRESHOLD_FIELDS``: days since the last purchase, chance of
    being alive below), each once per value of ``values[event]`` (days, or a chance 0-1)."""
    by_event = {r.event: r for r in rules.rules}
    return [
        variant
        for event, field in THRESHOLD_FIELDS.items()
        if event in by_event
        for variant in variants(by_event[event], field, values.get(event, ()))
    ]


def compare(over: Horizon, rules: TriggerSet, candidates: list[Rule]) -> pd.DataFrame:
    """Each candidate rule played alone beside the campaigns of the horizon ``over``, under the cap
    of ``rules``: its readout row (``readout_by_rule``). The candidates share the horizon's
    counterfactual, order days and campaign days, computed once."""
    rows = [
        play_scenarios(over, TriggerSet((rule,), rules.cap_contacts, rules.cap_days)).readout for rule in candidates
    ]
    return pd.concat(rows, ignore_index=True)


def recommend(readouts: pd.DataFrame, families: dict[str, list[str]]) -> list[str]:
    """Per family of variants, the one with the highest true incremental margin, kept if positive."""
    chosen = []
    for names in families.values():
        rows = readouts[readouts.rule.isin(names)]
        if len(rows) and rows.true_incremental_margin.max() > 0:
            chosen.append(rows.loc[rows.true_incremental_margin.idxmax(), "rule"])
    return chosen


def recommended_rules(rules: TriggerSet, candidates: list[Rule], readouts: pd.DataFrame) -> TriggerSet:
    """The set to run, under the cap of ``rules``: per rule, the best of its threshold ``candidates``
    (or the rule itself, without a threshold) by true incremental margin in ``readouts``, if positive."""
    families = {r.name: [r.name] for r in rules.rules if r.event not in THRESHOLD_FIELDS}
    families.update(
        {
            r.name: [c.name for c in candidates if c.name.startswith(f"{r.name} (")]
            for r in rules.rules
            if r.event in THRESHOLD_FIELDS
        }
    )
    pool = {r.name: r for r in (*rules.rules, *candidates)}
    return TriggerSet(tuple(pool[name] for name in recommend(readouts, families)), rules.cap_contacts, rules.cap_days)
