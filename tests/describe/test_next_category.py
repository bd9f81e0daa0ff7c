"""Next-category suggestions from what customers buy in sequence, scored on a time split."""

import datetime as dt

import pandas as pd
import pytest

from helpers import engine, features
from helpers.describe import next_category
from helpers.world import ensure_world


def _tx(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_date", "category", "amount"])
    return engine.connect().create_table("tx", frame.assign(order_date=pd.to_datetime(frame.order_date)))


def test_transitions_follow_each_customers_orders_in_time():
    tx = _tx(
        [
            (1, 10, "2025-01-01", "home", 10.0),
            (1, 11, "2025-02-01", "beauty", 10.0),
            (1, 12, "2025-02-01", "home", 10.0),
            (2, 20, "2025-01-05", "home", 10.0),
            (2, 21, "2025-03-01", "beauty", 10.0),
            (3, 30, "2025-01-09", "shoes", 10.0),
        ]
    )
    pairs = features.category_transitions(tx, dt.date(2025, 12, 31))
    assert pairs.to_dict("records") == [
        {"previous": "beauty", "category": "home", "pairs": 1},
        {"previous": "home", "category": "beauty", "pairs": 2},
    ]
    assert features.next_category_after(tx, dt.date(2025, 1, 31), dt.date(2025, 12, 31)).to_dict() == {
        1: "beauty",
        2: "beauty",
    }  # same day: the lower order_id comes first
    assert features.category_orders(tx, dt.date(2025, 1, 31)).to_dict() == {"home": 2, "shoes": 1}


def test_recommend_blends_own_mix_and_what_follows_it():
    transitions = pd.DataFrame(
        {"previous": ["a", "a", "b", "c"], "category": ["b", "b", "c", "a"], "pairs": [9, 9, 9, 9]}
    )
    shares = pd.DataFrame(
        {"a": [1.0, 0.0], "b": [0.0, 0.0], "c": [0.0, 1.0]}, index=pd.Index([1, 2], name="customer_id")
    )
    popularity = pd.Series({"a": 5, "b": 1, "c": 3})
    top = next_category.recommend(shares, transitions, popularity, k=2, own_weight=0.3)
    assert top.loc[1].tolist() == ["b", "a"]  # a is followed by b (0.7 x 0.9) before a itself (0.3 + ...)
    assert top.loc[2].tolist() == ["a", "c"]
    assert next_category.most_popular(popularity, shares.index, k=2).loc[2].tolist() == ["a", "c"]
    assert next_category.hit_rate(top, pd.Series({1: "a", 2: "b"})) == 0.5


def test_suggestions_beat_the_most_popular_categories_on_a_time_split_of_the_default_world():
    world = ensure_world()
    tx = engine.read_table(engine.connect(), world.table_path("transactions"), "transactions")
    result = next_category.evaluate(tx, dt.date(2025, 6, 30), dt.date(2025, 12, 31), k=3)
    assert result["customers_scored"] > 3000
    assert result["hit_rate_model"] > result["hit_rate_most_popular"] + 0.03
    assert result["hit_rate_model"] == pytest.approx(0.586, abs=0.002)
