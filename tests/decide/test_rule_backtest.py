"""The trigger rules replayed on one's own history: the window, the messages due and their file agree."""

import datetime as dt

import pandas as pd

from helpers.decide import rule_backtest, triggers
from helpers.paths import SCENARIOS_DIR
from helpers.run.notebook import world_data


def test_the_messages_due_are_the_window_s_last_day_and_are_counted_per_rule(small_world, tmp_path):
    data = world_data(small_world)
    as_of = dt.date.fromisoformat(small_world.parameters["end"])
    rules = triggers.load_rules(SCENARIOS_DIR / "triggers_retail_fr.yml", small_world.spec["offers"])
    result = rule_backtest.backtest(data, rules, as_of, seed=3, months=6)
    assert result.note == "" and result.rules == rules and len(result.bgnbd) == 4
    since = pd.Timestamp(as_of) - pd.DateOffset(months=6)
    assert result.fires.send_day.between(since, pd.Timestamp(as_of)).all()
    expected = result.fires[(result.fires.send_day == pd.Timestamp(as_of)) & (result.fires.status == "sent")]
    pd.testing.assert_frame_equal(result.due, expected[rule_backtest.DUE_COLUMNS])
    assert result.volumes.due_on_the_analysis_date.sum() == len(result.due)
    assert (result.volumes.sent > 0).any() and result.history.day.max() <= pd.Timestamp(as_of)
    path = rule_backtest.write_due(result.due, tmp_path / "new" / "folder")
    assert path.name == rule_backtest.DUE_FILE
    pd.testing.assert_frame_equal(pd.read_csv(path), result.due.reset_index(drop=True), check_dtype=False)
