"""Triggered scenarios played forward on a world: consent, holdout and cap hold on real volumes,
results repeat with the seed, and the holdout readout covers the truth."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from helpers import features
from helpers.decide import audience, automation, triggers
from helpers.models import bg_nbd
from helpers.paths import SCENARIOS_DIR
from helpers.run.notebook import world_data

WEEKS = 26


@pytest.fixture(scope="module")
def setting(small_world):
    data = world_data(small_world)
    end = dt.date.fromisoformat(small_world.parameters["end"])
    tx = data.table("transactions")
    first_day = end + dt.timedelta(days=1)
    eligible = audience.eligible_on(data, audience.buyers(data), first_day)
    rules = triggers.load_rules(SCENARIOS_DIR / "triggers_retail_fr.yml", small_world.spec["offers"])
    bgnbd = bg_nbd.fit(features.execute(features.customer_summary(tx, end)))
    return {
        "world": small_world,
        "rules": rules,
        "history": features.order_days(tx, end),
        "eligible": eligible,
        "newsletter": automation.newsletter_calendar(eligible, first_day, WEEKS),
        "bgnbd": bgnbd,
        "pre": features.revenue_between(tx, end - dt.timedelta(days=364), end),
    }


def _horizon(s, seed):
    return automation.horizon(
        s["world"], s["history"], s["eligible"], s["newsletter"], WEEKS, seed, s["bgnbd"], s["pre"]
    )


def _play(s, seed, rules=None):
    return automation.play_scenarios(_horizon(s, seed), rules or s["rules"])


def test_same_seed_same_scenarios_and_readout(setting):
    a, b = _play(setting, 3), _play(setting, 3)
    pd.testing.assert_frame_equal(a.fires, b.fires)
    pd.testing.assert_frame_equal(a.readout, b.readout)
    assert a.played.summary == b.played.summary
    assert not a.readout.equals(_play(setting, 4).readout)


def test_no_message_without_consent_none_to_the_holdout_and_the_cap_holds(setting):
    result = _play(setting, 5)
    sent = result.fires[result.fires.status == "sent"]
    assert len(sent) > 500
    allowed = setting["eligible"].to_numpy()[
        setting["eligible"].index.get_indexer(sent.customer_id), setting["eligible"].columns.get_indexer(sent.channel)
    ]
    assert allowed.all()
    held = result.fires[result.fires.status == "holdout"][["customer_id", "rule"]]
    contacted = result.played.contacts[["customer_id", "rule"]]
    assert held.merge(contacted).empty, "a holdout customer never receives the rule's message"
    days = pd.concat(
        [
            setting["newsletter"][["customer_id", "day"]],
            sent.rename(columns={"send_day": "day"})[["customer_id", "day"]],
        ]
    )
    for _, group in days.groupby("customer_id").day:
        d = np.sort(group.values.astype("datetime64[D]").astype(int))
        assert (np.searchsorted(d, d + 30) - np.arange(len(d))).max() <= setting["rules"].cap_contacts


def test_holdout_intervals_cover_the_true_effect(setting):
    rows = pd.concat([_play(setting, seed).readout for seed in range(25)])
    rows = rows.dropna(subset=["ci_low"])
    covered = (rows.ci_low <= rows.true_incremental_revenue) & (rows.true_incremental_revenue <= rows.ci_high)
    assert len(rows) >= 75 and covered.mean() >= 0.88


def test_threshold_variants_and_the_recommended_set(setting):
    win_back = next(r for r in setting["rules"].rules if r.event == "days_since_purchase")
    candidates = automation.variants(win_back, "days", [60, 120])
    assert [c.params["days"] for c in candidates] == [60, 120] and candidates[0].name == "win_back (days 60)"
    over = _horizon(setting, 1)
    table = automation.compare(over, setting["rules"], candidates)
    assert table.rule.tolist() == ["win_back (days 60)", "win_back (days 120)"]
    alone = automation.play_scenarios(
        over, triggers.TriggerSet((candidates[1],), setting["rules"].cap_contacts, setting["rules"].cap_days)
    ).readout
    pd.testing.assert_frame_equal(table.iloc[[1]].reset_index(drop=True), alone)
    readouts = pd.DataFrame(
        {"rule": ["a", "b (x 1)", "b (x 2)", "c"], "true_incremental_margin": [5.0, -1.0, 3.0, -2.0]}
    )
    assert automation.recommend(readouts, {"a": ["a"], "b": ["b (x 1)", "b (x 2)"], "c": ["c"]}) == ["a", "b (x 2)"]


def test_each_threshold_rule_gets_one_variant_per_value_and_the_others_none(setting):
    rules = setting["rules"]
    candidates = automation.threshold_variants(rules, {"days_since_purchase": [60, 120], "p_alive_below": [0.3]})
    assert [c.name for c in candidates] == ["win_back (days 60)", "win_back (days 120)", "fading (threshold 0.3)"]
    assert candidates[2].params["threshold"] == 0.3 and candidates[2].channel == "postal"
    assert automation.threshold_variants(rules.only(["welcome", "cross_sell"]), {"days_since_purchase": [60]}) == []


def test_the_recommended_set_keeps_per_rule_the_best_paying_variant_under_the_same_cap(setting):
    rules = setting["rules"]
    candidates = automation.threshold_variants(rules, {"days_since_purchase": [60, 120], "p_alive_below": [0.3]})
    margins = {
        "welcome": 5.0,
        "cross_sell": -1.0,
        "late_for_them": 0.0,
        "win_back": 9.0,
        "fading": 1.0,
        "win_back (days 60)": 2.0,
        "win_back (days 120)": 4.0,
        "fading (threshold 0.3)": -3.0,
    }
    readouts = pd.DataFrame({"rule": list(margins), "true_incremental_margin": list(margins.values())})
    best = automation.recommended_rules(rules, candidates, readouts)
    assert [r.name for r in best.rules] == ["welcome", "win_back (days 120)"]
    assert (best.cap_contacts, best.cap_days) == (rules.cap_contacts, rules.cap_days)
    assert best.rules[1] == candidates[1]
