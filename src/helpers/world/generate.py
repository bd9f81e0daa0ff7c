"""Assemble a world: every table of the data contract plus the hidden truth, from one seed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.world.calendar import operational_clock, seasonal_intensity
from helpers.world.campaigns import run_campaigns
from helpers.world.columns import labels, masked
from helpers.world.consents import STATUS, ConsentState, draw_consents
from helpers.world.identities import draw_identities
from helpers.world.purchases import (
    CustomerTraits,
    PurchaseHistory,
    draw_traits,
    order_categories,
    order_values,
    simulate_purchases,
)
from helpers.world.response import (
    UPLIFT_TYPES,
    ResponseProfile,
    baseline_chance,
    draw_profile,
    incremental_effect,
    nurture_effects,
    uplift_type,
)
from helpers.world.scenario import WorldParameters
from helpers.world.truth import effect_column, nurture_column

SURE_THING_BASELINE = 0.10  # chance of buying in the window anyway that makes a "sure thing"
PERSUADABLE_EFFECT = 0.020  # mean true effect (probability points) that makes a "persuadable"
# numpy's exp/log take CPU-specific SIMD paths (AVX-512 or not) that differ in the last bit; values
# derived from them are rounded here so the files are byte-identical on every machine.
STABLE_DECIMALS = 9
CHUNK_ORDERS = 2_000_000  # transactions are built and written this many rows at a time


def _dates(start: dt.date, days: np.ndarray) -> pa.Array:
    return pa.array((np.datetime64(start, "D") + days.astype("timedelta64[D]")), pa.date32())


def build_tables(
    spec: dict, params: WorldParameters, write_transactions: Callable[[Iterator[pa.RecordBatch]], None]
) -> dict[str, pa.Table]:
    """Every table of one world, keyed by name (``truth`` is the hidden one), except the
    transactions: too large to hold whole at a million customers, they are handed to
    ``write_transactions`` as record batches of at most ``CHUNK_ORDERS`` orders."""
    rng = np.random.default_rng(params.seed)
    n, m = params.n_customers, params.n_prospects
    n_days = (params.end - params.start).days + 1
    intensity = seasonal_intensity(params.start, n_days, spec["purchases"]["seasonality"])
    clock = operational_clock(intensity)
    people, history = _draw_people(rng, spec, n, m, intensity, clock)
    alive_until = np.where(history.dropout_day >= 0, history.dropout_day, n_days)
    hist = run_campaigns(
        rng,
        spec,
        params.start,
        params.end,
        (history.customer, history.day),
        people.traits.lam,
        alive_until,
        people.signup_day,
        clock,
        people.profile,
        people.consents_c,
        people.has_phone[:n],
        people.has_app[:n],
    )

    last_baseline_day = history.day[np.cumsum(history.n_repeat + 1) - 1]
    dropout_day = history.dropout_day
    orders = _final_orders(history, hist, n_days)
    del history
    hist.removed = hist.discount = hist.campaign_of_order = np.empty(0)  # merged into orders: freed
    campaign_ids = [f"CMP-{c['start_date']:%Y%m}-{c['channel']}" for c in hist.campaigns]
    revenue_parts: list[pd.Series] = []
    write_transactions(
        _transaction_batches(rng.spawn(3), spec, params, orders, people.traits, campaign_ids, revenue_parts)
    )
    revenue = pd.concat(revenue_parts).groupby(level=[0, 1]).sum() if revenue_parts else pd.Series(dtype=float)
    del orders

    customer_id = np.arange(1, n + m + 1, dtype=np.int64)
    customers = _customers(rng, spec, params, customer_id, people)
    return {
        "customers": customers,
        "consents": _consents_table(spec, params.start, customer_id, people.consents_c, people.consents_p),
        "campaigns": _campaigns(spec, hist, campaign_ids),
        "contacts": _contacts(params, hist, campaign_ids, revenue),
        "products": _products(spec),
        "truth": _truth(spec, params, customer_id, people, dropout_day, n_days, last_baseline_day, customers),
    }


@dataclass
class _People:
    """Who the world holds: ``n`` customers, then ``m`` prospects (arrays of n + m unless noted)."""

    n: int
    m: int
    signup_day: np.ndarray  # customers: the day each signed up
    lead_day: np.ndarray  # prospects: the day each became a lead
    traits: CustomerTraits  # customers
    age: np.ndarray
    mean_order: np.ndarray  # customers: mean order value, EUR
    profile: ResponseProfile  # customers
    has_phone: np.ndarray
    has_app: np.ndarray
    consents_c: ConsentState  # customers
    consents_p: ConsentState  # prospects


def _draw_people(
    rng: np.random.Generator, spec: dict, n: int, m: int, intensity: np.ndarray, clock: np.ndarray
) -> tuple[_People, PurchaseHistory]:
    """The customers and prospects, and the customers' baseline purchases, drawn in a fixed order
    from ``rng``."""
    n_days = len(intensity)
    signup_day = rng.choice(n_days - 1, size=n, p=intensity[:-1] / intensity[:-1].sum()).astype(np.int64)
    traits = draw_traits(rng, n, spec)
    history = simulate_purchases(rng, traits, signup_day, clock)
    age_cfg = spec["customers"]["age"]
    age = np.clip(np.round(rng.normal(age_cfg["mean"], age_cfg["sd"], n + m)), age_cfg["min"], age_cfg["max"])
    mean_order = spec["spend"]["p"] / traits.nu
    profile = draw_profile(rng, spec, age[:n], traits.lam * mean_order, traits.preferences)

    has_phone = rng.random(n + m) < spec["customers"]["phone_share"]
    has_app = rng.random(n + m) < spec["channels"].get("push", {}).get("app_install_rate", 0.0)
    lead_day = n_days - 1 - rng.integers(0, 180, size=m)
    consents_c = draw_consents(rng, spec, np.zeros(n, bool), has_phone[:n], has_app[:n], signup_day)
    consents_p = draw_consents(rng, spec, np.ones(m, bool), has_phone[n:], has_app[n:], lead_day)
    people = _People(
        n, m, signup_day, lead_day, traits, age, mean_order, profile, has_phone, has_app, consents_c, consents_p
    )
    return people, history


def _products(spec: dict) -> pa.Table:
    cat = spec["catalogue"]["categories"]
    return pa.table(
        {
            "category": list(cat),
            "mean_price": [float(c["mean_price"]) for c in cat.values()],
            "margin_rate": [float(c["margin_rate"]) for c in cat.values()],
        }
    )


def _final_orders(history, hist, n_days: int) -> dict[str, np.ndarray]:
    """Baseline orders minus those lost to sleeping-dog effects, plus the incremental ones, in
    (customer, day) order (ties: baseline first). Columns customer, day, campaign (-1 if none),
    discount. Linear in the number of orders: the few added orders are inserted, nothing is sorted."""
    keep = ~hist.removed
    added = {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in hist.added.items()}
    added_key = added["customer"].astype(np.int64) * n_days + added["day"]
    order = np.argsort(added_key, kind="stable")
    base_key = history.customer[keep] * n_days + history.day[keep]
    slot = np.searchsorted(base_key, added_key[order], side="right") + np.arange(len(order))
    del base_key
    is_added = np.zeros(int(keep.sum()) + len(order), dtype=bool)
    is_added[slot] = True
    base = {
        "customer": history.customer,
        "day": history.day,
        "campaign": hist.campaign_of_order,
        "discount": hist.discount,
    }
    out = {}
    for name, values in base.items():  # one column at a time keeps the peak low
        column = np.empty(len(is_added), dtype=np.result_type(values, added[name]))
        column[~is_added] = values[keep]
        column[is_added] = added[name][order]
        out[name] = column
    return out


def _transaction_batches(
    rngs: list[np.random.Generator],
    spec: dict,
    params: WorldParameters,
    orders: dict,
    traits,
    campaign_ids: list[str],
    revenue_parts: list[pd.Series],
) -> Iterator[pa.RecordBatch]:
    """The transactions table, ``CHUNK_ORDERS`` rows at a time. Order values, categories and sales
    channels each draw from their own generator, so the result does not depend on the chunk size.
    Appends each chunk's campaign-tagged revenue per (campaign, customer row) to ``revenue_parts``."""
    value_rng, category_rng, sales_rng = rngs
    categories = spec["catalogue"]["categories"]
    margin_rates = np.array([c["margin_rate"] for c in categories.values()])
    sales = spec["purchases"]["sales_channels"]
    sales_p = np.array(list(sales.values())) / sum(sales.values())
    total = len(orders["day"])
    for lo in range(0, total, CHUNK_ORDERS):
        chunk = {k: v[lo : lo + CHUNK_ORDERS] for k, v in orders.items()}
        customer, campaign, discount = chunk["customer"], chunk["campaign"], chunk["discount"]
        gross = order_values(value_rng, traits.nu, customer, spec["spend"]["p"])
        category = order_categories(category_rng, traits.preferences, customer)
        net = np.round(gross * (1 - discount), 2)
        margin = np.round(net - gross * (1 - margin_rates[category]), 2)
        sales_idx = sales_rng.choice(len(sales), size=len(customer), p=sales_p)
        tagged = campaign >= 0
        revenue_parts.append(pd.Series(net[tagged]).groupby([campaign[tagged], customer[tagged]]).sum())
        yield pa.record_batch(
            {
                "order_id": pa.array(np.arange(lo + 1, lo + len(customer) + 1, dtype=np.int64)),
                "customer_id": pa.array(customer + 1),
                "order_date": _dates(params.start, chunk["day"]),
                "amount": pa.array(net),
                "category": labels(category, categories),
                "sales_channel": labels(sales_idx, sales),
                "margin": pa.array(margin),
                "campaign_id": labels(campaign, campaign_ids),
            }
        )


def _contacts(params: WorldParameters, hist, campaign_ids: list[str], revenue: pd.Series) -> pa.Table:
    """One row per customer drawn into a campaign, with the revenue tagged to it (EUR)."""
    c = {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in hist.contacts.items()}
    rev = revenue.reindex(pd.MultiIndex.from_arrays([c["campaign"], c["customer"]])).to_numpy()
    start_days = np.array([h["start_day"] for h in hist.campaigns], dtype=np.int64)
    sent = np.where(c["treated"], start_days[c["campaign"]] if len(c["campaign"]) else 0, -1)
    return pa.table(
        {
            "campaign_id": labels(c["campaign"], campaign_ids),
            "customer_id": pa.array(c["customer"].astype(np.int64) + 1),
            "group": labels(c["treated"].astype(np.int8), ["control", "treatment"]),
            "sent_at": pa.array(
                np.where(
                    sent >= 0, np.datetime64(params.start, "D") + sent.astype("timedelta64[D]"), np.datetime64("NaT")
                ),
                pa.date32(),
            ),
            "responded": pa.array(~np.isnan(rev)),
            "revenue": pa.array(np.round(np.nan_to_num(rev), 2)),
            "unsubscribed": pa.array(c["unsubscribed"].astype(bool)),
        }
    )


def _campaigns(spec: dict, hist, campaign_ids: list[str]) -> pa.Table:
    return pa.table(
        {
            "campaign_id": campaign_ids,
            "name": [
                f"{h['offer'].replace('_', ' ')} by {h['channel']}, {h['start_date']:%B %Y}" for h in hist.campaigns
            ],
            "channel": [h["channel"] for h in hist.campaigns],
            "offer": [h["offer"] for h in hist.campaigns],
            "start_date": pa.array([h["start_date"] for h in hist.campaigns], pa.date32()),
            "cost_per_contact": [float(spec["channels"][h["channel"]]["cost_per_contact"]) for h in hist.campaigns],
            "response_window_days": [int(h["window_days"]) for h in hist.campaigns],
        }
    )


def _customers(rng, spec, params, customer_id, people: _People) -> pa.Table:
    n, m = people.n, people.m
    ids = draw_identities(rng, customer_id, spec, params.locale, 1.0)
    phone = pc.if_else(pa.array(people.has_phone), ids.column("phone"), pa.scalar(None, pa.string()))
    stages = spec["prospects"]["stages"]
    stage = rng.choice(len(stages), size=m, p=np.array(list(stages.values())) / sum(stages.values()))
    src = spec["customers"]["acquisition_sources"]
    source = rng.choice(len(src), size=n + m, p=np.array(list(src.values())) / sum(src.values()))
    return pa.table(
        {
            "customer_id": pa.array(customer_id),
            **{name: ids.column(name) for name in ("first_name", "last_name", "email")},
            "phone": phone,
            **{name: ids.column(name) for name in ("postcode", "city", "departement", "region")},
            "birth_year": pa.array((params.end.year - people.age).astype(np.int64)),
            "signup_date": _dates(params.start, np.concatenate([people.signup_day, people.lead_day])),
            "acquisition_source": labels(source, src),
            "is_prospect": pa.array(np.arange(n + m) >= n),
            "journey_stage": labels(np.concatenate([np.full(n, -1), stage]), stages),
            "has_app": pa.array(people.has_app),
        }
    )


def _consents_table(spec, start, customer_id, *states: ConsentState) -> pa.Table:
    channels = list(spec["channels"])
    status = np.concatenate([s.status for s in states])
    updated = np.concatenate([s.updated_day for s in states])
    bloctel = np.concatenate([s.bloctel for s in states])
    preferred = np.concatenate([s.preferred for s in states])
    max_pm = np.concatenate([s.max_per_month for s in states])
    n, k = status.shape
    is_phone = np.tile(np.array(channels) == "phone", n)
    max_pm = np.repeat(max_pm, k).astype(np.int64)
    return pa.table(
        {
            "customer_id": pa.array(np.repeat(customer_id, k)),
            "channel": labels(np.tile(np.arange(k), n), channels),
            "status": labels(status.ravel(), STATUS),
            "bloctel": masked(np.repeat(bloctel, k), ~is_phone),
            "preferred_channel": labels(np.repeat(preferred, k), channels),
            "max_contacts_per_month": masked(max_pm, max_pm <= 0),
            "updated_at": _dates(start, updated.ravel()),
        }
    )


def _truth(spec, params, customer_id, people: _People, dropout_day, n_days, last_day, customers) -> pa.Table:
    """Per customer: hidden parameters, state at the end, next-year expectations, true effects."""
    traits, profile, n, m = people.traits, people.profile, people.n, people.m
    alive = dropout_day < 0
    weeks = 52.0
    rate = traits.lam * traits.p_drop
    expected = np.round(np.where(alive, (1 - np.exp(-rate * weeks)) / traits.p_drop, 0.0), STABLE_DECIMALS)
    window = spec["response"]["window_days"]
    after = seasonal_intensity(params.end + dt.timedelta(days=1), window, spec["purchases"]["seasonality"])
    p0 = np.round(np.where(alive, baseline_chance(traits.lam, after.sum() / 7), 0.0), STABLE_DECIMALS)
    effects = _true_effects(spec, profile, alive, p0, (n_days - 1 - last_day) / 7)
    mean_tau = np.mean(list(effects.values()), axis=0)
    kinds = uplift_type(alive, p0, mean_tau, SURE_THING_BASELINE, PERSUADABLE_EFFECT)
    uplift_codes = pd.Index(UPLIFT_TYPES).get_indexer(kinds)
    categories = spec["catalogue"]["categories"]
    margin_rate = np.sum(traits.preferences * np.array([c["margin_rate"] for c in categories.values()]), axis=1)
    conv = spec["prospects"]["conversion_90d"]
    stage = customers.column("journey_stage").to_pylist()[n:]
    dropout_date = np.where(
        alive, np.datetime64("NaT"), np.datetime64(params.start, "D") + dropout_day.astype("timedelta64[D]")
    )

    def pad(values, fill):
        return np.concatenate([values, np.full(m, fill, dtype=np.asarray(values).dtype)])

    return pa.table(
        {
            "customer_id": pa.array(customer_id),
            "is_prospect": pa.array(np.arange(n + m) >= n),
            "purchase_rate_per_week": pa.array(pad(traits.lam, np.nan)),
            "dropout_probability": pa.array(pad(traits.p_drop, np.nan)),
            "spend_nu": pa.array(pad(traits.nu, np.nan)),
            "mean_order_value": pa.array(pad(people.mean_order, np.nan)),
            "margin_rate": pa.array(pad(margin_rate, np.nan)),
            "alive_at_end": pa.array(pad(alive, False)),
            "dropout_date": pa.array(pad(dropout_date, np.datetime64("NaT")), pa.date32()),
            "expected_purchases_52w": pa.array(pad(expected, 0.0)),
            "expected_value_52w": pa.array(pad(expected * people.mean_order, 0.0)),
            "baseline_chance_window": pa.array(pad(p0, 0.0)),
            "fatigue_tolerance": pa.array(pad(profile.tolerance, 0)),
            "sleeping_dog": pa.array(pad(profile.sleeping_dog, False)),
            "uplift_type": labels(pad(uplift_codes, -1), UPLIFT_TYPES),
            **{k: pa.array(pad(v, 0.0)) for k, v in effects.items()},
            "conversion_90d": pa.array(np.concatenate([np.full(n, np.nan), [conv[s] for s in stage]])),
            **{
                nurture_column(channel): pa.array(np.concatenate([np.full(n, np.nan), lift]))
                for channel, lift in nurture_effects(spec, stage, people.age[n:]).items()
            },
        }
    )


def _true_effects(
    spec: dict, profile: ResponseProfile, alive: np.ndarray, p0: np.ndarray, recency: np.ndarray
) -> dict[str, np.ndarray]:
    """Per channel and offer (``effect_column``): each customer's true effect of a contact at the
    end of the history (probability points; 0 for those no longer alive), ``recency`` in weeks."""
    n = len(alive)
    rows = np.arange(n)
    effects = {}
    for channel in spec["channels"]:
        for offer in spec["offers"]:
            tau = incremental_effect(spec, profile, rows, channel, offer, p0, recency, np.zeros(n))
            effects[effect_column(channel, offer)] = np.round(np.where(alive, tau, 0.0), 6)
    return effects
