"""The purchases customers make over a horizon after the history with no plan: the counterfactual
``play`` compares a plan with, on the same random draws, and ``future_purchases``, the same draws
as an order log (the target of the CLV intervals' realised value, the horizon of triggered rules)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.world.calendar import operational_clock, seasonal_intensity

if TYPE_CHECKING:
    from helpers.world import World


@dataclass
class Baseline:
    """The counterfactual over the horizon: per customer (rows of ``truth``, buyers only) the slots
    of its purchases (``_stored_width``), which ``happens``, on which ``day`` (0 = the day after the history), at
    which ``value`` (EUR); ``thin_u`` decides which later purchases an intrusive contact removes."""

    truth: pd.DataFrame
    n_days: int
    clock: np.ndarray
    lam: np.ndarray
    mean_order: np.ndarray
    alive: np.ndarray
    nu: np.ndarray
    happens: np.ndarray
    day: np.ndarray
    value: np.ndarray
    thin_u: np.ndarray


def baseline(world: World, weeks: int, seed: int) -> tuple[Baseline, np.random.Generator]:
    """Baseline purchases over ``weeks`` weeks: Poisson in operational time with drop-out after each
    purchase, drawn per customer up to a generous cap, then truncated. Draws come first from a
    generator seeded with ``seed``, returned positioned after them, so a plan's own draws never
    change the counterfactual. Kept on the world for the latest (weeks, seed): every play and
    ``future_purchases`` with them share it."""

    def draw() -> tuple[Baseline, np.random.Generator]:
        rng = np.random.default_rng(seed)
        spec = world.spec
        truth = world.truth()
        truth = truth[~truth.is_prospect].reset_index(drop=True)
        n = len(truth)
        end = pd.Timestamp(world.parameters["end"]).date()
        n_days = weeks * 7
        clock = np.concatenate(
            [
                [0.0],
                operational_clock(
                    seasonal_intensity(end + pd.Timedelta(days=1), n_days, spec["purchases"]["seasonality"])
                ),
            ]
        )
        lam = truth.purchase_rate_per_week.to_numpy()
        p_drop = truth.dropout_probability.to_numpy()
        alive = truth.alive_at_end.to_numpy()
        nu = truth.spend_nu.to_numpy()
        cap = int(max(4, np.ceil(np.max(lam * clock[-1] * 3 + 10)) if n else 4))
        happens, day, value, thin_u = _purchase_slots(rng, cap, clock, lam, p_drop, alive, nu, spec["spend"]["p"])
        for shared in (happens, day, value, thin_u):
            shared.flags.writeable = False
        return Baseline(
            truth, n_days, clock, lam, truth.mean_order_value.to_numpy(), alive, nu, happens, day, value, thin_u
        ), rng

    base, rng = world.kept("baseline", (weeks, seed), draw)
    return base, copy.deepcopy(rng)


def _purchase_slots(
    rng: np.random.Generator,
    cap: int,
    clock: np.ndarray,
    lam: np.ndarray,
    p_drop: np.ndarray,
    alive: np.ndarray,
    nu: np.ndarray,
    spend_p: float,
) -> tuple[np.ndarray, ...]:
    """Each customer's ``cap`` purchase slots over the horizon (operational ``clock``, one value a day):
    whether the purchase happens, its day, its value (EUR) and the uniform that decides whether an
    intrusive contact removes it. Drawn in this order over all customers (gaps between purchases, the
    drop-outs, the values, the uniforms), a block of ``ROWS_AT_ONCE`` customers at a time: the same
    numbers as one draw of each, without holding every slot's float at once. Slots no customer fills
    are dropped (``_stored_width``)."""
    n, n_days = len(lam), len(clock) - 1
    parts = [slice(i, i + ROWS_AT_ONCE) for i in range(0, n, ROWS_AT_ONCE)]
    within, day = np.zeros((n, cap), bool), np.zeros((n, cap), np.int16)
    for rows in parts:
        times = rng.standard_exponential((len(lam[rows]), cap)) / np.maximum(lam[rows], 1e-12)[:, None]
        np.cumsum(times, axis=1, out=times)
        within[rows] = times <= clock[-1]
        slots = within[rows]
        day[rows][slots] = np.minimum(np.searchsorted(clock, times[slots], side="right") - 1, n_days - 1)
    first_drop = np.full(n, cap)  # purchases after the first drop-out never happen
    for rows in parts:
        drops = rng.random((len(lam[rows]), cap)) < p_drop[rows, None]
        first_drop[rows] = np.where(drops.any(axis=1), drops.argmax(axis=1), cap)
    happens = within & (np.arange(cap) <= first_drop[:, None]) & alive[:, None]
    width = _stored_width(happens)
    value, thin_u = np.zeros((n, width)), np.zeros((n, width))
    for rows in parts:
        value[rows] = rng.gamma(spend_p, 1.0 / nu[rows, None], (len(nu[rows]), cap))[:, :width]
    for rows in parts:
        thin_u[rows] = rng.random((len(nu[rows]), cap))[:, :width]
    return happens[:, :width].copy(), np.where(happens, day, 0)[:, :width].copy(), value, thin_u


ROWS_AT_ONCE = 100_000  # customers whose purchase slots are drawn in one step (x cap x 8 bytes)
SUM_BLOCK = 128  # numpy sums a row of at most this many numbers in one pass of eight running sums


def _stored_width(happens: np.ndarray) -> int:
    """Columns of the purchase arrays worth keeping: a customer's purchases are the first of the cap's
    slots (times rise, a drop-out ends them), so slots no customer fills are dropped (1M customers over
    26 weeks: 29 purchases at most, a cap of 111). The width is a multiple of 8 and at least 8, and
    slots are dropped only if a row's sum then adds the same numbers in the same order: numpy sums up to
    ``SUM_BLOCK`` numbers in eight running sums and a tail, a longer row as its halves, and the dropped
    slots are zeros added to the running sums, the tail or a later half."""
    cap = leaf = happens.shape[1]
    while leaf > SUM_BLOCK:  # numpy sums a longer row as its halves (the first a multiple of 8), then adds them
        leaf = leaf // 2 - leaf // 2 % 8
    used = int(happens.sum(axis=1).max()) if len(happens) else 0
    width = max(8, -(-used // 8) * 8)
    return width if width <= leaf - leaf % 8 else cap


def future_purchases(world: World, weeks: int, seed: int) -> pd.DataFrame:
    """The purchases customers would make over ``weeks`` weeks after the history with no plan:
    customer_id, day (date), value (EUR). The same as the counterfactual of ``play`` with this
    seed, so rules triggered on these days can be played on the same draws."""
    base, _ = baseline(world, weeks, seed)
    rows, slots = np.nonzero(base.happens)
    first = pd.Timestamp(world.parameters["end"]) + pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "customer_id": base.truth.customer_id.to_numpy()[rows],
            "day": first + pd.to_timedelta(base.day[rows, slots].astype(np.int64), unit="D"),
            "value": base.value[rows, slots].round(2),
        }
    ).sort_values(["customer_id", "day"], ignore_index=True)
