"""Uplift metrics on hand-computed examples and known identities; estimators on data simulated
with known heterogeneous effects; randomisation checks and refusals."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from helpers.models import uplift


def test_qini_curve_on_a_hand_computed_example():
    # Scores rank rows 0..5; treated rows 0, 1, 3, 4; control rows 2, 5.
    y = [1, 1, 0, 0, 1, 1]
    w = [1, 1, 0, 1, 1, 0]
    score = [6, 5, 4, 3, 2, 1]
    curve = uplift.qini_curve(y, w, score, points=7)
    # top 2: Y_T = 2, no control yet -> 2; top 3: 2 - 0 * 2/1 = 2; top 4: 2 - 0 = 2;
    # top 5: 3 - 0 = 3; top 6: 3 - 1 * 4/2 = 1.
    assert curve.incremental.round(6).tolist()[2:] == [2.0, 2.0, 2.0, 3.0, 1.0]
    assert curve.random.iloc[-1] == pytest.approx(1.0)
    assert uplift.uplift_at_k(y, w, score, k=0.5) == pytest.approx(1.0 - 0.0)
    assert uplift.uplift_at_k(y, w, score, k=1.0) == pytest.approx(0.75 - 0.5)


def test_a_random_scorer_follows_the_diagonal_and_a_perfect_one_bounds_every_other():
    rng = np.random.default_rng(0)
    effect = rng.normal(0.01, 0.03, 200_000)
    random_curve = uplift.true_gain_curve(effect, rng.random(len(effect)))
    diagonal = random_curve.share * effect.sum()
    assert np.max(np.abs(random_curve.gain - diagonal)) < 0.02 * np.abs(effect).sum()
    perfect = uplift.true_gain_curve(effect, effect)
    noisy = uplift.true_gain_curve(effect, effect + rng.normal(0, 0.05, len(effect)))
    assert (perfect.gain >= noisy.gain - 1e-9).all() and (perfect.gain >= random_curve.gain - 1e-9).all()


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=3, max_size=60), st.integers(0, 10_000))
def test_sorting_by_the_true_effect_is_the_upper_bound(effects, seed):
    effect = np.array(effects)
    other = uplift.true_gain_curve(effect, np.random.default_rng(seed).random(len(effect)))
    assert (uplift.true_gain_curve(effect, effect).gain >= other.gain - 1e-9).all()


def effects(X):
    """Baseline chance 5-45% rising with x0; effect rising with x1 and falling as the baseline
    rises: customers likely to buy anyway (sure things) gain little or lose, as in the world."""
    p0 = 0.05 + 0.4 / (1 + np.exp(-X[:, 0]))
    tau = np.clip(0.03 + 0.04 * np.tanh(X[:, 1]) - 0.25 * (p0 - 0.25), -p0, 1 - p0)
    return p0, tau


def simulate(rng, n=6000, treated_share=0.8):
    X = rng.normal(size=(n, 2))
    p0, tau = effects(X)
    w = (rng.random(n) < treated_share).astype(int)
    y = (rng.random(n) < p0 + w * tau).astype(float)
    return X, y, w, tau, p0


def test_average_effect_intervals_cover_the_truth_in_95_percent_of_repetitions():
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        X, y, w, tau, _ = simulate(rng, n=3000)
        ate = uplift.average_effect(y, w)
        covered += ate["low"] <= tau.mean() <= ate["high"]
    assert covered >= 90, covered


def test_the_learned_ranking_beats_random_and_response_model_targeting():
    rng = np.random.default_rng(3)
    X, y, w, tau, p0 = simulate(rng, n=40_000)
    model = uplift.fit_arm(X, y, w, "arm", "converted", rng)
    assert model.learner.name in {"T-learner", "X-learner", "transformed outcome"}
    X_new = rng.normal(size=(20_000, 2))
    _, tau_new = effects(X_new)
    k = 5000
    learned = tau_new[np.argsort(-model.predict(X_new))[:k]].sum()
    response = uplift.default_estimator(1).fit(X[w == 1], y[w == 1])
    by_response = tau_new[np.argsort(-response.predict(X_new))[:k]].sum()
    at_random = tau_new[rng.permutation(len(tau_new))[:k]].sum()
    assert learned > 1.5 * at_random and learned > 1.5 * by_response
    assert 0 < model.slope <= 1


def test_the_x_learner_built_on_a_fitted_t_learner_is_the_one_fitted_from_scratch():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2_000, 3))
    w = (rng.random(2_000) < 0.5).astype(float)
    y = X[:, 0] * w + rng.normal(size=2_000)
    first = uplift.TLearner(uplift.default_estimator(7)).fit(X, y, w)
    reused = uplift.XLearner.after(first, X, y, w).predict(X)
    assert np.array_equal(reused, uplift.XLearner(uplift.default_estimator(7)).fit(X, y, w).predict(X))
    assert [learner.name for learner in uplift.fitted_learners(X, y, w, 7)] == [c.name for c in uplift.LEARNERS]


def test_calibration_slope_is_one_for_the_truth_and_zero_for_noise():
    rng = np.random.default_rng(4)
    X, y, w, tau, _ = simulate(rng, n=200_000)
    assert uplift.calibration_slope(y, w, tau) == pytest.approx(1.0, abs=0.15)
    assert uplift.calibration_slope(y, w, rng.normal(size=len(y))) < 0.05
    # a held-out fold of a thin arm with no control row: nothing to check the predictions on
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert uplift.calibration_slope(y, np.ones_like(w), tau) == 0.0


def test_the_randomisation_check_flags_a_biased_control_group():
    rng = np.random.default_rng(5)
    features = pd.DataFrame(rng.normal(size=(5000, 4)), columns=list("abcd"))
    fair = (rng.random(5000) < 0.85).astype(int)
    biased = (rng.random(5000) < 0.85 - 0.1 * (features.a > 0)).astype(int)
    assert uplift.balance_check(features, fair)["p_value"] > 0.001
    check = uplift.balance_check(features, biased)
    assert check["p_value"] < 1e-6 and abs(check["smd"]["a"]) > 0.1


def test_an_arm_without_a_control_group_is_refused():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(100, 2))
    with pytest.raises(uplift.UpliftInputError, match="control group"):
        uplift.fit_arm(X, rng.random(100), np.ones(100, dtype=int), "email · discount_10", "converted", rng)
    with pytest.raises(uplift.UpliftInputError, match="at least two"):
        uplift.average_effect([1.0, 0.0, 1.0], [1, 1, 1])


def test_a_campaign_without_control_in_the_history_is_named(small_world, tmp_path):
    from helpers.data.dataset import load_tables
    from helpers.decide import next_best_offer as nbo

    contacts = small_world.table("contacts")
    first = contacts.campaign_id.iloc[0]
    contacts = contacts[~((contacts.campaign_id == first) & (contacts.group == "control"))]
    contacts.to_parquet(tmp_path / "contacts.parquet")
    for name in ("transactions", "campaigns", "customers"):
        small_world.table(name).to_parquet(tmp_path / f"{name}.parquet")
    data = load_tables(tmp_path, latest_date=pd.Timestamp("2025-12-31").date())
    with pytest.raises(uplift.UpliftInputError, match=f"campaign {first} has no control group"):
        nbo.arms(data)


def test_each_arm_learns_from_at_most_max_training_rows_and_below_it_draws_nothing(monkeypatch):
    from helpers.decide import next_best_offer as nbo

    rng = np.random.default_rng(9)
    X, y, w, _, _ = simulate(rng, n=5000)
    table = _history(X, y, w, np.where(np.arange(5000) < 4000, "email · discount_10", "sms · free_shipping"))
    monkeypatch.setattr(nbo, "MAX_TRAINING_ROWS", 2000)
    models = nbo.fit_arms(table, np.random.default_rng(1), outcomes=("converted",))
    held_out = {arm: len(m.holdout) for (arm, _), m in models.items()}
    assert 450 < held_out["email · discount_10"] < 750, "30% of the 2,000 sampled rows of 4,000"
    assert 200 < held_out["sms · free_shipping"] < 400, "30% of all 1,000 rows, under the cap"
    state = np.random.default_rng(1)
    kept = nbo._at_most(table, 10_000, state)
    assert kept is table and state.random() == np.random.default_rng(1).random(), "no draw under the cap"


def test_p_alive_from_a_sample_of_customers_matches_the_whole_base(small_world, monkeypatch):
    """customer_features fits its BG/NBD on every k-th customer past MAX_FIT_CUSTOMERS: on a
    third of the base, P(alive) barely moves."""
    import datetime as dt

    from helpers.decide import next_best_offer as nbo
    from helpers.run.notebook import world_data

    data, day = world_data(small_world), dt.date(2025, 6, 30)
    ids = small_world.table("customers", ["customer_id"]).customer_id
    whole = nbo.customer_features(data, day, ids)
    monkeypatch.setattr(nbo, "MAX_FIT_CUSTOMERS", len(whole.dropna(subset=["p_alive"])) // 3)
    sampled = nbo.customer_features(data, day, ids)
    assert np.abs(sampled.p_alive - whole.p_alive).max() < 0.05
    assert np.corrcoef(sampled.p_alive.dropna(), whole.p_alive.dropna())[0, 1] > 0.99
    assert not sampled.p_alive.equals(whole.p_alive), "the sample was used"


def test_each_arm_model_depends_on_its_seed_arm_outcome_and_rows_alone():
    """Fitting one arm alone, or one outcome alone, gives the very models fitting everything gives."""
    from helpers.decide import next_best_offer as nbo

    X, y, w, _, _ = simulate(np.random.default_rng(4), n=3000)
    table = _history(X, y, w, np.where(np.arange(3000) % 3 == 0, "email · discount_10", "sms · free_shipping"))
    everything = nbo.fit_arms(table, 5)
    alone = nbo.fit_arms(table[table.arm == "sms · free_shipping"], 5, outcomes=("margin",))
    model, same = everything[("sms · free_shipping", "margin")], alone[("sms · free_shipping", "margin")]
    assert list(alone) == [("sms · free_shipping", "margin")]
    assert np.array_equal(model.predict(X), same.predict(X)) and model.qini == same.qini
    pd.testing.assert_frame_equal(model.holdout, same.holdout)
    other = nbo.fit_arms(table, 6, outcomes=("margin",))[("sms · free_shipping", "margin")]
    assert not np.array_equal(model.predict(X), other.predict(X)), "the seed matters"


def _history(X: np.ndarray, y: np.ndarray, w: np.ndarray, arm: np.ndarray) -> pd.DataFrame:
    """A one-campaign training table of simulated rows, in the shape ``nbo.training_table`` gives."""
    rows = len(y)
    return pd.DataFrame(
        {
            "campaign_id": "c1",
            "customer_id": np.arange(rows),
            "w": w,
            "converted": y,
            "margin": 20 * y,
            "window_revenue": 40 * y,
            "x0": X[:, 0],
            "x1": X[:, 1],
            "arm": arm,
        }
    )
