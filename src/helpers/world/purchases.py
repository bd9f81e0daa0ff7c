"""Purchase histories from the BG/NBD story, order values from Gamma-Gamma, categories from Dirichlet.

Time unit: week (operational time, see ``calendar``). Each customer makes a first purchase on the
signup day, then repeat purchases as a Poisson process with rate lambda; after each repeat purchase
they drop out with probability p. All draws are vectorised over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.world.calendar import day_of_operational_time


@dataclass
class CustomerTraits:
    """Hidden per-customer parameters (arrays of length n)."""

    lam: np.ndarray  # purchase rate, per week
    p_drop: np.ndarray  # drop-out probability after each repeat purchase
    nu: np.ndarray  # Gamma-Gamma rate of order value (mean order value = spend_p / nu), per EUR
    preferences: np.ndarray  # (n, n_categories) category preferences, rows sum to 1


def draw_traits(rng: np.random.Generator, n: int, spec: dict) -> CustomerTraits:
    """Draw lambda ~ Gamma(r, alpha), p ~ Beta(a, b), nu ~ Gamma(q, gamma), preferences ~ Dirichlet."""
    pur, spend, cat = spec["purchases"], spec["spend"], spec["catalogue"]
    lam = rng.gamma(pur["r"], 1.0 / pur["alpha"], n)
    p_drop = rng.beta(pur["a"], pur["b"], n)
    nu = rng.gamma(spend["q"], 1.0 / spend["gamma"], n)
    shares = np.array([c["share"] for c in cat["categories"].values()], dtype=float)
    preferences = rng.dirichlet(cat["concentration"] * shares / shares.sum() * len(shares), n)
    return CustomerTraits(lam, p_drop, nu, preferences)


@dataclass
class PurchaseHistory:
    """Baseline purchases (no campaign effects yet), sorted by customer then day."""

    customer: np.ndarray  # row index of the customer (0..n-1), int64
    day: np.ndarray  # day index from the history start, int64
    dropout_day: np.ndarray  # per customer: day of drop-out, or -1 if alive at the end
    n_repeat: np.ndarray  # per customer: number of repeat purchases in the history


def simulate_purchases(
    rng: np.random.Generator, traits: CustomerTraits, signup_day: np.ndarray, clock: np.ndarray
) -> PurchaseHistory:
    """Simulate each customer's purchase days between signup and the last day of ``clock``.

    The repeat-purchase times of a Poisson process with P events on [0, L] are P sorted uniforms,
    drawn here as normalised cumulative sums of exponentials (segment by segment, no sort). A
    customer drops out right after their K-th repeat purchase, K ~ Geometric(p). Only the events
    before drop-out are placed, straight into (customer, day) order.
    """
    n = len(signup_day)
    u0 = clock[signup_day]
    length = clock[-1] - u0
    n_events = rng.poisson(traits.lam * length)
    k_drop = rng.geometric(traits.p_drop)
    n_repeat = np.minimum(n_events, k_drop)

    seg = n_events + 1  # exponential spacings per customer
    ends = np.cumsum(seg)
    starts = ends - seg
    spacings = rng.standard_exponential(int(ends[-1]) if n else 0)
    np.cumsum(spacings, out=spacings)
    offset = np.concatenate(([0.0], spacings))[starts]
    total = spacings[ends - 1] - offset  # sum of the P+1 spacings: the normaliser

    block = n_repeat + 1  # output rows per customer: first purchase, then repeats
    first_row = np.cumsum(block) - block
    owner = np.repeat(np.arange(n), n_repeat)
    rank = np.arange(len(owner)) - np.repeat(first_row - np.arange(n), n_repeat)  # 0-based repeat rank
    u = u0[owner] + (spacings[np.repeat(starts, n_repeat) + rank] - offset[owner]) / total[owner] * length[owner]
    del spacings
    day = np.empty(n + len(owner), dtype=np.int64)
    day[first_row] = signup_day
    day[first_row[owner] + 1 + rank] = day_of_operational_time(clock, u)

    dropped = k_drop <= n_events
    dropout_day = np.where(dropped, day[first_row + n_repeat], -1).astype(np.int64)
    return PurchaseHistory(np.repeat(np.arange(n), block), day, dropout_day, n_repeat)


def order_values(rng: np.random.Generator, nu: np.ndarray, customer: np.ndarray, spend_p: float) -> np.ndarray:
    """Order values in EUR: Gamma(spend_p, rate nu[customer]), rounded to the cent (min 0.01)."""
    values = rng.gamma(spend_p, 1.0 / nu[customer])
    return np.maximum(np.round(values, 2), 0.01)


def order_categories(rng: np.random.Generator, preferences: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """Category index of each order, drawn from its customer's preferences."""
    cum = np.cumsum(preferences, axis=1)
    u = rng.random(len(customer))
    out = np.zeros(len(customer), dtype=np.int16)
    for j in range(preferences.shape[1] - 1):
        out += u > cum[customer, j]
    return out
