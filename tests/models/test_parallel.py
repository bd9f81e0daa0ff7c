"""Fits side by side in worker processes: the very results of one process, in order, and a task's error raised."""

import numpy as np
import pandas as pd
import pytest

from helpers.decide import next_best_offer as nbo
from helpers.models import off_policy, parallel, uplift


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3000
    X = rng.normal(size=(n, 3))
    w = (rng.random(n) < 0.6).astype(int)
    y = (rng.random(n) < 0.1 + w * 0.1 * (X[:, 0] > 0)).astype(float)
    return pd.DataFrame(
        {"campaign_id": np.where(np.arange(n) % 3 == 0, "c1", "c2"), "customer_id": rng.integers(0, 1500, n)}
        | {"arm": np.array(["email · a", "sms · b", "postal · c"])[np.arange(n) % 3], "w": w, "converted": y}
        | {"margin": 30 * y, "window_revenue": 60 * y, "x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2]}
    )


def test_workers_return_each_task_s_result_in_order():
    assert parallel.workers() >= 2, "these tests need two cores, as CI has"
    assert parallel.starmap(pow, [(2, k) for k in range(9)]) == [2**k for k in range(9)]
    assert parallel.starmap(pow, iter([(3, 2)])) == [9]
    assert parallel.starmap(pow, []) == []


def test_a_task_s_error_is_raised_with_its_message():
    rng = np.random.default_rng(2)
    X, y, w = rng.normal(size=(200, 1)), rng.random(200), (np.arange(200) < 100).astype(int)
    thin = (np.arange(200) < 195).astype(int)
    tasks = [(X, y, w, "email", "converted", 1), (X, y, thin, "sms", "converted", 1), (X, y, w, "push", "margin", 1)]
    with pytest.raises(uplift.UpliftInputError, match="arm sms: 195 treated and 5 control"):
        parallel.starmap(uplift.fit_arm, tasks)


def test_models_fitted_side_by_side_are_the_ones_fitted_one_by_one(monkeypatch):
    table = _table()
    apart = nbo.fit_arms(table, 3)
    scores = off_policy.row_scores(table, ["x0", "x1", "x2"], 3)
    responses = nbo.fit_response_models(table, 3)
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    alone = nbo.fit_arms(table, 3)
    X = table[["x0", "x1", "x2"]].to_numpy(float)
    assert apart.keys() == alone.keys() and len(apart) == 6
    for key, model in apart.items():
        assert np.array_equal(model.predict(X), alone[key].predict(X)) and model.qini == alone[key].qini
    pd.testing.assert_frame_equal(scores, off_policy.row_scores(table, ["x0", "x1", "x2"], 3))
    for arm, model in nbo.fit_response_models(table, 3).items():
        assert np.array_equal(model.predict(X), responses[arm].predict(X))


def test_a_worker_that_dies_is_named_and_the_next_call_starts_new_ones():
    import os

    with pytest.raises(parallel.WorkerDied, match="running _exit stopped before it finished"):
        parallel.starmap(os._exit, [(3,), (3,)])
    assert parallel.starmap(pow, [(2, 3), (3, 2)]) == [8, 9]
