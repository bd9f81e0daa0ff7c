"""BG/NBD with customer attributes: a purchase rate truly doubled by the acquisition source is found
with an interval that holds 2, and bad attributes are refused by name."""

import numpy as np
import pandas as pd
import pytest

from helpers.errors import ModelInputError
from helpers.models import covariates
from tests.models.simulated_customers import simulate

R, ALPHA, A, B = 0.5, 8.0, 0.9, 3.5


def _two_sources(seed: int, n: int = 4000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers from a store (rate Gamma(r, alpha)) and a quarter as many by referral, whose rate is
    Gamma(r, alpha / 2): twice as high on average; the same drop-out."""
    store = simulate("bgnbd", (R, ALPHA, A, B), n, seed)
    referral = simulate("bgnbd", (R, ALPHA / 2, A, B), n // 4, seed + 1000)
    summary = pd.concat([store, referral], ignore_index=True)
    source = pd.DataFrame({"acquisition_source": ["store"] * len(store) + ["referral"] * len(referral)})
    return summary, source


def test_a_doubled_purchase_rate_is_found_with_an_interval_that_holds_two():
    """Over five samples the 95% interval of the rate ratio holds 2 in at least four (a correct
    interval does so with probability 0.98), never holds 1, and the drop-out ratio's holds 1."""
    held = []
    for seed in range(5):
        summary, source = _two_sources(seed, 3000)
        fitted = covariates.fit(summary, source)
        assert fitted.fit.converged and fitted.baselines == {"acquisition_source": "store"}
        row = covariates.effects(fitted).iloc[0]
        assert row.level == "referral" and row.rate_low > 1.3, row
        held.append(row.rate_low < 2.0 < row.rate_high)
        assert row.dropout_low < 1.0 < row.dropout_high, row
        assert row.in_words.startswith(
            f"Customers with acquisition_source referral buy {row.purchase_rate_ratio:.2f}x as often as those with"
        )
    assert sum(held) >= 4, held


def test_an_attribute_without_effect_gets_intervals_that_hold_one():
    summary = simulate("bgnbd", (R, ALPHA, A, B), 3000, seed=4)
    source = pd.DataFrame({"region": np.where(np.arange(3000) % 3 == 0, "north", "south")})
    row = covariates.effects(covariates.fit(summary, source)).iloc[0]
    assert row.baseline == "south" and row.rate_low < 1.0 < row.rate_high and row.dropout_low < 1.0 < row.dropout_high


def test_missing_and_rare_levels_are_refused_by_name():
    summary, source = _two_sources(0, 400)
    missing = source.copy()
    missing.loc[3, "acquisition_source"] = None
    with pytest.raises(ModelInputError, match="'acquisition_source' is missing for 1 customers"):
        covariates.fit(summary, missing)
    rare = source.assign(acquisition_source=np.where(source.index < 5, "fair", source.acquisition_source))
    with pytest.raises(ModelInputError, match=r"level\(s\) \['fair'\] have fewer than 30"):
        covariates.fit(summary, rare)
    with pytest.raises(ModelInputError, match="align them"):
        covariates.fit(summary, source.iloc[:10])
