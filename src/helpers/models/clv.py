"""Customer lifetime value: a purchase model (BG/NBD, Pareto/NBD, MBG/NBD, or BG/BB on discrete
opportunities, see ``purchase_models``) for how many purchase occasions are to come, Gamma-Gamma for what each is
worth, both fitted by maximum likelihood on the customer summary (``features.customer_summary``
with ``gamma_gamma.with_repeat_spend``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import ModelInputError
from helpers.models import gamma_gamma
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import model_of

WEEKS_PER_MONTH = 52.0 / 12


def customer_value(
    summary: pd.DataFrame,
    purchases: Fit,
    spend: Fit,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    unit_weeks: float = 1.0,
) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases over ``months``, expected order value (EUR, on the
    spend fit's basis) and CLV (EUR of revenue, each month's expected purchases discounted at
    ``annual_discount_rate``). ``unit_weeks``: weeks in one unit of the summary's T (1 for
    ``features.customer_summary``; for BG/BB one opportunity, ``opportunities.WEEKS[period]``, each
    month then holding the opportunities that come in it). Columns: customer_id, p_alive,
    expected_purchases, expected_order_value, clv."""
    model = model_of(purchases)
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    alive = model.p_alive(purchases.values, x, t_x, T)
    codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([x, T]))  # customers sharing (x, T) share values
    ux, uT = pairs.get_level_values(0).to_numpy(), pairs.get_level_values(1).to_numpy()
    horizons = model.horizon(np.arange(1, months + 1) * WEEKS_PER_MONTH, unit_weeks)
    if_alive = model.expected_if_alive(purchases.values, ux[:, None], uT[:, None], horizons[None, :])
    cumulative = np.hstack([np.zeros((len(x), 1)), alive[:, None] * if_alive[codes]])  # customers x (months + 1)
    discount = (1 + annual_discount_rate) ** (-np.arange(1, months + 1) / 12)
    per_month = np.diff(cumulative, axis=1)
    order_value = gamma_gamma.expected_order_value(spend, summary)
    return pd.DataFrame(
        {
            "customer_id": summary.customer_id.to_numpy(),
            "p_alive": alive,
            "expected_purchases": cumulative[:, -1],
            "expected_order_value": order_value,
            "clv": np.sum(per_month * discount[None, :], axis=1) * order_value,
        }
    )


def value_at_risk(
    value: pd.DataFrame,
    summary: pd.DataFrame,
    top_share: float = 0.2,
    min_p_alive: float = 0.05,
    max_p_alive: float = 0.5,
    n: int = 20,
) -> pd.DataFrame:
    """Reactivation targets: among the top ``top_share`` of customers by yearly revenue so far (net
    revenue over their years as customers, at least one), those whose probability of still being
    active lies in [min_p_alive, max_p_alive): valuable, slipping, not yet gone. Largest yearly
    revenue first; ids and figures only."""
    table = summary[["customer_id", "n_orders", "revenue", "last_order", "T"]].merge(value, on="customer_id")
    table["yearly_revenue"] = table.revenue / np.maximum(table["T"] / 52.0, 1.0)
    threshold = table.yearly_revenue.quantile(1 - top_share)
    risky = table[
        (table.yearly_revenue >= threshold) & table.p_alive.between(min_p_alive, max_p_alive, inclusive="left")
    ]
    columns = ["customer_id", "n_orders", "revenue", "yearly_revenue", "last_order", "p_alive", "clv"]
    return (
        risky.sort_values(["yearly_revenue", "customer_id"], ascending=[False, True])
        .head(n)[columns]
        .reset_index(drop=True)
    )


@dataclass
class Models:
    """A purchase model and Gamma-Gamma fitted together, or None with the reason in ``message``."""

    purchases: Fit | None
    spend: Fit | None
    message: str

    @property
    def ok(self) -> bool:
        return self.purchases is not None and self.spend is not None


def fit_models(summary: pd.DataFrame, model: str = "bgnbd", spend_basis: str = "repeat_occasions") -> Models:
    """Fit the purchase model ``model`` and Gamma-Gamma on ``spend_basis`` on the customers of
    ``summary`` whose net revenue is above zero (the others, whose returns cancel their purchases, are
    counted and left out, as ``features.modelled_customers`` does); when the data cannot support the
    models, say why instead of failing, so a notebook can skip the sections that need them (e.g.
    every customer bought once)."""
    purchase_model = model_of(model)
    modelled = summary[summary.revenue > 0]
    left_out = len(summary) - len(modelled)
    said = f" Customers whose net revenue is zero or less, left out of the models: {left_out:,}." if left_out else ""
    try:
        purchases = purchase_model.fit(modelled)
        spend = gamma_gamma.fit(modelled, spend_basis)
    except ModelInputError as exc:
        return Models(None, None, f"Models not fitted: {exc}{said}")
    fitted = int(gamma_gamma.in_sample(modelled, spend_basis).sum())
    basis_words = "repeat purchase occasions" if spend_basis == "repeat_occasions" else "orders"
    notes = [
        f"{purchase_model.label} on {purchases.n_customers:,} customers "
        f"({'converged' if purchases.converged else 'NOT converged'}); "
        f"Gamma-Gamma on the {basis_words} of {fitted:,} repeat buyers with a positive mean "
        f"({'converged' if spend.converged else 'NOT converged'})",
        f"{len(summary) - fitted:,} customers (one-time buyers, or only returns) get the population's mean value",
    ]
    return Models(purchases, spend, "; ".join(notes) + "." + said)
