"""The difference between a treated and a control group's mean outcome (a difference of proportions
when the outcome is 1/0), with its Welch standard error, a normal interval and a two-sided p-value:
the one home of the holdout comparison that uplift, experiments and triggered scenarios read out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class MeanDifference:
    """mean(treated) - mean(control) in the outcome's unit (EUR, or a share for 1/0 outcomes)."""

    estimate: float
    se: float  # Welch standard error
    half_width: float  # of the normal interval at the level asked for
    treated: int  # customers in each group
    control: int

    @property
    def low(self) -> float:
        return self.estimate - self.half_width

    @property
    def high(self) -> float:
        return self.estimate + self.half_width

    @property
    def p_value(self) -> float:
        """Two-sided p-value of no difference (normal approximation); 1 when the spread is 0."""
        from scipy import stats

        return float(2 * stats.norm.sf(abs(self.estimate) / self.se)) if self.se > 0 else 1.0


def difference_in_means(treated: ArrayLike, control: ArrayLike, level: float = 0.95) -> MeanDifference:
    """mean(treated) - mean(control) with its Welch standard error and normal interval at ``level``
    (the quantile from ``scipy.stats.norm``). NaN estimate and interval when a group holds fewer
    than 2 customers."""
    from scipy import stats

    treated, control = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    if len(treated) < 2 or len(control) < 2:
        return MeanDifference(float("nan"), float("nan"), float("nan"), len(treated), len(control))
    se = np.sqrt(treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control))
    z = stats.norm.ppf(0.5 + level / 2)
    return MeanDifference(float(treated.mean() - control.mean()), float(se), float(z * se), len(treated), len(control))


def holm_adjusted(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment for several comparisons, as statsmodels' ``multipletests(method=
    "holm")`` computes it: the k-th smallest of m p-values times (m - k + 1), kept non-decreasing,
    capped at 1, returned in the input's order. Written here because statsmodels' version runs a
    full garbage collection on every call (about 0.2 s in a notebook's kernel, per readout)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)), 1.0)
    return adjusted
