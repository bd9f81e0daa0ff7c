"""Assemble a world: every table of the data contract plus the hidden truth, from one seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.world.calendar import operational_clock, seasonal_intensity
from helpers.world.campaigns import run_campaigns
from helpers.world.consents import STATUS, ConsentState, draw_consents
from helpers.world.identities import draw_identities
from helpers.world.purchases import draw_traits, order_categories, order_values, simulate_purchases
from helpers.world.response import baseline_chance, draw_profile, incremental_effect, uplift_type
from helpers.world.scenario import WorldParameters

SURE_THING_BASELINE = 0.10   # chance of buying in the window anyway that makes a "sure thing"
PERSUADABLE_EFFECT = 0.020   # mean true effect (probability points) that makes a "persuadable"
# numpy's exp/log take CPU-specific SIMD paths (AVX-512 or not) that differ in the last bit; values
# derived from them are rounded here so the files are byte-identical on every machine.
STABLE_DECIMALS = 9


def _dates(start: dt.date, days: np.ndarray) -> pa.Array:
    return pa.array((np.datetime64(start, "D") + days.astype("timedelta64[D]")), pa.date32())


def build_tables(spec: dict, params: WorldParameters) -> dict[str, pa.Table]:
    """All tables of one world, keyed by name; ``truth`` is the hidden one."""
    rng = np.random.default_rng(params.seed)
    n, m = params.n_customers, params.n_prospects
    n_days = (params.end - params.start).days + 1
    intensity = seasonal_intensity(params.start, n_days, spec["purchases"]["seasonality"])
    clock = operational_clock(intensity)

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
    alive_until = np.where(history.dropout_day >= 0, history.dropout_day, n_days)
    hist = run_campaigns(rng, spec, params.start, params.end, (history.customer, history.day), traits.lam,
                         alive_until, signup_day, clock, profile, consents_c, has_phone[:n], has_app[:n])

    transactions, contacts, campaigns = _transactions_contacts_campaigns(
        rng, spec, params, history, hist, traits, mean_order)
    customer_id = np.arange(1, n + m + 1, dtype=np.int64)
    customers = _customers(rng, spec, params, customer_id, age, signup_day, lead_day, has_phone, has_app, n)
    consents = _consents_table(spec, params.start, customer_id, consents_c, consents_p)
    truth = _truth(spec, params, customer_id, traits, history, profile, mean_order, n_days,
                   (history.customer, history.day), customers, m)
    cat = spec["catalogue"]["categories"]
    products = pa.table({"category": list(cat), "mean_price": [float(c["mean_price"]) for c in cat.values()],
                         "margin_rate": [float(c["margin_rate"]) for c in cat.values()]})
    return {"transactions": transactions, "customers": customers, "consents": consents,
            "campaigns": campaigns, "contacts": contacts, "products": products, "truth": truth}


def _transactions_contacts_campaigns(rng, spec, params, history, hist, traits, mean_order):
    """Final orders (baseline minus lost, plus incremental), the contact log and the campaign list."""
    n = len(traits.lam)
    keep = ~hist.removed
    added = {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in hist.added.items()}
    customer = np.concatenate([history.customer[keep], added["customer"]]).astype(np.int64)
    day = np.concatenate([history.day[keep], added["day"]]).astype(np.int64)
    campaign = np.concatenate([hist.campaign_of_order[keep], added["campaign"]]).astype(np.int32)
    discount = np.concatenate([hist.discount[keep], added["discount"]])
    order = np.lexsort((day, customer))
    customer, day, campaign, discount = customer[order], day[order], campaign[order], discount[order]

    gross = order_values(rng, traits.nu, customer, spec["spend"]["p"])
    category = order_categories(rng, traits.preferences, customer)
    categories = list(spec["catalogue"]["categories"])
    margin_rate = np.array([c["margin_rate"] for c in spec["catalogue"]["categories"].values()])[category]
    net = np.round(gross * (1 - discount), 2)
    margin = np.round(net - gross * (1 - margin_rate), 2)
    sales = spec["purchases"]["sales_channels"]
    sales_names = list(sales)
    sales_idx = rng.choice(len(sales), size=len(day), p=np.array(list(sales.values())) / sum(sales.values()))

    campaign_ids = [f"CMP-{c['start_date']:%Y%m}-{c['channel']}" for c in hist.campaigns]
    id_array = pa.array(campaign_ids + [None], pa.string())
    transactions = pa.table({
        "order_id": pa.array(np.arange(1, len(day) + 1, dtype=np.int64)),
        "customer_id": pa.array(customer + 1),
        "order_date": _dates(params.start, day),
        "amount": pa.array(net),
        "category": pa.DictionaryArray.from_arrays(pa.array(category.astype(np.int32)), categories).dictionary_decode(),
        "sales_channel": pa.DictionaryArray.from_arrays(pa.array(sales_idx.astype(np.int32)), sales_names).dictionary_decode(),
        "margin": pa.array(margin),
        "campaign_id": id_array.take(pa.array(np.where(campaign >= 0, campaign, len(campaign_ids)))),
    })

    c = {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in hist.contacts.items()}
    tagged = campaign >= 0
    revenue = pd.Series(net[tagged]).groupby([campaign[tagged], customer[tagged]]).sum()
    idx = pd.MultiIndex.from_arrays([c["campaign"], c["customer"]])
    rev = revenue.reindex(idx).to_numpy()
    start_days = np.array([h["start_day"] for h in hist.campaigns], dtype=np.int64)
    sent = np.where(c["treated"], start_days[c["campaign"]] if len(c["campaign"]) else 0, -1)
    contacts = pa.table({
        "campaign_id": id_array.take(pa.array(c["campaign"].astype(np.int64))),
        "customer_id": pa.array(c["customer"].astype(np.int64) + 1),
        "group": pa.array(np.where(c["treated"], "treatment", "control").tolist(), pa.string()),
        "sent_at": pa.array(np.where(sent >= 0, np.datetime64(params.start, "D") + sent.astype("timedelta64[D]"),
                                     np.datetime64("NaT")), pa.date32()),
        "responded": pa.array(~np.isnan(rev)),
        "revenue": pa.array(np.round(np.nan_to_num(rev), 2)),
        "unsubscribed": pa.array(c["unsubscribed"].astype(bool)),
    })
    campaigns = pa.table({
        "campaign_id": campaign_ids,
        "name": [f"{h['offer'].replace('_', ' ')} by {h['channel']}, {h['start_date']:%B %Y}" for h in hist.campaigns],
        "channel": [h["channel"] for h in hist.campaigns],
        "offer": [h["offer"] for h in hist.campaigns],
        "start_date": pa.array([h["start_date"] for h in hist.campaigns], pa.date32()),
        "cost_per_contact": [float(spec["channels"][h["channel"]]["cost_per_contact"]) for h in hist.campaigns],
        "response_window_days": [int(h["window_days"]) for h in hist.campaigns],
    })
    return transactions, contacts, campaigns


def _customers(rng, spec, params, customer_id, age, signup_day, lead_day, has_phone, has_app, n):
    m = len(customer_id) - n
    ids = draw_identities(rng, customer_id, spec, params.locale, 1.0)
    phone = pa.array(np.where(has_phone, np.array(ids.column("phone").to_pylist(), dtype=object), None).tolist(),
                     pa.string())
    stages = spec["prospects"]["stages"]
    stage_names = np.array(list(stages))
    stage = stage_names[rng.choice(len(stages), size=m, p=np.array(list(stages.values())) / sum(stages.values()))]
    src = spec["customers"]["acquisition_sources"]
    source = np.array(list(src))[rng.choice(len(src), size=n + m, p=np.array(list(src.values())) / sum(src.values()))]
    return pa.table({
        "customer_id": pa.array(customer_id),
        **{name: ids.column(name) for name in ("first_name", "last_name", "email")},
        "phone": phone,
        **{name: ids.column(name) for name in ("postcode", "city", "departement", "region")},
        "birth_year": pa.array((params.end.year - age).astype(np.int64)),
        "signup_date": _dates(params.start, np.concatenate([signup_day, lead_day])),
        "acquisition_source": pa.array(source.tolist(), pa.string()),
        "is_prospect": pa.array(np.arange(n + m) >= n),
        "journey_stage": pa.array([None] * n + stage.tolist(), pa.string()),
        "has_app": pa.array(has_app),
    })


def _consents_table(spec, start, customer_id, *states: ConsentState) -> pa.Table:
    channels = list(spec["channels"])
    status = np.concatenate([s.status for s in states])
    updated = np.concatenate([s.updated_day for s in states])
    bloctel = np.concatenate([s.bloctel for s in states])
    preferred = np.concatenate([s.preferred for s in states])
    max_pm = np.concatenate([s.max_per_month for s in states])
    n, k = status.shape
    pref_names = np.array(channels + [None], dtype=object)[np.where(preferred >= 0, preferred, k)]
    is_phone = np.tile(np.array(channels) == "phone", n)
    return pa.table({
        "customer_id": pa.array(np.repeat(customer_id, k)),
        "channel": pa.array(np.tile(channels, n).tolist(), pa.string()),
        "status": pa.array(STATUS[status.ravel()].tolist(), pa.string()),
        "bloctel": pa.array(np.where(is_phone, np.repeat(bloctel, k), None).tolist(), pa.bool_()),
        "preferred_channel": pa.array(np.repeat(pref_names, k).tolist(), pa.string()),
        "max_contacts_per_month": pa.array(np.where(np.repeat(max_pm, k) > 0, np.repeat(max_pm, k), None).tolist(), pa.int64()),
        "updated_at": _dates(start, updated.ravel()),
    })


def _truth(spec, params, customer_id, traits, history, profile, mean_order, n_days,
           customer_day, customers, m):
    """Per customer: hidden parameters, state at the end, next-year expectations, true effects."""
    n = len(traits.lam)
    alive = history.dropout_day < 0
    weeks = 52.0
    rate = traits.lam * traits.p_drop
    expected = np.round(np.where(alive, (1 - np.exp(-rate * weeks)) / traits.p_drop, 0.0), STABLE_DECIMALS)
    customer, day = customer_day
    last_day = np.zeros(n, dtype=np.int64)
    last_day[customer] = day                      # orders are sorted: the last write is the latest
    window = spec["response"]["window_days"]
    after = seasonal_intensity(params.end + dt.timedelta(days=1), window, spec["purchases"]["seasonality"])
    p0 = np.round(np.where(alive, baseline_chance(traits.lam, after.sum() / 7), 0.0), STABLE_DECIMALS)
    recency = (n_days - 1 - last_day) / 7
    effects = {}
    rows = np.arange(n)
    for channel in spec["channels"]:
        for offer in spec["offers"]:
            tau = incremental_effect(spec, profile, rows, channel, offer, p0, recency, np.zeros(n))
            effects[f"uplift_{channel}_{offer}"] = np.round(np.where(alive, tau, 0.0), 6)
    mean_tau = np.mean(list(effects.values()), axis=0)
    categories = spec["catalogue"]["categories"]
    margin_rate = traits.preferences @ np.array([c["margin_rate"] for c in categories.values()])
    conv = spec["prospects"]["conversion_90d"]
    stage = customers.column("journey_stage").to_pylist()[n:]

    def pad(values, fill):
        return np.concatenate([values, np.full(m, fill, dtype=np.asarray(values).dtype)])

    return pa.table({
        "customer_id": pa.array(customer_id),
        "is_prospect": pa.array(np.arange(n + m) >= n),
        "purchase_rate_per_week": pa.array(pad(traits.lam, np.nan)),
        "dropout_probability": pa.array(pad(traits.p_drop, np.nan)),
        "spend_nu": pa.array(pad(traits.nu, np.nan)),
        "mean_order_value": pa.array(pad(mean_order, np.nan)),
        "margin_rate": pa.array(pad(margin_rate, np.nan)),
        "alive_at_end": pa.array(pad(alive, False)),
        "dropout_date": pa.array(pad(np.where(alive, np.datetime64("NaT"), np.datetime64(params.start, "D")
                                              + history.dropout_day.astype("timedelta64[D]")),
                                     np.datetime64("NaT")), pa.date32()),
        "expected_purchases_52w": pa.array(pad(expected, 0.0)),
        "expected_value_52w": pa.array(pad(expected * mean_order, 0.0)),
        "baseline_chance_window": pa.array(pad(p0, 0.0)),
        "fatigue_tolerance": pa.array(pad(profile.tolerance, 0)),
        "sleeping_dog": pa.array(pad(profile.sleeping_dog, False)),
        "uplift_type": pa.array(pad(uplift_type(alive, p0, mean_tau, SURE_THING_BASELINE, PERSUADABLE_EFFECT)
                                    .astype(object), None).tolist(), pa.string()),
        **{k: pa.array(pad(v, 0.0)) for k, v in effects.items()},
        "conversion_90d": pa.array(np.concatenate([np.full(n, np.nan), [conv[s] for s in stage]])),
    })
