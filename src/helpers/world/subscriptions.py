"""A contract business's world (scenario ``kind: subscriptions``): subscribers acquired day by day
through channels, each renewing period after period until they leave, their churn drawn as the
shifted-beta-geometric model assumes (Fader & Hardie 2007).

Each subscriber's chance of leaving at a renewal is theta ~ Beta(alpha, beta) of their acquisition
channel, the same at every renewal; the periods they pay are Geometric(theta). The tables are the
contract's ``customers`` and ``subscriptions``; the hidden truth holds each subscriber's theta and
the true survival and retention curves of every cohort (start year x channel, and start year alone,
a mixture of the channels in the proportions it was acquired).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from helpers.models.retention import add_months
from helpers.world.columns import labels, masked
from helpers.world.identities import draw_identities
from helpers.world.scenario import WorldParameterError, WorldParameters

KIND = "subscriptions"
SECTIONS = ("defaults", "subscriptions", "customers")
CURVE_YEARS = 6  # the true curves run this many years of renewals
STABLE_DECIMALS = 9  # churn probabilities are rounded so the files are byte-identical on every machine


def check_scenario(spec: dict, fname: str) -> None:
    """Refuse a subscription scenario with a missing section or an impossible figure, naming it."""
    missing = [s for s in SECTIONS if not isinstance(spec.get(s), dict)]
    if missing:
        raise WorldParameterError(f"scenario: {fname} lacks the section(s) {', '.join(missing)}.")
    sub = spec["subscriptions"]
    if sub.get("period_months") not in (1, 3, 6, 12):
        raise WorldParameterError(f"scenario: {fname} subscriptions.period_months must be 1, 3, 6 or 12.")
    for section in ("acquisition", "plans"):
        if not isinstance(sub.get(section), dict) or not sub[section]:
            raise WorldParameterError(f"scenario: {fname} subscriptions.{section} must name at least one entry.")
    for name, channel in sub["acquisition"].items():
        for key in ("share", "alpha", "beta"):
            if not isinstance(channel.get(key), (int, float)) or channel[key] <= 0:
                raise WorldParameterError(
                    f"scenario: {fname} subscriptions.acquisition.{name}.{key} must be a positive number."
                )
    for name, plan in sub["plans"].items():
        if not all(isinstance(plan.get(k), (int, float)) and plan[k] > 0 for k in ("share", "monthly_price")):
            raise WorldParameterError(
                f"scenario: {fname} subscriptions.plans.{name} needs a positive share and monthly_price."
            )
    for i, push in enumerate(sub.get("pushes", [])):
        if push.get("channel") not in sub["acquisition"] or not push.get("multiplier", 0) > 0:
            raise WorldParameterError(
                f"scenario: {fname} subscriptions.pushes[{i}] needs a channel of subscriptions.acquisition and a "
                "positive multiplier."
            )
    if not 0 < sub.get("margin_rate", 0) < 1:
        raise WorldParameterError(f"scenario: {fname} subscriptions.margin_rate must lie in (0, 1).")


def true_parameters(spec: dict) -> dict:
    """The true sBG parameters per acquisition channel."""
    return {
        "sbg": {c: {"alpha": v["alpha"], "beta": v["beta"]} for c, v in spec["subscriptions"]["acquisition"].items()}
    }


def _channel_shares(sub: dict, start: dt.date, n_days: int) -> np.ndarray:
    """Per day of the history (rows) and channel, the chance a subscriber acquired that day came
    through it: the base shares, multiplied during the pushes."""
    channels = list(sub["acquisition"])
    weight = np.tile([float(sub["acquisition"][c]["share"]) for c in channels], (n_days, 1))
    days = np.datetime64(start, "D") + np.arange(n_days)
    for push in sub.get("pushes", []):
        inside = (days >= np.datetime64(push["start"], "D")) & (days <= np.datetime64(push["end"], "D"))
        weight[inside, channels.index(push["channel"])] *= push["multiplier"]
    return weight / weight.sum(axis=1, keepdims=True)


def _draw_subscriptions(rng: np.random.Generator, sub: dict, params: WorldParameters) -> dict[str, np.ndarray]:
    """Each subscriber's start, channel, churn probability theta, periods paid, plan and price, end
    (the anniversary not renewed) and whether still active at the history's end, in that order from ``rng``."""
    n, n_days = params.n_customers, (params.end - params.start).days + 1
    channels, plans = list(sub["acquisition"]), list(sub["plans"])
    start_day = np.sort(rng.integers(0, n_days, size=n))
    cumulative = np.cumsum(_channel_shares(sub, params.start, n_days)[start_day], axis=1)
    channel = np.minimum((rng.random(n)[:, None] > cumulative).sum(axis=1), len(channels) - 1)
    alpha = np.array([sub["acquisition"][c]["alpha"] for c in channels], dtype=float)[channel]
    beta = np.array([sub["acquisition"][c]["beta"] for c in channels], dtype=float)[channel]
    theta = np.round(rng.beta(alpha, beta), STABLE_DECIMALS)
    periods = rng.geometric(np.clip(theta, 1e-9, 1.0))  # periods paid, 1 or more
    plan_share = np.array([sub["plans"][p]["share"] for p in plans], dtype=float)
    plan = rng.choice(len(plans), size=n, p=plan_share / plan_share.sum())
    start = np.datetime64(params.start, "D") + start_day
    end = add_months(start, np.minimum(periods, 12 * 200) * sub["period_months"])
    price = np.array([sub["plans"][p]["monthly_price"] for p in plans], dtype=float)[plan]
    active = end > np.datetime64(params.end, "D")
    return {
        "channel": channel,
        "alpha": alpha,
        "beta": beta,
        "theta": theta,
        "periods": periods,
        "plan": plan,
        "price": price,
        "start": start,
        "end": end,
        "active": active,
    }


def build_subscription_tables(spec: dict, params: WorldParameters) -> dict[str, pa.Table]:
    """Every table of a subscription world (``truth`` and ``truth/retention`` are hidden), from
    ``params.seed``."""
    if params.n_prospects:
        raise WorldParameterError(
            f"n_prospects: a subscription world ({params.scenario}) holds subscribers only; set n_prospects=0, "
            f"not {params.n_prospects}."
        )
    rng = np.random.default_rng(params.seed)
    sub, n = spec["subscriptions"], params.n_customers
    channels = list(sub["acquisition"])
    d = _draw_subscriptions(rng, sub, params)
    customer_id = np.arange(1, n + 1, dtype=np.int64)
    ids = draw_identities(rng, customer_id, spec, params.locale, spec["customers"]["phone_share"])
    age_cfg = spec["customers"]["age"]
    age = np.clip(np.round(rng.normal(age_cfg["mean"], age_cfg["sd"], n)), age_cfg["min"], age_cfg["max"])
    source = labels(d["channel"], channels)
    year = d["start"].astype("datetime64[Y]").astype(np.int64) + 1970
    tables = {
        "customers": pa.table(
            {
                "customer_id": pa.array(customer_id),
                **{name: ids.column(name) for name in ids.column_names},
                "birth_year": pa.array((params.end.year - age).astype(np.int64)),
                "signup_date": pa.array(d["start"], pa.date32()),
                "acquisition_source": source,
            }
        ),
        "subscriptions": pa.table(
            {
                "customer_id": pa.array(customer_id),
                "start_date": pa.array(d["start"], pa.date32()),
                "end_date": masked(d["end"], d["active"], pa.date32()),
                "plan": labels(d["plan"], list(sub["plans"])),
                "monthly_price": pa.array(d["price"]),
            }
        ),
    }
    truth = {
        "customer_id": pa.array(customer_id),
        "acquisition_source": source,
        "cohort": pa.array(year.astype(str)),
        "churn_probability": pa.array(d["theta"]),
        "true_alpha": pa.array(d["alpha"]),
        "true_beta": pa.array(d["beta"]),
        "periods_paid": pa.array(d["periods"].astype(np.int64)),  # including those after the history's end
        "active_at_end": pa.array(d["active"]),
    }
    curves = _true_curves(sub, year, d["channel"])
    return {**tables, "truth": pa.table(truth), "truth/retention": curves}


def _true_curves(sub: dict, year: np.ndarray, channel: np.ndarray) -> pa.Table:
    """Per cohort (start year x channel, and start year alone: ``acquisition_source`` 'all') and
    renewal t = 0..CURVE_YEARS years: the true survival S(t) = B(alpha, beta+t) / B(alpha, beta) and
    retention S(t) / S(t-1); a year's mixture weighs each channel by the subscribers it brought."""
    from scipy.special import betaln

    channels = list(sub["acquisition"])
    alpha = np.array([sub["acquisition"][c]["alpha"] for c in channels], dtype=float)
    beta = np.array([sub["acquisition"][c]["beta"] for c in channels], dtype=float)
    t = np.arange(CURVE_YEARS * 12 // sub["period_months"] + 1)
    by_channel = np.exp(betaln(alpha[:, None], beta[:, None] + t) - betaln(alpha, beta)[:, None])
    rows: dict[str, list] = {"cohort": [], "acquisition_source": [], "period": [], "survival": []}
    for y in np.unique(year):
        counts = np.bincount(channel[year == y], minlength=len(channels))
        curves = [*by_channel[counts > 0], counts @ by_channel / counts.sum()]
        names = [c for c, k in zip(channels, counts, strict=True) if k > 0] + ["all"]
        for name, surv in zip(names, curves, strict=True):
            rows["cohort"] += [str(y)] * len(t)
            rows["acquisition_source"] += [name] * len(t)
            rows["period"] += t.tolist()
            rows["survival"] += np.round(surv, STABLE_DECIMALS).tolist()
    survival = np.array(rows["survival"]).reshape(-1, len(t))
    retention = np.concatenate([np.full((len(survival), 1), np.nan), survival[:, 1:] / survival[:, :-1]], axis=1)
    return pa.table({**rows, "retention": np.round(retention.ravel(), STABLE_DECIMALS)})
