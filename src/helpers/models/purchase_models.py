"""The non-contractual purchase models, one entry each, all on the same customer summary
(frequency x, recency t_x, age T in weeks; for BG/BB, in discrete opportunities) and the same
functions of (params, x, t_x, T[, t])."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.models import bg_bb, bg_nbd, mbg_nbd, pareto_nbd
from helpers.models.likelihood import Fit


@dataclass(frozen=True)
class PurchaseModel:
    """A purchase model: its fit, likelihood, P(alive) and conditional expected purchases."""

    name: str
    label: str
    source: str
    fit: Callable[[pd.DataFrame], Fit]
    log_likelihood: Callable[..., np.ndarray]
    p_alive: Callable[..., np.ndarray]
    expected_if_alive: Callable[..., np.ndarray]  # (params, x, T, t): next t weeks, if alive at T
    discrete: bool = False  # time counted in whole opportunities (``opportunities.per_period``), not weeks

    def horizon(self, weeks: ArrayLike, unit_weeks: float = 1.0) -> np.ndarray:
        """``weeks`` ahead in the summary's time unit (``unit_weeks`` weeks each): for a discrete model,
        the whole opportunities that have come by then."""
        steps = np.asarray(weeks, dtype=float) / unit_weeks
        return np.floor(steps + 1e-9) if self.discrete else steps

    def expected_purchases(
        self, params: tuple[float, ...], x: ArrayLike, t_x: ArrayLike, T: ArrayLike, t: ArrayLike
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` weeks given (x, t_x, T): P(alive) times the if-alive value."""
        return self.p_alive(params, x, t_x, T) * self.expected_if_alive(params, x, T, t)

    def expected_new(self, params: tuple[float, ...], t: ArrayLike) -> np.ndarray:
        """E[X(t)]: expected repeat purchases ``t`` weeks after a first purchase."""
        return self.expected_purchases(params, 0.0, 0.0, 0.0, t)


MODELS: dict[str, PurchaseModel] = {
    m.name: m
    for m in (
        PurchaseModel(
            "bgnbd",
            "BG/NBD",
            "Fader, Hardie & Lee (2005)",
            bg_nbd.fit,
            bg_nbd.log_likelihood,
            bg_nbd.p_alive,
            bg_nbd.expected_purchases_if_alive,
        ),
        PurchaseModel(
            "pareto_nbd",
            "Pareto/NBD",
            "Schmittlein, Morrison & Colombo (1987); Fader & Hardie (2005)",
            pareto_nbd.fit,
            pareto_nbd.log_likelihood,
            pareto_nbd.p_alive,
            pareto_nbd.expected_purchases_if_alive,
        ),
        PurchaseModel(
            "mbg_nbd",
            "MBG/NBD",
            "Batislam, Denizel & Filiztekin (2007)",
            mbg_nbd.fit,
            mbg_nbd.log_likelihood,
            mbg_nbd.p_alive,
            mbg_nbd.expected_purchases_if_alive,
        ),
        PurchaseModel(
            "bg_bb",
            "BG/BB",
            "Fader, Hardie & Shang (2010)",
            bg_bb.fit,
            bg_bb.log_likelihood,
            bg_bb.p_alive,
            bg_bb.expected_purchases_if_alive,
            discrete=True,
        ),
    )
}


def model_of(fit: Fit | str) -> PurchaseModel:
    """The purchase model a fit (or a model name) belongs to."""
    name = fit if isinstance(fit, str) else fit.model
    if name not in MODELS:
        raise ModelInputError(f"{name!r} is not a purchase model; choose one of {', '.join(MODELS)}.")
    return MODELS[name]
