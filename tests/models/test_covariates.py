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
    for seed in range(3):
        summary, source = _two_sources(seed)
        fitted = covariates.fit(summary, source)
        assert fitted.fit.converged and fitted.baselines == {"acquisition_source": "store"}
        row = covariates.effects(fitted).iloc[0]
        assert row.level == "referral" and row.rate_low < 2.0 < row.rate_high, row
        assert row.rate_low > 1.3, row  # the interval is narrow enough to tell the effect from none
        assert row.dropout_low < 1.0 < row.dropout_high, row
        assert "buy 2." in row.in_words or "buy 1." in row.in_words


def test_the_fit_without_an_effect_finds_none_and_reproduces_plain_bgnbd_at_the_baseline():
    summary = simulate("bgnbd", (R, ALPHA, A, B), 3000, seed=4)
    source = pd.DataFrame({"region": np.where(np.arange(3000) % 3 == 0, "north", "south")})
    row = covariates.effects(covariates.fit(summary, source)).iloc[0]
    assert row.baseline == "south" and row.rate_low < 1.0 < row.rate_high


def test_missing_and_rare_levels_are_refused_by_name():
    summary, source = _two_sources(0, 400)
    with pytest.raises(ModelInputError, match="'acquisition_source' is missing for 1 customers"):
        covariates.fit(summary, source.mask(source.index == 3))
    rare = source.assign(acquisition_source=np.where(source.index < 5, "fair", source.acquisition_source))
    with pytest.raises(ModelInputError, match=r"level\(s\) \['fair'\] have fewer than 30"):
        covariates.fit(summary, rare)
    with pytest.raises(ModelInputError, match="align them"):
        covariates.fit(summary, source.iloc[:10])
