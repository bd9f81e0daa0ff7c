"""Play a contact plan forward against the truth, with the counterfactual on the same random draws.

Both worlds (with and without the plan) share every random number (common random numbers), so
the difference between them is the plan's effect, not noise between two simulations. Effects are
those of the truth table (as of the end of the history); a contact's effect fades with the
customer's contacts in the previous 30 days, and each contact beyond their tolerance cuts their
purchase rate for the rest of the horizon (``response.intrusion_loss``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.data.consents import CONFLICTING_CHOICES, resolve_consents
from helpers.errors import WorldInputError
from helpers.world.baseline import Baseline, baseline
from helpers.world.consents import STATUS, ConsentState, contact_allowed
from helpers.world.response import baseline_chance
from helpers.world.truth import effect_column

if TYPE_CHECKING:
    from helpers.world import World


class UnplayablePlanError(WorldInputError):
    """The plan cannot be played: unknown customers, channels or offers, or contacts not allowed."""


@dataclass
class PlayResult:
    """Per-customer outcomes, the plan's totals (EUR, counts) and, for ``play``, each contact with
    its expected incremental revenue (EUR), cost, opt-out and intrusiveness (the plan's own extra
    columns, e.g. a rule name, are kept; empty for a nurturing plan)."""

    customers: pd.DataFrame
    summary: dict
    contacts: pd.DataFrame = field(default_factory=pd.DataFrame)


def playable_channels(world: World, channels: list[str]) -> pd.DataFrame:
    """Customers x channels: may the channel reach the customer at the end of the history, by the
    world's own consent state and scenario rules? What ``play`` accepts (an analyst's view from the
    data and the legal rules table is ``helpers.decide.contact_plan.eligibility``). Kept on the
    world (read it, do not change it)."""
    return world.kept("playable_channels", tuple(channels), lambda: _playable_channels(world, channels))


def _playable_channels(world: World, channels: list[str]) -> pd.DataFrame:
    resolved = resolve_consents(world.table("consents"))
    cust = world.table("customers", ["customer_id", "phone", "has_app"])
    codes = {name: code for code, name in enumerate(STATUS)}
    status = resolved.channels.pivot(index="customer_id", columns="channel", values="status").loc[
        cust.customer_id, channels
    ]
    choices = {c: i for i, c in enumerate(channels)} | {CONFLICTING_CHOICES: len(channels)}  # matches no channel
    preferred = resolved.preferences.preferred_channel.reindex(cust.customer_id).map(choices).fillna(-1).to_numpy(int)
    phone_rows = resolved.channels[resolved.channels.channel == "phone"].set_index("customer_id").loc[cust.customer_id]
    state = ConsentState(
        channels,
        status.replace(codes).to_numpy(dtype=np.int8),
        np.zeros(status.shape, int),
        phone_rows.bloctel.fillna(False).to_numpy(bool),
        preferred,
        np.zeros(len(cust), int),
    )
    has_phone, has_app = cust.phone.notna().to_numpy(), cust.has_app.to_numpy(bool)
    return pd.DataFrame(
        {c: contact_allowed(world.spec, state, c, has_phone, has_app) for c in channels}, index=cust.customer_id
    )


def playable_plan(world: World, plan: pd.DataFrame) -> pd.DataFrame:
    """The plan with a ``week`` column (0 if absent), or UnplayablePlanError naming the faulty rows."""
    spec = world.spec
    missing = {"customer_id", "channel", "offer"} - set(plan.columns)
    if missing:
        raise UnplayablePlanError(
            f"the plan lacks column(s) {sorted(missing)}; it needs customer_id, channel, offer "
            "and optionally week (0 = first week)."
        )
    plan = plan.assign(week=plan["week"] if "week" in plan else 0).reset_index(drop=True)
    for col, known in (("channel", spec["channels"]), ("offer", spec["offers"])):
        bad = plan[~plan[col].isin(list(known))]
        if len(bad):
            raise UnplayablePlanError(
                f"unknown {col} {sorted(bad[col].astype(str).unique())[:5]} in the plan; known: {list(known)}."
            )
    allowed = playable_channels(world, list(spec["channels"]))
    unknown = plan[~plan.customer_id.isin(allowed.index)]
    if len(unknown):
        raise UnplayablePlanError(
            f"{len(unknown)} contact(s) name unknown customers, e.g. {unknown.customer_id.head(5).tolist()}."
        )
    prospects = set(world.table("customers", ["customer_id", "is_prospect"]).query("is_prospect").customer_id)
    named = plan[plan.customer_id.isin(prospects)]
    if len(named):
        raise UnplayablePlanError(
            f"{len(named)} contact(s) name prospects, e.g. {named.customer_id.head(5).tolist()}; "
            "play covers customers (prospects' conversion chances are in the truth's "
            "conversion_90d)."
        )
    ok = allowed.to_numpy()[allowed.index.get_indexer(plan.customer_id), allowed.columns.get_indexer(plan.channel)]
    if not ok.all():
        bad = plan[~ok]
        raise UnplayablePlanError(
            f"{len(bad)} contact(s) reach customers without consent or legal basis on that "
            f"channel, e.g. {bad[['customer_id', 'channel']].head(5).to_dict('records')}."
        )
    return plan


CONTACTS_AT_ONCE = 1_000_000  # contacts whose windows are compared with the purchases in one step (x slots: bytes)


def play(world: World, plan: pd.DataFrame, weeks: int, seed: int) -> PlayResult:
    """Play ``plan`` (customer_id, channel, offer[, week]) over ``weeks`` weeks after the history.

    Returns per-customer revenue with and without the plan (EUR), contacts, cost, opt-outs and
    intrusive contacts, and a summary with realised and expected incremental revenue and margin.
    """
    if weeks <= 0:
        raise UnplayablePlanError(f"weeks must be positive, got {weeks}.")
    plan = playable_plan(world, plan)
    if (plan.week < 0).any() or (plan.week >= weeks).any():
        raise UnplayablePlanError(f"plan weeks must lie in 0..{weeks - 1}.")
    base, rng = baseline(world, weeks, seed)
    row = pd.Index(base.truth.customer_id).get_indexer(plan.customer_id)
    plan = plan.assign(row=row).sort_values(["row", "week"], kind="stable").reset_index(drop=True)
    contact = _planned_contacts(world.spec, base, plan)
    out, per, expected, opted_out = _played_revenue(rng, world.spec, base, contact)
    margin_rate = base.truth.margin_rate.to_numpy()
    summary = {
        "weeks": weeks,
        "contacts": int(len(plan)),
        "customers_contacted": int((out.contacts > 0).sum()),
        "cost": round(float(contact.cost.sum()), 2),
        "revenue_without_plan": round(float(out.revenue_without_plan.sum()), 2),
        "revenue_with_plan": round(float(out.revenue_with_plan.sum()), 2),
        "incremental_revenue": round(float(out.incremental_revenue.sum()), 2),
        "expected_incremental_revenue": round(float(expected.sum()), 2),
        "incremental_margin": round(float((out.incremental_revenue * margin_rate).sum() - contact.cost.sum()), 2),
        "opt_outs": int(opted_out.sum()),
        "intrusive_contacts": int(contact.intrusive.sum()),
        "customers_over_tolerance": int((per.intrusive > 0).sum()),
    }
    contacts = plan.drop(columns="row").assign(
        expected_incremental_revenue=expected, cost=contact.cost, opted_out=opted_out, intrusive=contact.intrusive
    )
    return PlayResult(out, summary, contacts)


@dataclass
class _PlannedContacts:
    """Per planned contact (sorted by customer row, week): the customer's row, the response window
    [d0, d1) in days, the true effect ``tau`` after fatigue and the baseline chance ``p0`` of buying
    in the window, the offer's discount, the cost (EUR), whether it is intrusive (past the customer's
    tolerance) and its opt-out hazard."""

    row: np.ndarray
    d0: np.ndarray
    d1: np.ndarray
    tau: np.ndarray
    p0: np.ndarray
    discount: np.ndarray
    cost: np.ndarray
    intrusive: np.ndarray
    hazard: np.ndarray


def _planned_contacts(spec: dict, base: Baseline, plan: pd.DataFrame) -> _PlannedContacts:
    """What the truth says of each contact of ``plan`` (with its ``row`` column), before any draw."""
    resp = spec["response"]
    row, wk = plan.row.to_numpy(), plan.week.to_numpy()
    channel, channels = pd.factorize(plan.channel)
    offer, offers = pd.factorize(plan.offer)
    effects = base.truth[[effect_column(c, o) for c in channels for o in offers]].to_numpy(float)
    recent = _recent_contacts(row, wk)
    tau = effects[row, channel * len(offers) + offer] * np.exp(-resp["fatigue_decay"] * recent)
    d0, d1 = wk * 7, wk * 7 + resp["window_days"]
    p0 = np.where(
        base.alive[row], baseline_chance(base.lam[row], base.clock[np.minimum(d1, base.n_days)] - base.clock[d0]), 0.0
    )
    tolerance = base.truth.fatigue_tolerance.to_numpy()[row]
    hazard = np.array([spec["channels"][c]["unsubscribe"] for c in channels])[channel] * (
        1 + resp["optout_slope"] * np.maximum(0, recent + 1 - tolerance)
    )
    return _PlannedContacts(
        row,
        d0,
        d1,
        np.clip(tau, -p0, 1 - p0),
        p0,
        np.array([spec["offers"][o]["discount"] for o in offers])[offer],
        np.array([spec["channels"][c]["cost_per_contact"] for c in channels])[channel],
        (recent + 1) > tolerance,
        hazard,
    )


def _played_revenue(
    rng: np.random.Generator, spec: dict, base: Baseline, c: _PlannedContacts
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """The plan's draws (response, opt-out, the value of a gained order, in this order) and what
    they do: per customer revenue without and with the plan (EUR) joined to their contacts, cost,
    opt-outs and intrusive contacts; those per customer row; per contact the expected incremental
    revenue (EUR) and whether it made the customer opt out."""
    row, d0, tau, p0, discount = c.row, c.d0, c.tau, c.p0, c.discount
    happens, day, value, alive = base.happens, base.day, base.value, base.alive
    u_resp, u_opt = rng.random(len(row)), rng.random(len(row))
    extra_value = rng.gamma(spec["spend"]["p"], 1.0 / base.nu[row])
    gain = np.zeros(len(row), bool)
    treated_happens, price = happens.copy(), np.ones_like(value)
    for part in (slice(i, i + CONTACTS_AT_ONCE) for i in range(0, len(row), CONTACTS_AT_ONCE)):
        r, days = row[part], day[row[part]]
        in_window = happens[r] & (days >= d0[part, None]) & (days < c.d1[part, None])
        bought, t, u = in_window.any(axis=1), tau[part], u_resp[part]
        gain[part] = alive[r] & ~bought & (t > 0) & (u < t / np.maximum(1 - p0[part], 1e-12))
        loss = bought & (t < 0) & (u < -t / np.maximum(p0[part], 1e-12))
        np.logical_and.at(treated_happens, r[loss], ~in_window[loss])
        paid = ~loss & (discount[part] > 0)
        np.multiply.at(price, r[paid], np.where(in_window[paid], 1 - discount[part][paid, None], 1.0))
        # Each intrusive contact thins the customer's later purchases by intrusion_loss.
        hit = c.intrusive[part]
        thin = base.thin_u[r[hit]] < spec["response"]["intrusion_loss"]
        np.logical_and.at(treated_happens, r[hit], ~((days[hit] >= d0[part][hit, None]) & thin))
    opted_out = u_opt < c.hazard
    treated_rev = np.where(treated_happens, value * price, 0.0).sum(axis=1)
    np.add.at(treated_rev, row[gain], extra_value[gain] * (1 - discount[gain]))
    expected = _expected_incremental_revenue(base, c)
    out = pd.DataFrame(
        {
            "customer_id": base.truth.customer_id,
            "revenue_without_plan": np.where(happens, value, 0.0).sum(axis=1).round(2),
            "revenue_with_plan": treated_rev.round(2),
        }
    )
    out["incremental_revenue"] = (out.revenue_with_plan - out.revenue_without_plan).round(2)
    per = (
        pd.DataFrame(
            {
                "row": row,
                "contacts": 1,
                "cost": c.cost,
                "opt_outs": opted_out,
                "intrusive": c.intrusive,
                "expected_incremental_revenue": expected,
            }
        )
        .groupby("row")
        .sum()
    )
    out = out.join(per.set_axis(base.truth.customer_id.to_numpy()[per.index]), on="customer_id").fillna(0)
    return out, per, expected, opted_out


def _expected_incremental_revenue(base: Baseline, c: _PlannedContacts) -> np.ndarray:
    """Per contact, the incremental revenue (EUR) expected before any draw: the effect's extra
    orders at the discounted price, less the discount given on the orders the customer would have
    placed in the window anyway (those a sleeping-dog effect removes excepted)."""
    row, d0, d1, tau, p0, discount = c.row, c.d0, c.d1, c.tau, c.p0, c.discount
    mean_order, lam, clock = base.mean_order[row], base.lam[row], base.clock
    return (
        tau * mean_order * (1 - discount)
        - discount
        * lam
        * (clock[np.minimum(d1, base.n_days)] - clock[d0])
        * mean_order
        * (1 - np.clip(-tau, 0, None) / np.maximum(p0, 1e-12))
        * base.alive[row]
    )


def _recent_contacts(row: np.ndarray, wk: np.ndarray) -> np.ndarray:
    """For contacts sorted by (customer row, week): earlier contacts to the same customer within
    the previous 30 days (this week and the three before)."""
    key = row.astype(np.int64) * 1_000_000 + wk
    return np.arange(len(key)) - np.searchsorted(key, key - 3, side="left")


def play_strategies(plans: dict[str, pd.DataFrame], play: Callable[..., PlayResult], **options: object) -> pd.DataFrame:
    """Each named plan played with ``play`` (``world.play`` or ``world.play_nurture``, given ``options``
    such as weeks, seed, touches): one row per strategy, its name in "strategy", then its summary."""
    return pd.DataFrame([{"strategy": name, **play(plan, **options).summary} for name, plan in plans.items()])
