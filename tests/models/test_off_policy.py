"""Off-policy value of a plan from randomised history: unbiased, and its 95% interval covers the
true value of the policy in simulated campaigns."""

import numpy as np
import pandas as pd
import pytest

from helpers.models.off_policy import policy_value
from helpers.models.uplift import UpliftInputError


def campaign(seed: int, n: int = 3000) -> tuple[pd.DataFrame, np.ndarray, float]:
    """Two randomised campaigns of one arm (85% treated): margin = 5 + 3 x + w tau(x) + noise, with
    tau(x) = 2 x; the policy treats x > 0. Returns the history, the policy's choice and the true
    value for 10,000 reachable customers at a cost of 0.5 EUR."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    w = (rng.random(n) < 0.85).astype(int)
    y = 5 + 3 * x + w * 2 * x + rng.normal(0, 4, n)
    history = pd.DataFrame({"campaign_id": rng.integers(0, 2, n), "arm": "mail", "w": w, "margin": y, "x": x})
    chosen = np.where(x > 0, "mail", "no contact")
    true = 10_000 * (2 * 0.3989 - 0.5 * 0.5)  # E[2x; x > 0] = 2 phi(0), P(x > 0) = 0.5
    return history, chosen, true


def test_the_interval_covers_the_true_value_and_dr_is_tighter():
    covered, widths = {"IPW": 0, "DR": 0}, {"IPW": [], "DR": []}
    for seed in range(30):
        history, chosen, true = campaign(seed)
        table = policy_value(history, chosen, ["x"], pd.Series({"mail": 10_000}), pd.Series({"mail": 0.5}), seed)
        for row in table[table.arm == "total"].itertuples():
            covered[row.method] += row.low <= true <= row.high
            widths[row.method].append(row.high - row.low)
    assert covered["IPW"] >= 25 and covered["DR"] >= 25, covered
    assert np.mean(widths["DR"]) < np.mean(widths["IPW"]), "the outcome model takes noise out"


def test_refuses_a_campaign_without_control_and_a_wrong_length():
    history, chosen, _ = campaign(0, 200)
    with pytest.raises(UpliftInputError, match="entries for 200 history rows"):
        policy_value(history, chosen[:10], ["x"], pd.Series({"mail": 1}), pd.Series({"mail": 0.0}), 0)
    with pytest.raises(UpliftInputError, match="no randomised control"):
        policy_value(history.assign(w=1), chosen, ["x"], pd.Series({"mail": 1}), pd.Series({"mail": 0.0}), 0)
