"""The trigger rules replayed on one's own history: the window, the messages due and their file agree."""

import datetime as dt

import pandas as pd
import pytest

from helpers.decide import rule_backtest, triggers
from helpers.errors import ModelInputError
from helpers.models.purchase_models import MODELS
from helpers.paths import SCENARIOS_DIR
from helpers.run.exports import export_list
from helpers.run.notebook import world_data


def test_the_messages_due_are_the_window_s_last_day_and_are_counted_per_rule(small_world, tmp_path):
    data = world_data(small_world)
    as_of = dt.date.fromisoformat(small_world.parameters["end"])
    rules = triggers.load_rules(SCENARIOS_DIR / "triggers_retail_fr.yml", small_world.spec["offers"])
    result = rule_backtest.backtest(data, rules, as_of, seed=3, months=6)
    assert result.note == "" and result.rules == rules and result.purchases.model in MODELS
    since = pd.Timestamp(as_of) - pd.DateOffset(months=6)
    assert result.fires.send_day.between(since, pd.Timestamp(as_of)).all()
    expected = result.fires[(result.fires.send_day == pd.Timestamp(as_of)) & (result.fires.status == "sent")]
    pd.testing.assert_frame_equal(result.due, expected[rule_backtest.DUE_COLUMNS])
    assert result.volumes.due_on_the_analysis_date.sum() == len(result.due)
    assert (result.volumes.sent > 0).any() and result.history.day.max() <= pd.Timestamp(as_of)
    path = export_list(result.due, "scenario_messages_due", "45_automate_triggered_scenarios", tmp_path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), result.due.reset_index(drop=True))  # what the CRM files hold


def test_the_p_alive_rules_follow_the_chosen_purchase_model(small_world):
    data = world_data(small_world)
    as_of = dt.date.fromisoformat(small_world.parameters["end"])
    rules = triggers.load_rules(SCENARIOS_DIR / "triggers_retail_fr.yml", small_world.spec["offers"]).only(["fading"])
    fading = {
        model: rule_backtest.backtest(data, rules, as_of, seed=3, months=6, clv_model=model)
        for model in ("bgnbd", "pareto_nbd")
    }
    assert {model: result.purchases.model for model, result in fading.items()} == {m: m for m in fading}
    bg, pareto = (fading[m].fires for m in ("bgnbd", "pareto_nbd"))
    assert len(bg) and len(pareto) and not bg[["customer_id", "event_day"]].equals(pareto[["customer_id", "event_day"]])
    with pytest.raises(ModelInputError, match="clv_model 'lifetimes'"):
        rule_backtest.backtest(data, rules, as_of, seed=3, clv_model="lifetimes")
