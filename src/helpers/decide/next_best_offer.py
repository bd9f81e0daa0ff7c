"""From past randomised campaigns to the next best offer for each customer.

Each past campaign is an arm (channel x offer). Every contacted or held-out customer becomes a row
with features computed *as of the day before the campaign* (nothing from the future leaks in) and
two outcomes over the response window: conversion and margin (EUR). Per arm, ``helpers.models.uplift``
learns the incremental effect; the next best offer is the arm with the highest expected
incremental margin after the contact cost, or no contact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.data.contract import PERSONAL_COLUMNS
from helpers.data.dataset import Dataset
from helpers.errors import ModelInputError
from helpers.features import customer_summary, execute, money_sum
from helpers.models import bg_nbd, off_policy, parallel, uplift

NO_CONTACT = "no contact"
OUTCOME_COLUMNS = ("campaign_id", "customer_id", "arm", "w", "converted", "margin", "window_revenue")
IGNORED_CUSTOMER_COLUMNS = set(PERSONAL_COLUMNS) | {
    "customer_id",
    "postcode",
    "city",
    "departement",
    "signup_date",
    "journey_stage",
}
MAX_LEVELS = 20  # text columns with more distinct values are not used as features
MAX_FIT_CUSTOMERS = 200_000  # the BG/NBD behind the p_alive feature is fitted on at most this many
# customers (every k-th by customer_id): 4 parameters, precise long before
MIN_GROUP = 10  # treated and control rows an arm's uplift model needs (uplift.fit_arm refuses fewer)
MAX_TRAINING_ROWS = 200_000  # per arm, models learn from at most this many past contacts (a random sample)


class Store(Protocol):
    """Where the training table and arm models are kept between notebooks (``helpers.run.cache.ArmStore``)."""

    def models(
        self, fits: list[uplift.ArmFit], fit: Callable[[list[uplift.ArmFit]], list[uplift.ArmModel]]
    ) -> list[uplift.ArmModel]:
        """The model of each of ``fits``: kept before, or from one call of ``fit``."""

    def table(self, data: Dataset, name: str, parameters: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The table ``build`` gives from ``data`` with ``parameters``."""


def arms(data: Dataset) -> pd.DataFrame:
    """The arms of the campaign history: arm name, channel, offer, mean cost per contact (EUR),
    campaigns. Refuses a campaign without a control group, naming it."""
    campaigns = data.frame("campaigns")
    contacts = data.frame("contacts", ["campaign_id", "group"])
    groups = contacts.groupby("campaign_id").group.agg(lambda g: set(g))
    for campaign_id in campaigns.campaign_id:
        present = groups.get(campaign_id, set())
        if "control" not in present:
            raise uplift.UpliftInputError(
                f"campaign {campaign_id} has no control group (groups found: "
                f"{sorted(present) or 'no contacts'}): its effect cannot be measured. "
                "Leave it out of the contacts file or hold out a random control next time."
            )
    campaigns["arm"] = campaigns.channel + " · " + campaigns.offer
    cost = campaigns.cost_per_contact if "cost_per_contact" in campaigns else pd.Series(0.0, index=campaigns.index)
    return (
        campaigns.assign(cost_per_contact=cost)
        .groupby(["arm", "channel", "offer"])
        .agg(cost_per_contact=("cost_per_contact", "mean"), campaigns=("campaign_id", "size"))
        .reset_index()
    )


def customer_features(
    data: Dataset,
    day: dt.date,
    customer_ids: ArrayLike,
    customers: pd.DataFrame | None = None,
    store: Store | None = None,
) -> pd.DataFrame:
    """Pre-treatment features of ``customer_ids`` as of ``day`` (indexed by customer_id): purchase
    history and BG/NBD outputs when a transaction log exists (recency and tenure in weeks, orders,
    repeat days, revenue and mean order in EUR, P(alive), expected purchases over 12 weeks), plus
    the customers table's numeric, yes/no and few-valued text columns (one-hot; pass ``customers``
    to reuse a frame already read). Missing values stay NaN (the tree learners handle them). With a
    ``store``, built once for these customers and day (notebooks 30 and 40 score the same)."""
    ids = pd.Index(pd.unique(np.asarray(customer_ids)), name="customer_id")
    if store is not None:
        key = hashlib.sha256(pd.util.hash_pandas_object(ids.sort_values(), index=False).to_numpy().tobytes())
        return store.table(data, "features", f"{day}\0{key.hexdigest()}", lambda: customer_features(data, day, ids))
    out = pd.DataFrame(index=ids)
    if data.has("transactions"):
        summary = execute(customer_summary(data.table("transactions"), day)).set_index("customer_id")
        history = pd.DataFrame(
            {
                "weeks_since_last": summary["T"] - summary.recency,
                "tenure_weeks": summary["T"],
                "orders": summary.n_orders,
                "repeat_days": summary.frequency,
                "revenue": summary.revenue,
                "mean_order": summary.monetary,
            }
        )
        step = -(-len(summary) // MAX_FIT_CUSTOMERS)
        try:
            fit = bg_nbd.fit(summary.sort_index().iloc[::step])
            x, t_x, T = summary.frequency.to_numpy(float), summary.recency.to_numpy(float), summary["T"].to_numpy(float)
            history["p_alive"] = bg_nbd.p_alive(fit.values, x, t_x, T)
            history["expected_purchases_12w"] = bg_nbd.expected_purchases(fit.values, x, t_x, T, 12.0)
        except ModelInputError:
            pass  # too little history at this date: no model features
        out = out.join(history)
    if data.has("customers"):
        out = out.join(_customer_columns(data.frame("customers") if customers is None else customers, day))
    return out.sort_index()


def _customer_columns(customers: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    table = customers.set_index("customer_id")
    cols = {}
    if "birth_year" in table:
        cols["age"] = day.year - table.birth_year
    for name in table.columns:
        series = table[name]
        if name in IGNORED_CUSTOMER_COLUMNS or name == "birth_year":
            continue
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            cols[name] = series.astype(float)
        elif series.nunique() <= MAX_LEVELS:
            for level in sorted(series.dropna().unique()):
                cols[f"{name}={level}"] = (series == level).astype(float)
    return pd.DataFrame(cols, index=table.index)


def training_table(data: Dataset, margin_rate: float = 0.5, store: Store | None = None) -> pd.DataFrame:
    """One row per customer drawn into a past campaign: campaign_id, customer_id, arm, w (1
    treated, 0 control), converted (1/0), margin and window_revenue (EUR in the response window),
    and the features as of the day before the campaign. Margin: the tagged transactions' margin where the log has
    margin and campaign_id, else revenue x ``margin_rate``. ``store`` (``notebook.arm_store``): the table
    built before from the same data and code, else built (a BG/NBD fit per campaign: 8 s for 20,000 customers)."""
    if store is not None:
        return store.table(data, "training", f"margin_rate={margin_rate!r}", lambda: training_table(data, margin_rate))
    if not data.has("contacts") or not data.has("campaigns"):
        raise uplift.UpliftInputError(
            "uplift needs the contacts and campaigns tables (a past campaign with a randomised control group)."
        )
    arms(data)  # refuses a campaign without a control group
    contacts = data.frame("contacts").merge(
        data.frame("campaigns")[["campaign_id", "channel", "offer", "start_date"]], on="campaign_id"
    )
    if "responded" not in contacts and "revenue" not in contacts:
        raise uplift.UpliftInputError("contacts needs responded or revenue: the outcome to learn from.")
    contacts["arm"] = contacts.channel + " · " + contacts.offer
    contacts["w"] = (contacts.group == "treatment").astype(int)
    revenue = contacts.revenue.fillna(0.0) if "revenue" in contacts else pd.Series(0.0, index=contacts.index)
    contacts["converted"] = (contacts.responded.fillna(False) if "responded" in contacts else revenue > 0).astype(float)
    contacts["window_revenue"] = revenue
    contacts["margin"] = revenue * margin_rate
    if data.has("transactions", "margin", "campaign_id"):
        tx = data.table("transactions")
        tagged = (
            tx.filter(tx.campaign_id.notnull())
            .group_by(["campaign_id", "customer_id"])
            .aggregate(window_margin=money_sum(tx.margin))
            .to_pandas()
        )
        contacts = contacts.merge(tagged, on=["campaign_id", "customer_id"], how="left")
        contacts["margin"] = contacts.window_margin.fillna(0.0)
    rows = []
    customers = data.frame("customers") if data.has("customers") else None
    for (_campaign_id, start), group in contacts.groupby(["campaign_id", "start_date"], sort=True):
        feats = customer_features(
            data, (pd.Timestamp(start) - pd.Timedelta(days=1)).date(), group.customer_id, customers
        )
        rows.append(
            group[["campaign_id", "customer_id", "arm", "w", "converted", "margin", "window_revenue"]].merge(
                feats, left_on="customer_id", right_index=True, how="left"
            )
        )
    return pd.concat(rows, ignore_index=True)


def feature_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in OUTCOME_COLUMNS]


def _at_most(rows: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``rows``, or a random ``n`` of them (in their order) when there are more."""
    return rows if len(rows) <= n else rows.iloc[np.sort(rng.choice(len(rows), n, replace=False))]


def fit_arms(
    table: pd.DataFrame,
    seed: int | np.random.Generator,
    outcomes: tuple[str, ...] = ("converted", "margin"),
    store: Store | None = None,
) -> dict[tuple[str, str], uplift.ArmModel]:
    """An uplift model per arm and outcome (learner chosen by held-out Qini, on at most ``MAX_TRAINING_ROWS``
    rows), each from (seed, arm, outcome, the arm's rows) alone: ``uplift.arm_rng``; a Generator gives one draw.
    The models are fitted side by side on the machine's cores (``parallel.starmap``: the same models as one
    by one). ``store`` (``helpers.run.cache.ArmStore``): a model fitted before from the same rows, seed and
    code, else fitted."""
    base = int(seed) if isinstance(seed, (int, np.integer)) else int(seed.integers(2**63))
    fits, columns = [], tuple(feature_columns(table))
    for name, positions in sorted(table.groupby("arm").indices.items()):
        arm = str(name)
        sample = _at_most(pd.Series(positions), MAX_TRAINING_ROWS, uplift.arm_rng(base, arm)).to_numpy()
        for outcome in outcomes:
            rng = uplift.arm_rng(base, arm, outcome)
            fits.append(uplift.ArmFit(table, columns, positions, sample, base, arm, outcome, rng))
    models = _fit(fits) if store is None else store.models(fits, _fit)
    return {(arm_fit.arm, arm_fit.outcome): model for arm_fit, model in zip(fits, models, strict=True)}


def _fit(fits: list[uplift.ArmFit]) -> list[uplift.ArmModel]:
    return parallel.starmap(uplift.fit_arm, (arm_fit.arguments() for arm_fit in fits))


def effects_by_arm(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm and outcome: the average effect (treated - control) with its 95% interval."""
    rows = []
    for arm, group in table.groupby("arm", sort=True):
        for outcome in ("converted", "margin"):
            rows.append({"arm": arm, "outcome": outcome, **uplift.average_effect(group[outcome], group.w)})
    return pd.DataFrame(rows)


def balance_by_arm(table: pd.DataFrame) -> pd.DataFrame:
    """Randomisation check per arm (see ``uplift.balance_check``): p-value, largest |SMD|."""
    columns = feature_columns(table)
    rows = []
    for arm, group in table.groupby("arm", sort=True):
        usable = group[columns].loc[:, group[columns].notna().all() & (group[columns].std() > 0)]
        check = uplift.balance_check(usable, group.w)
        rows.append(
            {
                "arm": arm,
                "p_value": round(check["p_value"], 4),
                "max_abs_smd": round(check["max_abs_smd"], 4),
                "features": usable.shape[1],
            }
        )
    return pd.DataFrame(rows)


def score_customers(models: dict, features: pd.DataFrame, columns: list[str], outcome: str) -> pd.DataFrame:
    """Predicted uplift of ``outcome`` for every customer (rows) and arm (columns)."""
    X = features.reindex(columns=columns).to_numpy(dtype=float)
    return pd.DataFrame(
        {arm: model.predict(X) for (arm, out), model in models.items() if out == outcome}, index=features.index
    )


def expected_margin(
    conversion_uplift: pd.DataFrame,
    features: pd.DataFrame,
    arm_table: pd.DataFrame,
    margin_rate: float,
    default_basket: float,
    discounts: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Expected incremental margin of each arm for each customer before the contact cost (EUR):
    uplift in the chance of buying x the customer's basket x ``margin_rate``, minus, for an offer
    with a discount, the discount given on the purchase they would have made anyway (baseline
    chance over two weeks, from BG/NBD's expected purchases over 12 weeks, x basket x discount).
    The basket is the customer's mean order so far, else ``default_basket`` (EUR: e.g. the mean
    revenue of buyers in past response windows, see ``history_basket``). Modelling conversion and
    multiplying by the basket is far less noisy than modelling margin directly."""
    mean_order = features.get("mean_order", pd.Series(np.nan, index=features.index))
    basket = mean_order.where(mean_order > 0).fillna(default_basket)
    baseline = (features.get("expected_purchases_12w", pd.Series(0.0, index=features.index)) / 6).clip(0, 1).fillna(0)
    offer_of = arm_table.set_index("arm").offer
    value = conversion_uplift.mul(basket * margin_rate, axis=0)
    for arm in value.columns:
        value[arm] -= (discounts or {}).get(offer_of[arm], 0.0) * baseline * basket
    return value


def history_basket(table: pd.DataFrame) -> float:
    """Mean revenue (EUR) of the customers who bought in a past campaign's response window."""
    buyers = table[(table.converted > 0) & (table.window_revenue > 0)]
    return float(buyers.window_revenue.mean()) if len(buyers) else 0.0


def cross_fitted_margins(
    history: pd.DataFrame,
    today: pd.DataFrame,
    arm_table: pd.DataFrame,
    margin_rate: float,
    discounts: dict[str, float],
    seed: int | np.random.Generator,
    folds: int = 2,
    store: Store | None = None,
) -> pd.DataFrame:
    """``expected_margin`` for the customers of ``today`` (EUR, customers x arms, before the contact
    cost), each from conversion uplift models that never saw that customer's past rows: customers
    are split at random into ``folds``, each scored by the models fitted on the other folds' rows.
    A plan chosen from these values can be valued honestly on the history (``off_policy.plan_value``).
    An arm with fewer than ``MIN_GROUP`` treated or control rows in a fold's training rows is too thin
    to model: its customers get the arm's average conversion effect on those rows (0 without both groups).
    ``store``: as ``fit_arms``'."""
    rng = np.random.default_rng(seed)
    fold = pd.Series(rng.integers(folds, size=len(today)), index=today.index)
    past_fold = fold.reindex(history.customer_id).to_numpy()  # NaN: a customer not scored today
    columns = feature_columns(history)
    parts = []
    for k in range(folds):
        train = history[past_fold != k]
        size = pd.crosstab(train.arm, train.w).reindex(columns=[0, 1], fill_value=0)
        thin = size.index[size.min(axis=1) < MIN_GROUP]
        models = fit_arms(train[~train.arm.isin(thin)], rng, ("converted",), store)
        scored = today[fold == k]
        uplift_k = score_customers(models, scored, columns, "converted")
        for arm in thin:
            rate = train[train.arm == arm].groupby("w").converted.mean()
            uplift_k[arm] = float(rate[1] - rate[0]) if len(rate) == 2 else 0.0
        uplift_k = uplift_k.sort_index(axis=1)
        parts.append(expected_margin(uplift_k, scored, arm_table, margin_rate, history_basket(train), discounts))
    return pd.concat(parts).reindex(today.index)


def choose_offers(margin_uplift: pd.DataFrame, costs: pd.Series, eligible: pd.DataFrame | None = None) -> pd.DataFrame:
    """The next best offer: per customer the arm with the highest expected incremental margin after
    the contact cost (EUR), or NO_CONTACT when none is positive. ``eligible`` (customers x arms,
    True where the channel may legally reach them) masks the others."""
    value = margin_uplift - costs.reindex(margin_uplift.columns).to_numpy()
    if eligible is not None:
        value = value.where(eligible.reindex(index=value.index, columns=value.columns).fillna(False).astype(bool))
    value = value.fillna(-np.inf)  # an arm the customer may not receive never wins
    top = value.max(axis=1)
    choice = value.idxmax(axis=1).where(top > 0, NO_CONTACT)
    return pd.DataFrame({"next_best_offer": choice, "expected_incremental_margin": top.clip(lower=0)})


def due_in_weeks(data: Dataset, as_of: dt.date, customer_ids: ArrayLike) -> pd.Series:
    """The right time: weeks until each customer's expected next purchase if still active (their
    expected gap between purchases under BG/NBD, (alpha + T) / (r + x), minus the time since their
    last purchase), at least 0."""
    summary = execute(customer_summary(data.table("transactions"), as_of)).set_index("customer_id")
    fit = bg_nbd.fit(summary)
    r, alpha, _, _ = fit.values
    gap = (alpha + summary["T"]) / (r + summary.frequency)
    due = (gap - (summary["T"] - summary.recency)).clip(lower=0)
    return due.reindex(pd.Index(customer_ids, name="customer_id"))


def fit_response_models(
    table: pd.DataFrame, seed: int | np.random.Generator, store: off_policy.Store | None = None
) -> dict[str, object]:
    """The classic response model a team would build without a control group: per arm, the chance
    of buying if contacted, learned on treated customers only (it rewards sure things), at most
    ``MAX_TRAINING_ROWS`` per arm. ``store``: fitted at most once for the same table and draws."""
    rng = np.random.default_rng(seed)
    if store is not None:
        return store.drawn("response-models", [table], rng, lambda: fit_response_models(table, rng))
    columns = feature_columns(table)
    learner_seed = int(rng.integers(2**31))
    treated = {
        arm: _at_most(rows[rows.w == 1], MAX_TRAINING_ROWS, rng) for arm, rows in table.groupby("arm", sort=True)
    }
    tasks = ((learner_seed, rows[columns].to_numpy(float), rows.converted.to_numpy(float)) for rows in treated.values())
    return dict(zip(treated, parallel.starmap(_response_model, tasks), strict=True))


def _response_model(seed: int, X: np.ndarray, y: np.ndarray) -> object:
    return uplift.default_estimator(seed).fit(X, y)


def arm_matrix(eligible_channels: pd.DataFrame, arm_table: pd.DataFrame) -> pd.DataFrame:
    """Customers x arms eligibility from customers x channels eligibility."""
    return pd.DataFrame(
        {row.arm: eligible_channels[row.channel] for row in arm_table.itertuples()}, index=eligible_channels.index
    )


def arm_values(
    data: Dataset,
    as_of: dt.date,
    customer_ids: ArrayLike,
    margin_rate: float,
    discounts: dict[str, float],
    seed: int | np.random.Generator,
    store: Store | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """In one call, what notebook 30 does step by step: learn conversion uplift per arm from the
    campaign history (``store``: as ``fit_arms``') and return each customer's expected incremental
    margin per arm before the contact cost (customers x arms, EUR), with the arm table."""
    history = training_table(data, margin_rate, store)
    models = fit_arms(history, seed, ("converted",), store)
    today = customer_features(data, as_of, customer_ids, store=store)
    uplift_by_arm = score_customers(models, today, feature_columns(history), "converted")
    arm_table = arms(data)
    return expected_margin(uplift_by_arm, today, arm_table, margin_rate, history_basket(history), discounts), arm_table
