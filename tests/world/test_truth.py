"""Scores against a world's truth: the rank correlation where it is defined, and where it is not."""

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.world import truth


@pytest.mark.parametrize(
    "predicted, actual",
    [([0.2, 0.2, 0.2, 0.2], [0.1, 0.4, 0.3, 0.2]), ([0.1, 0.4, 0.3, 0.2], [5, 5, 5, 5]), ([1.0], [2.0])],
    ids=["constant prediction", "constant truth", "one row"],
)
def test_rank_correlation_is_nan_without_a_warning_where_undefined(predicted, actual):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(truth.rank_correlation(predicted, actual))


def test_rank_correlation_ranks_where_defined():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert truth.rank_correlation([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
        assert truth.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
        assert truth.rank_correlation([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_effect_ranking_shows_a_constant_prediction_as_undefined():
    arm_table = pd.DataFrame({"arm": ["a", "b"], "channel": ["email", "sms"], "offer": ["x", "x"]})
    effects = {truth.effect_column("email", "x"): [0.1, 0.3, 0.2], truth.effect_column("sms", "x"): [0.0, 0.2, 0.1]}
    hidden = pd.DataFrame(effects)
    predicted = pd.DataFrame({"a": [0.0, 0.0, 0.0], "b": [0.1, 0.5, 0.2]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ranking = truth.effect_ranking(predicted, hidden, arm_table)
    assert ranking["rank correlation with the true effect"].tolist() == [truth.UNDEFINED, 1.0]
