"""The difference between a treated and a control group's mean outcome (a difference of proportions
when the outcome is 1/0), with its Welch standard error, a normal interval and a two-sided p-value:
the one home of the holdout comparison that uplift, experiments and triggered scenarios read out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


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
        return float(2 * stats.norm.sf(abs(self.estimate) / self.se)) if self.se > 0 else 1.0


def difference_in_means(treated: ArrayLike, control: ArrayLike, level: float = 0.95) -> MeanDifference:
    """mean(treated) - mean(control) with its Welch standard error and normal interval at ``level``
    (the quantile from ``scipy.stats.norm``). NaN estimate and interval when a group holds fewer
    than 2 customers."""
    treated, control = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    if len(treated) < 2 or len(control) < 2:
        return MeanDifference(float("nan"), float("nan"), float("nan"), len(treated), len(control))
    se = np.sqrt(treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control))
    z = stats.norm.ppf(0.5 + level / 2)
    return MeanDifference(float(treated.mean() - control.mean()), float(se), float(z * se), len(treated), len(control))
