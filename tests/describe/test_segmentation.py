"""RFM scores, named segments, clusters and segment movement on hand-made data."""

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from helpers.describe import segmentation


def _rfm(recency, orders, revenue):
    n = len(recency)
    return pd.DataFrame(
        {
            "customer_id": range(1, n + 1),
            "recency_days": recency,
            "orders": orders,
            "revenue": revenue,
            "average_order": np.array(revenue) / np.array(orders),
            "tenure_days": np.array(recency) + 100,
        }
    )


def test_scores_rank_recent_frequent_and_valuable_customers_highest_and_ties_share_a_score():
    scores = segmentation.rfm_scores(
        _rfm(recency=[5, 50, 100, 200, 400], orders=[9, 1, 1, 3, 1], revenue=[900, 20, 30, 300, 10])
    )
    assert scores.r_score.tolist() == [5, 4, 3, 2, 1]
    assert scores.m_score.tolist() == [5, 2, 3, 4, 1]
    assert scores.f_score.iloc[1] == scores.f_score.iloc[2] == scores.f_score.iloc[4], "ties share a score"
    assert scores.f_score.iloc[0] == 5


@pytest.mark.parametrize(
    "r, fm, orders, segment",
    [
        (5, 5, 12, "champions"),
        (5, 1, 1, "new"),
        (4, 2, 2, "promising"),
        (3, 4, 6, "loyal"),
        (3, 1, 1, "need attention"),
        (1, 5, 9, "can't lose"),
        (2, 3, 3, "at risk"),
        (2, 1, 1, "hibernating"),
        (1, 2, 1, "lost"),
    ],
)
def test_each_score_combination_names_one_segment(r, fm, orders, segment):
    scores = pd.DataFrame({"r_score": [r], "fm_score": [fm], "orders": [orders]})
    assert segmentation.rfm_segments(scores).iloc[0] == segment


def test_every_combination_of_scores_lands_in_exactly_one_segment():
    grid = pd.DataFrame(
        [(r, fm, n) for r in range(1, 6) for fm in range(1, 6) for n in (1, 2, 8)],
        columns=["r_score", "fm_score", "orders"],
    )
    segments = segmentation.rfm_segments(grid)
    assert segments.notna().all() and set(segments) <= set(segmentation.SEGMENTS)


def test_segment_summary_shares_add_up_and_every_segment_has_an_action():
    scores = segmentation.rfm_scores(
        _rfm(
            recency=list(range(10, 410, 10)),
            orders=[1 + i % 7 for i in range(40)],
            revenue=[50.0 * (1 + i % 9) for i in range(40)],
        )
    )
    summary = segmentation.segment_summary(scores.assign(segment=segmentation.rfm_segments(scores)))
    assert summary.customers.sum() == 40
    assert summary.customer_share.sum() == pytest.approx(1, abs=0.01)
    assert summary.revenue_share.sum() == pytest.approx(1, abs=0.01)
    assert summary.action.str.len().gt(20).all() and len(summary) == len(segmentation.SEGMENTS)


def test_the_silhouette_finds_three_well_separated_groups():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [8, 0], [0, 8]])
    points = np.vstack([c + rng.normal(size=(200, 2)) for c in centres])
    criterion = segmentation.choose_k(points, np.random.default_rng(1), k_values=range(2, 7))
    assert int(criterion.loc[criterion.silhouette.idxmax(), "k"]) == 3
    labels = segmentation.cluster_customers(points, 3, np.random.default_rng(2), pd.Series(points[:, 0]))
    assert pd.Series(points[:, 0]).groupby(labels).mean().is_monotonic_decreasing, "cluster 1 spends most"


def test_segment_transitions_follow_a_customer_who_stops_buying():
    orders = []
    for customer in range(1, 41):  # 40 regular customers buying every month of 2024
        orders += [(customer, dt.date(2024, m, 1 + customer % 20), 50.0) for m in range(1, 13)]
    orders += [(99, dt.date(2023, m, 3), 400.0) for m in range(1, 13)]  # a big customer who stopped in 2023
    tx = ibis.memtable(
        pd.DataFrame(orders, columns=["customer_id", "order_date", "amount"]).assign(
            order_date=lambda d: pd.to_datetime(d.order_date)
        )
    )
    moves = segmentation.segment_transitions(tx, dt.date(2023, 12, 31), dt.date(2024, 12, 31))
    assert moves.to_numpy().sum() == 1, "only customers known at the earlier date are followed"
    assert moves.loc["champions", "can't lose"] == 1


def test_the_silhouette_equals_scikit_learns_with_singletons_and_duplicate_points():
    from sklearn.metrics import silhouette_score
    from sklearn.metrics.pairwise import euclidean_distances

    rng = np.random.default_rng(3)
    points = np.vstack([rng.normal(size=(300, 4)), np.zeros((5, 4))])  # five identical points
    for labels in (
        rng.integers(0, 4, size=305),
        np.r_[np.zeros(300, int), [1, 1, 2, 2, 3]],
        np.r_[rng.integers(0, 3, 304), 7],
    ):
        ours = segmentation.silhouette(euclidean_distances(points), labels)
        assert abs(ours - silhouette_score(points, labels)) < 1e-12
