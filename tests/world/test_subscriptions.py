"""The subscription world: deterministic, cached like the others, its tables consistent with its truth."""

import numpy as np
import pytest
import yaml

from helpers.models.retention import add_months
from helpers.paths import SCENARIOS_DIR
from helpers.world import WorldParameterError, ensure_world, generate_world

SMALL = {"n_customers": 3000, "seed": 5}


def test_the_same_seed_gives_the_same_files_and_the_cache_keys_every_parameter(tmp_path):
    world = generate_world("subscription_fr", root=tmp_path / "a", **SMALL)
    again = generate_world("subscription_fr", root=tmp_path / "b", **SMALL)
    assert world.manifest["files"] == again.manifest["files"] and not world.verify()
    assert sorted(world.manifest["files"]) == [
        "customers.parquet",
        "subscriptions.parquet",
        "truth/retention.parquet",
        "truth/truth.parquet",
    ]
    assert ensure_world("subscription_fr", root=tmp_path / "a", **SMALL).path == world.path
    other = ensure_world("subscription_fr", root=tmp_path / "a", **{**SMALL, "seed": 6})
    assert other.path != world.path and other.path.name.startswith("subscription_fr-6-")
    assert "True sBG parameters per acquisition channel: web alpha = 0.9" in (world.path / "README.md").read_text()


def test_the_subscriptions_follow_the_drawn_churn(tmp_path):
    world = ensure_world("subscription_fr", root=tmp_path, n_customers=20000, seed=1)
    subs, truth = world.table("subscriptions"), world.truth()
    start, end = subs.start_date.to_numpy("datetime64[D]"), subs.end_date.to_numpy("datetime64[D]")
    ended = ~np.isnat(end)
    np.testing.assert_array_equal(end[ended], add_months(start[ended], truth.periods_paid.to_numpy()[ended]))
    assert (ended == ~truth.active_at_end).all()
    assert (end[ended] <= np.datetime64("2025-12-31")).all()
    spec = world.spec["subscriptions"]["acquisition"]
    for channel, group in truth.groupby("acquisition_source"):
        true_mean = spec[channel]["alpha"] / (spec[channel]["alpha"] + spec[channel]["beta"])
        assert group.churn_probability.mean() == pytest.approx(true_mean, abs=0.01)
        assert (group.periods_paid == 1).mean() == pytest.approx(true_mean, abs=0.015)  # lost at renewal 1
    promo = truth.acquisition_source == "promo"
    assert promo[truth.cohort == "2024"].mean() > 1.4 * promo[truth.cohort == "2023"].mean()  # the 2024 push
    curves = world.truth("retention")
    web = curves[(curves.cohort == "2023") & (curves.acquisition_source == "web")]
    assert web.retention.iloc[1:].is_monotonic_increasing  # those left are the loyal ones


def test_a_subscription_world_refuses_prospects_and_a_faulty_scenario(tmp_path):
    with pytest.raises(WorldParameterError, match="n_prospects=0"):
        generate_world("subscription_fr", root=tmp_path, n_prospects=10, n_customers=100)
    spec = yaml.safe_load((SCENARIOS_DIR / "subscription_fr.yml").read_text())
    spec["subscriptions"]["acquisition"]["web"]["beta"] = -1
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(WorldParameterError, match="acquisition.web.beta must be a positive number"):
        generate_world(bad, root=tmp_path)
