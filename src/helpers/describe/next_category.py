"""What to suggest next: the category each customer is most likely to buy next, from what
customers buy in sequence (the transitions between consecutive orders' categories), weighted by
the customer's own category mix; scored on a time split against what they actually bought."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from helpers import features


def transition_matrix(transitions: pd.DataFrame, smoothing: float = 1.0) -> pd.DataFrame:
    """P(next order's category | this order's category): previous (rows) x category, rows sum to 1
    (``smoothing`` pairs added to every cell, so a rare category still has a row)."""
    counts = transitions.pivot_table(index="previous", columns="category", values="pairs", aggfunc="sum", fill_value=0)
    labels = sorted(set(counts.index) | set(counts.columns))
    counts = counts.reindex(index=labels, columns=labels, fill_value=0) + smoothing
    return counts.div(counts.sum(axis=1), axis=0)


OWN_WEIGHT = 0.3  # chosen on the default world's split at 2024-12-31 (0.3, 0.5, 0.7 and 0 tried)


def recommend(
    shares: pd.DataFrame, transitions: pd.DataFrame, popularity: pd.Series, k: int = 3, own_weight: float = OWN_WEIGHT
) -> pd.DataFrame:
    """Top ``k`` next categories per customer. Score = ``own_weight`` x the customer's own category
    shares (they buy again what they bought) + the rest x their shares through the transition matrix
    (what follows what they buy, for customers like them); ties go to the more popular category.
    Returns customer_id (index) x rank 1..k."""
    matrix = transition_matrix(transitions)
    labels = list(matrix.columns)
    weights = shares.reindex(columns=labels, fill_value=0.0).to_numpy()
    score = own_weight * weights + (1 - own_weight) * weights @ matrix.to_numpy()
    tie = popularity.reindex(labels).fillna(0).rank(method="first").to_numpy() * 1e-9
    top = np.argsort(-(score + tie), axis=1, kind="stable")[:, :k]
    return pd.DataFrame(np.array(labels, dtype=object)[top], index=shares.index, columns=range(1, k + 1))


def most_popular(popularity: pd.Series, customers: pd.Index, k: int = 3) -> pd.DataFrame:
    """The baseline: the ``k`` most ordered categories, the same for everyone."""
    top = popularity.sort_values(ascending=False, kind="stable").index[:k].tolist()
    return pd.DataFrame([top] * len(customers), index=customers, columns=range(1, k + 1))


def hit_rate(suggested: pd.DataFrame, actual: pd.Series) -> float:
    """Share of customers whose actual next category is among their suggestions."""
    rows = suggested.reindex(actual.index)
    return float(rows.eq(actual, axis=0).any(axis=1).mean()) if len(actual) else float("nan")


def evaluate(tx: ibis.Table, split: dt.date, until: dt.date, k: int = 3) -> dict:
    """Fit on orders up to ``split``, suggest ``k`` categories to every customer known then, score
    against their first order in (split, until]: hit rates of the model and of the most popular."""
    transitions = features.category_transitions(tx, split)
    shares = features.category_shares(tx, split)
    popularity = features.category_orders(tx, split)
    actual = features.next_category_after(tx, split, until)
    actual = actual[actual.index.isin(shares.index)]
    model = recommend(shares, transitions, popularity, k)
    baseline = most_popular(popularity, shares.index, k)
    return {
        "customers_scored": int(len(actual)),
        "k": k,
        "hit_rate_model": hit_rate(model, actual),
        "hit_rate_most_popular": hit_rate(baseline, actual),
    }
