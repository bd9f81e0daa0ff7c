"""Intervals for customer lifetime value, by simulation: parameter uncertainty and process noise.

Each draw takes a parameter vector of the purchase model and one of Gamma-Gamma from the asymptotic
normal of their maximum-likelihood estimates, on the log scale (``Fit.log_covariance``), then for
every customer, given their history (x, t_x, T) and that draw:
1. whether they are still alive at T (Bernoulli with the model's P(alive));
2. their own purchase rate and drop-out from the posterior given their history and being alive
   (BG/NBD: lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x); MBG/NBD: p ~ Beta(a, b + x + 1);
   Pareto/NBD: lambda ~ Gamma(r + x, alpha + T), mu ~ Gamma(s, beta + T); BG/BB on opportunities:
   p ~ Beta(alpha + x, beta + n - x), theta ~ Beta(gamma, delta + n + 1)), and the rate nu of their
   spend from Gamma-Gamma's posterior Gamma(q + p n, gamma + n m);
3. their purchases over the horizon (Poisson at rate lambda, leaving after each purchase with
   probability p, or after an exponential lifetime of rate mu; BG/BB: at each coming opportunity with
   probability p, leaving before each with probability theta) and the value of each (Gamma(p, nu)),
   discounted by month as in ``clv.customer_value``.
Two quantities per customer and draw: the **realised** value of step 3 (what the customer will
spend: parameter uncertainty plus process noise) and the **expected** value given step 2 (what a
world that knows each customer's rate, drop-out and spend would call their value: parameter
uncertainty plus what the history leaves unknown of each customer). A synthetic world's
``future_purchases`` are the target of the first, its truth's ``expected_value_52w`` of the second.

Memory is bounded: customers are simulated ``CELLS`` customer-draws at a time; totals are summed
draw by draw across the blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import ModelInputError
from helpers.models import gamma_gamma
from helpers.models.clv import WEEKS_PER_MONTH
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import model_of

CELLS = 400_000  # customer x draw cells simulated at once (about 20 arrays of this many floats)
QUANTITIES = ("realised", "expected")
MIN_REPEAT_BUYERS = 100  # below this, "too few repeat buyers" is the likely cause of a parameter not identified
LOG_BOUND = 11.5  # |log parameter| beyond this: the optimiser ran to its box [-12, 12] (likelihood.maximise)


@dataclass
class ValueIntervals:
    """Per customer (``customers``: customer_id, p_alive_low/high, then for each quantity its
    interval, e.g. realised_low, realised_high, EUR) and in total (``totals``: one row per quantity
    with the simulated mean, low and high, EUR), at ``level`` from ``draws`` draws."""

    customers: pd.DataFrame
    totals: pd.DataFrame
    level: float
    draws: int
    undiscounted: ValueIntervals | None = None  # the same simulated futures, undiscounted (``undiscounted=True``)


@dataclass(frozen=True)
class Identification:
    """The parameters of one or more fits that the data do not pin down (empty: intervals can be
    drawn), and why, in words."""

    parameters: tuple[str, ...]
    reason: str


def identification(fit: Fit) -> Identification:
    """Which of ``fit``'s parameters its covariance cannot give intervals for, and why: a parameter that
    ran off to its box (log beyond ``LOG_BOUND``: the likelihood keeps rising towards zero or
    infinity), a Hessian that could not be inverted (all of them), or a covariance that is not positive
    definite (those weighing on the direction the data do not constrain)."""
    names, logs = list(fit.params), np.log(np.asarray(fit.values, dtype=float))
    label = "Gamma-Gamma" if fit.model == "gamma_gamma" else model_of(fit).label
    runaway = [(n, v) for n, v in zip(names, logs, strict=True) if abs(v) > LOG_BOUND]
    if runaway:
        said = ", ".join(f"{n} ran off towards {'infinity' if v > 0 else 'zero'} ({np.exp(v):.3g})" for n, v in runaway)
        them = "it" if len(runaway) == 1 else "them"
        return Identification(tuple(n for n, _ in runaway), f"{label}'s {said}: the data do not pin {them} down")
    covariance = np.asarray(fit.log_covariance, dtype=float)
    if covariance.shape != (len(names),) * 2 or not np.all(np.isfinite(covariance)):
        return Identification(tuple(names), f"{label}'s Hessian is singular: none of {', '.join(names)} is identified")
    eigenvalues, vectors = np.linalg.eigh(covariance)
    if eigenvalues[0] <= 0:
        weights = np.abs(vectors[:, 0])
        vague = tuple(n for n, w in zip(names, weights, strict=True) if w >= 0.3 * weights.max())
        return Identification(
            vague, f"{label}'s covariance is not positive definite: {', '.join(vague)} not identified"
        )
    return Identification((), "")


def covariance_problem(fit: Fit) -> str:
    """Why ``fit``'s covariance cannot give intervals (``identification``), or '' when it can."""
    return identification(fit).reason


def unavailable(summary: pd.DataFrame, purchases: Fit, spend: Fit) -> Identification:
    """The parameters of the purchase model and Gamma-Gamma that the data do not identify, so that no
    CLV interval can be drawn, with the reason in words and the data's figures behind it (repeat buyers,
    their distinct frequencies, the spread of their mean spends); empty when intervals can be drawn."""
    found = [identification(purchases), identification(spend)]
    if not any(f.parameters for f in found):
        return Identification((), "")
    repeat = summary[gamma_gamma.in_sample(summary, spend.basis)]
    means = repeat[gamma_gamma.BASES[spend.basis][1]]
    spread = float(means.std() / means.mean()) if len(repeat) > 1 else 0.0
    reason = (
        f"{'; '.join(f.reason for f in found if f.reason)} (the data hold {len(repeat):,} repeat buyers with "
        f"{repeat.frequency.nunique():,} distinct repeat frequencies, their mean spends varying by {spread:.1%}): "
        f"a parameter the data do not identify has no interval to draw from; {_likely_cause(len(repeat), spread)}"
    )
    fits = (purchases, spend)
    return Identification(
        tuple(f"{fit.model}.{p}" for fit, f in zip(fits, found, strict=True) for p in f.parameters), reason
    )


def _likely_cause(repeat_buyers: int, spread: float) -> str:
    if repeat_buyers < MIN_REPEAT_BUYERS:
        return f"too few repeat buyers (fewer than {MIN_REPEAT_BUYERS}): a longer history would identify it"
    if spread < 0.1:
        return "repeat buyers' mean spends hardly vary (one price?), so Gamma-Gamma cannot measure their spread"
    return "more repeat buyers, or a longer history, would identify it"


def parameter_draws(fit: Fit, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` x k parameter vectors: log parameters ~ N(log estimate, ``fit.log_covariance``);
    refused, with ``covariance_problem``'s reason, when that covariance cannot give them."""
    problem = covariance_problem(fit)
    if problem:
        raise ModelInputError(f"No interval can be drawn: {problem}. See clv_intervals.unavailable.")
    covariance = np.asarray(fit.log_covariance, dtype=float)
    return np.exp(rng.multivariate_normal(np.log(fit.values), covariance, size=draws, method="cholesky"))


def interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``samples`` (rows x draws, values >= 0): the central ``level`` interval, except that
    when at least (1 - level) / 2 of the draws are zero (the customer may well buy nothing) the
    interval runs from 0 to the ``level`` quantile, so it still holds ``level`` of the draws."""
    tail = (1 - level) / 2
    low, high, top = np.quantile(samples, [tail, 1 - tail, level], axis=1)
    zero = np.mean(samples <= 0, axis=1) >= tail
    return np.where(zero, 0.0, low), np.where(zero, top, high)


def value_intervals(
    summary: pd.DataFrame,
    purchases: Fit,
    spend: Fit,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    draws: int = 200,
    level: float = 0.90,
    seed: int | np.random.Generator = 0,
    unit_weeks: float = 1.0,
    undiscounted: bool = False,
) -> ValueIntervals:
    """Intervals at ``level`` for every customer's value over ``months`` (EUR of revenue, discounted
    at ``annual_discount_rate`` as in ``clv.customer_value``, the summary's T in units of
    ``unit_weeks`` weeks as there), for the totals, and for P(alive) (parameter uncertainty), from
    ``draws`` simulated draws driven by ``seed``. With ``undiscounted``, also those of the same
    simulated futures undiscounted (``.undiscounted``): what a separate call at rate 0 gives, for
    no second simulation."""
    if draws < 20 or not 0 < level < 1:
        raise ModelInputError(f"value_intervals needs draws >= 20 and 0 < level < 1 (got {draws}, {level}).")
    rng = np.random.default_rng(seed)
    thetas, spend_thetas = parameter_draws(purchases, draws, rng), parameter_draws(spend, draws, rng)
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    n_col, mean_col = gamma_gamma.BASES[spend.basis]
    keep = gamma_gamma.in_sample(summary, spend.basis)
    n_spend = np.where(keep, summary[n_col].to_numpy(dtype=float), 0.0)
    spent = np.where(keep, n_spend * np.nan_to_num(summary[mean_col].to_numpy(dtype=float)), 0.0)
    rates = (annual_discount_rate, 0.0) if undiscounted else (annual_discount_rate,)
    discounts = [(1 + rate) ** (-np.arange(1, months + 1) / 12) for rate in rates]
    block = max(1, CELLS // draws)
    steps = model_of(purchases).horizon(np.arange(1, months + 1) * WEEKS_PER_MONTH, unit_weeks)
    months_of = np.searchsorted(steps, np.arange(1, steps[-1] + 1)) if model_of(purchases).discrete else None
    alive_columns: dict[str, list[np.ndarray]] = {name: [np.empty(0)] for name in ("p_alive_low", "p_alive_high")}
    runs = [_Run(draws) for _ in rates]
    for lo in range(0, len(x), block):
        rows = slice(lo, lo + block)
        alive = np.stack([model_of(purchases).p_alive(th, x[rows], t_x[rows], T[rows]) for th in thetas], axis=1)
        for name, values in zip(alive_columns, _central(alive, level), strict=True):
            alive_columns[name].append(values)
        cells = _Cells(purchases.model, thetas, spend_thetas, x[rows], T[rows], n_spend[rows], spent[rows], months_of)
        for run, block_values in zip(runs, cells.simulate(alive, discounts, rng), strict=True):
            run.add(block_values, level)
    ids = summary.customer_id.to_numpy()
    results = [run.intervals(ids, alive_columns, level, draws) for run in runs]
    results[0].undiscounted = results[1] if undiscounted else None
    return results[0]


class _Run:
    """The realised and expected values of one discounting, gathered block by block: each customer's
    interval and the totals of every draw."""

    def __init__(self, draws: int):
        names = (f"{quantity}_{bound}" for quantity in QUANTITIES for bound in ("low", "high"))
        self.columns: dict[str, list[np.ndarray]] = {name: [np.empty(0)] for name in names}
        self.totals = {q: np.zeros(draws) for q in QUANTITIES}

    def add(self, values: tuple[np.ndarray, np.ndarray], level: float) -> None:
        """One block's realised and expected values (rows x draws, EUR)."""
        for quantity, samples in zip(QUANTITIES, values, strict=True):
            self.totals[quantity] += samples.sum(axis=0)
            for name, bound in zip(("low", "high"), interval(samples, level), strict=True):
                self.columns[f"{quantity}_{name}"].append(bound)

    def intervals(
        self, ids: np.ndarray, alive: dict[str, list[np.ndarray]], level: float, draws: int
    ) -> ValueIntervals:
        """The gathered intervals, after the P(alive) ones (``alive``), for customers ``ids``."""
        columns = alive | self.columns
        customers = pd.DataFrame(
            {"customer_id": ids} | {name: np.concatenate(parts) for name, parts in columns.items()}
        )
        tail = (1 - level) / 2
        table = pd.DataFrame(
            [
                {"quantity": q, "mean": t.mean(), "low": np.quantile(t, tail), "high": np.quantile(t, 1 - tail)}
                for q, t in self.totals.items()
            ]
        )
        return ValueIntervals(customers, table, level, draws)


def _central(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail], axis=1)
    return low, high


@dataclass
class _Cells:
    """One block of customers (rows) x parameter draws (columns)."""

    model: str
    thetas: np.ndarray  # draws x 4, the purchase model's parameters
    spend_thetas: np.ndarray  # draws x 3: p, q, gamma
    x: np.ndarray
    T: np.ndarray
    n_spend: np.ndarray  # Gamma-Gamma's n (0 outside its sample)
    spent: np.ndarray  # n times the mean transaction value (EUR)
    months_of: np.ndarray | None = None  # discrete models: the month (0-based) of each coming opportunity

    def simulate(
        self, alive_prob: np.ndarray, discounts: list[np.ndarray], rng: np.random.Generator
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each of ``discounts`` (one factor per month of the horizon), the realised and expected
        values (EUR), each rows x draws, of the same simulated futures."""
        shape = alive_prob.shape
        first, second, third, fourth = (self.thetas[:, i][None, :] for i in range(4))
        x, T = self.x[:, None], self.T[:, None]
        alive = rng.random(shape) < alive_prob
        if self.months_of is not None:
            return self._opportunities(alive, discounts, rng)
        lam = rng.gamma(first + x, 1.0) / (second + T)
        if self.model == "pareto_nbd":
            hazard = rng.gamma(np.broadcast_to(third, shape), 1.0) / (fourth + T)
        else:
            hazard = rng.beta(third, fourth + x + (1 if self.model == "mbg_nbd" else 0))
        hazard = np.clip(hazard, 1e-12, 1.0)  # a draw that underflows to 0 would leave forever unbounded
        p, nu = self._spend_rate(rng)
        months = len(discounts[0])
        owner, when = self._purchases(alive, lam, hazard, months * WEEKS_PER_MONTH, rng)
        month = np.minimum((when // WEEKS_PER_MONTH).astype(np.int64), months - 1)
        spend = rng.gamma(np.broadcast_to(p, shape).ravel()[owner], 1.0) / nu.ravel()[owner]
        return [
            (
                np.bincount(owner, weights=spend * discount[month], minlength=alive.size).reshape(shape),
                np.where(alive, self._expected_purchases(lam, hazard, WEEKS_PER_MONTH, discount) * p / nu, 0.0),
            )
            for discount in discounts
        ]

    def _spend_rate(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Gamma-Gamma's p per draw (1 x draws) and each cell's spend rate nu from its posterior."""
        p, q, gamma = (self.spend_thetas[:, i][None, :] for i in range(3))
        return p, rng.gamma(q + p * self.n_spend[:, None], 1.0) / (gamma + self.spent[:, None])

    def _opportunities(self, alive, discounts, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
        """BG/BB: a customer alive at the next opportunity n + 1 buys at each with probability
        p ~ Beta(alpha + x, beta + n - x) and leaves before each later one with probability
        theta ~ Beta(gamma, delta + n + 1); opportunity k of the horizon falls in month ``months_of[k-1]``.
        Expected: sum over k of discount p (1 - theta)^(k-1) E[value]; realised: each purchase drawn."""
        a, b, g, d = (self.thetas[:, i][None, :] for i in range(4))
        x, n = self.x[:, None], self.T[:, None]
        p_buy = rng.beta(a + x, b + n - x)
        theta = rng.beta(np.broadcast_to(g, alive.shape), d + n + 1)
        p, nu = self._spend_rate(rng)
        staying = alive.copy()
        expected, realised = ([np.zeros(alive.shape) for _ in discounts] for _ in range(2))
        for k, month in enumerate(self.months_of if self.months_of is not None else ()):
            if k:
                staying &= rng.random(alive.shape) >= theta
            buys = staying & (rng.random(alive.shape) < p_buy)
            spend = rng.gamma(np.broadcast_to(p, alive.shape), 1.0)
            for discount, expected_sum, realised_sum in zip(discounts, expected, realised, strict=True):
                expected_sum += np.where(alive, discount[month] * p_buy * (1 - theta) ** k, 0.0)
                realised_sum += np.where(buys, discount[month] * spend / nu, 0.0)
        return [
            (realised_sum, expected_sum * p / nu) for realised_sum, expected_sum in zip(realised, expected, strict=True)
        ]

    def _expected_purchases(self, lam, hazard, width: float, discount) -> np.ndarray:
        """Discounted expected purchases over the horizon of a customer alive now with this rate and
        drop-out: the sum over months m of discount_m (1/p) (e^(-lambda p t_(m-1)) - e^(-lambda p t_m))
        (BG/NBD, MBG/NBD) or (lambda/mu) (e^(-mu t_(m-1)) - e^(-mu t_m)) (Pareto/NBD), months of
        ``width`` weeks: (scale) (1 - q) sum_m discount_m q^(m-1), q = e^(-decay width), by Horner's rule."""
        pareto = self.model == "pareto_nbd"
        decay, scale = (hazard, lam / hazard) if pareto else (lam * hazard, 1 / hazard)
        gone = -np.expm1(-decay * width)
        kept = 1 - gone
        series = np.full(lam.shape, discount[-1])
        for factor in discount[-2::-1]:
            series = series * kept + factor
        return scale * gone * series

    def _purchases(self, alive, lam, hazard, horizon: float, rng) -> tuple[np.ndarray, np.ndarray]:
        """Every future purchase: the flat index of its cell and its time (weeks from now)."""
        if self.model == "pareto_nbd":
            end = np.minimum(rng.exponential(1.0, alive.shape) / hazard, horizon)
            count = rng.poisson(lam * end)
            last = np.zeros(alive.shape, dtype=bool)
        else:  # M purchases in the horizon, the customer leaves after their K-th: the first min(M, K) happen
            events = rng.poisson(lam * horizon)
            leaves_after = rng.geometric(hazard)
            last = leaves_after < events  # then the K-th of M uniform times ends the purchases
            count = np.minimum(events, leaves_after)
            k, rest = np.where(last, leaves_after, 1), np.where(last, events - leaves_after + 1, 1)
            end = np.where(last, horizon * rng.beta(k, rest), horizon)
        count = np.where(alive, count, 0).ravel()
        owner = np.repeat(np.arange(count.size), count)
        when = rng.random(owner.size) * end.ravel()[owner]
        is_last = np.zeros(owner.size, dtype=bool)
        is_last[np.cumsum(count)[count > 0] - 1] = last.ravel()[count > 0]
        return owner, np.where(is_last, end.ravel()[owner], when)
