"""Who the best customers are and who is slipping away: RFM segments a marketer recognises,
behavioural clusters, and how customers move between segments over time.

RFM scores are 1-5 from rank percentiles (ties share a score): R from recency (recent = 5), F from
the number of orders, M from net revenue; FM is their rounded mean. Segments follow ordered rules
(first match wins) on R, FM and the number of orders; every combination lands in exactly one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import ibis
import numpy as np
import pandas as pd

from helpers.features import execute, rfm_features

# segment: (rule on r, fm, orders; plain recommended action). Order matters: first match wins.
SEGMENTS = {
    "new": (
        lambda r, fm, n: (n == 1) & (r >= 4),
        "Welcome them: a welcome series, then make the second purchase easy within their usual rhythm.",
    ),
    "champions": (
        lambda r, fm, n: (r >= 4) & (fm >= 4),
        "Reward and listen: early access, loyalty perks, ask for reviews and referrals. No discount needed.",
    ),
    "loyal": (
        lambda r, fm, n: (r >= 3) & (fm >= 3),
        "Keep them close: personalised recommendations and membership benefits; sell up.",
    ),
    "promising": (
        lambda r, fm, n: r >= 4,
        "Turn a good start into a habit: a second-category suggestion, useful content.",
    ),
    "need attention": (
        lambda r, fm, n: r == 3,
        "Reach them before they slip: a relevant, time-limited offer built on what they bought.",
    ),
    "can't lose": (
        lambda r, fm, n: fm >= 4,
        "Your best customers are slipping: a personal call or letter and a strong reason to return.",
    ),
    "at risk": (
        lambda r, fm, n: fm == 3,
        "Win them back now: a personal message and a reason to return (new collection, offer).",
    ),
    "hibernating": (lambda r, fm, n: r == 2, "Low-cost channels only (e-mail), seasonal campaigns; do not overspend."),
    "lost": (lambda r, fm, n: r == 1, "Leave them alone, or one last low-cost reactivation; stop costly contacts."),
}


def _score(values: pd.Series, bins: int) -> pd.Series:
    percentile = values.rank(pct=True, method="average")
    return np.ceil(percentile * bins).clip(1, bins).astype(int)


def rfm_scores(rfm: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """``rfm`` (from ``features.rfm_features``) with r_score, f_score, m_score, fm_score (1..bins)."""
    out = rfm.copy()
    out["r_score"] = _score(-rfm.recency_days, bins)
    out["f_score"] = _score(rfm.orders, bins)
    out["m_score"] = _score(rfm.revenue, bins)
    out["fm_score"] = np.floor((out.f_score + out.m_score) / 2 + 0.5).astype(int)
    return out


def rfm_segments(scores: pd.DataFrame) -> pd.Series:
    """The named segment of each customer (an ordered categorical, in SEGMENTS order)."""
    r, fm, n = scores.r_score.to_numpy(), scores.fm_score.to_numpy(), scores.orders.to_numpy()
    choice = np.select([rule(r, fm, n) for rule, _ in SEGMENTS.values()], list(SEGMENTS), default="lost")
    return pd.Series(
        pd.Categorical(choice, categories=list(SEGMENTS), ordered=True), index=scores.index, name="segment"
    )


def segments_as_of(tx: ibis.Table, as_of: dt.date) -> pd.DataFrame:
    """RFM features, scores and segment of every customer who had bought by ``as_of``."""
    scores = rfm_scores(execute(rfm_features(tx, as_of), "customer_id"))
    return scores.assign(segment=rfm_segments(scores))


def segment_summary(segmented: pd.DataFrame) -> pd.DataFrame:
    """Per segment: customers, share of customers and of revenue, median recency (days), mean
    orders and revenue (EUR), and the recommended action. Empty segments are shown with 0."""
    revenue = segmented.revenue.clip(lower=0)
    table = (
        segmented.assign(revenue_pos=revenue)
        .groupby("segment", observed=False)
        .agg(
            customers=("customer_id", "size"),
            revenue=("revenue_pos", "sum"),
            median_recency_days=("recency_days", "median"),
            mean_orders=("orders", "mean"),
            mean_revenue=("revenue", "mean"),
        )
    )
    table["customer_share"] = table.customers / max(len(segmented), 1)
    table["revenue_share"] = table.revenue / max(revenue.sum(), 1e-12)
    table["action"] = [SEGMENTS[s][1] for s in table.index]
    columns = [
        "customers",
        "customer_share",
        "revenue_share",
        "median_recency_days",
        "mean_orders",
        "mean_revenue",
        "action",
    ]
    return (
        table[columns]
        .fillna(0)
        .round({"customer_share": 3, "revenue_share": 3, "median_recency_days": 0, "mean_orders": 2, "mean_revenue": 2})
        .reset_index()
    )


def segment_transitions(tx: ibis.Table, earlier: dt.date, later: dt.date) -> pd.DataFrame:
    """Customers by segment at ``earlier`` (rows) and at ``later`` (columns), for every customer
    who had bought by ``earlier``."""
    before = segments_as_of(tx, earlier)[["customer_id", "segment"]]
    after = segments_as_of(tx, later)[["customer_id", "segment"]]
    moves = before.merge(after, on="customer_id", suffixes=("_before", "_after"))
    table = pd.crosstab(moves.segment_before, moves.segment_after, dropna=False)
    table.index.name, table.columns.name = f"segment on {earlier}", f"segment on {later}"
    return table


# ---------------------------------------------------------------- behavioural clusters


def cluster_matrix(rfm: pd.DataFrame) -> np.ndarray:
    """Scaled behavioural features: recency and tenure in days, log(1 + orders, revenue, average
    order). Category shares are left out on purpose (they would split customers by category, not
    by behaviour); ``profile_clusters`` uses them to describe the clusters."""
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame(
        {
            "recency_days": rfm.recency_days.astype(float),
            "log_orders": np.log1p(rfm.orders),
            "log_revenue": np.log1p(rfm.revenue.clip(lower=0)),
            "log_average_order": np.log1p(rfm.average_order.clip(lower=0)),
            "tenure_days": rfm.tenure_days.astype(float),
        }
    )
    return StandardScaler().fit_transform(frame.to_numpy())


def choose_k(
    matrix: np.ndarray, seed: int | np.random.Generator, k_values: Iterable[int] = range(2, 9), sample: int = 4000
) -> pd.DataFrame:
    """For each k: k-means inertia and the silhouette score on a random sample of at most
    ``sample`` customers (higher is better). Columns: k, silhouette, inertia. The sample's distances
    are computed once for every k."""
    from sklearn.cluster import KMeans
    from sklearn.metrics.pairwise import euclidean_distances

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(matrix), size=min(sample, len(matrix)), replace=False)
    distances = euclidean_distances(matrix[rows])
    out = []
    for k in k_values:
        model = KMeans(n_clusters=k, n_init=4, random_state=int(rng.integers(2**31))).fit(matrix)
        out.append(
            {
                "k": k,
                "silhouette": round(silhouette(distances, model.labels_[rows]), 4),
                "inertia": round(float(model.inertia_), 1),
            }
        )
    return pd.DataFrame(out)


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of points with pairwise ``distances`` (n x n) and cluster ``labels``, as
    scikit-learn defines it: (b - a) / max(a, b) with a the mean distance to the rest of the point's
    cluster and b the smallest mean distance to another cluster; 0 for a point alone in its cluster."""
    codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)[1:]
    points = np.arange(len(codes))
    sums = distances @ np.eye(len(sizes))[codes]  # n x clusters: each point's distances summed by cluster
    own = sums[points, codes] / np.maximum(sizes[codes] - 1, 1)
    means = sums / sizes
    means[points, codes] = np.inf
    nearest = means.min(axis=1)
    widest = np.maximum(own, nearest)
    scores = np.divide(nearest - own, widest, out=np.zeros_like(own), where=(widest > 0) & (sizes[codes] > 1))
    return float(scores.mean())


def cluster_customers(matrix: np.ndarray, k: int, seed: int | np.random.Generator, revenue: pd.Series) -> np.ndarray:
    """k-means labels 1..k, numbered by mean revenue (cluster 1 spends most), so names are stable."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    labels = KMeans(n_clusters=k, n_init=8, random_state=int(rng.integers(2**31))).fit_predict(matrix)
    means = pd.Series(revenue.to_numpy()).groupby(labels).mean().sort_values(ascending=False)
    return pd.Series(labels).map({old: new for new, old in enumerate(means.index, start=1)}).to_numpy()


def profile_clusters(rfm: pd.DataFrame, labels: np.ndarray, shares: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per cluster: customers, shares of customers and revenue, medians of recency (days), orders,
    revenue and average order (EUR), tenure (days), the category it leans to most against the
    whole base (when ``shares`` is given), and a description in words."""
    df = rfm.assign(cluster=labels)
    table = df.groupby("cluster").agg(
        customers=("customer_id", "size"),
        revenue_total=("revenue", "sum"),
        recency_days=("recency_days", "median"),
        orders=("orders", "median"),
        revenue=("revenue", "median"),
        average_order=("average_order", "median"),
        tenure_days=("tenure_days", "median"),
    )
    table["customer_share"] = (table.customers / len(df)).round(3)
    table["revenue_share"] = (table.revenue_total.clip(lower=0) / df.revenue.clip(lower=0).sum()).round(3)
    if shares is not None:  # the category each cluster leans to, against the whole base
        aligned = shares.reindex(df.customer_id).fillna(0).set_axis(df.index)
        table["leaning_category"] = (aligned.groupby(df.cluster).mean() / aligned.mean().clip(lower=1e-12)).idxmax(
            axis=1
        )
    overall = df[["recency_days", "orders", "revenue", "average_order"]].median()
    table["description"] = [_describe(row, overall) for _, row in table.iterrows()]
    return (
        table.drop(columns="revenue_total")
        .round({"recency_days": 0, "orders": 1, "revenue": 2, "average_order": 2, "tenure_days": 0})
        .reset_index()
    )


def _describe(row: pd.Series, overall: pd.Series) -> str:
    """Words for a cluster's medians against the whole base's."""

    def level(value, reference, low, high):
        return high if value > 1.5 * reference else low if value < 0.67 * reference else None

    words = [
        level(row.recency_days, overall.recency_days, "recent buyers", "lapsed buyers"),
        "repeat buyers" if row.orders >= 2 else "one-time buyers",
        level(row.revenue, overall.revenue, "small spenders", "big spenders"),
        level(row.average_order, overall.average_order, "small baskets", "large baskets"),
    ]
    text = ", ".join(w for w in words if w)
    return text + (f", leaning to {row.leaning_category}" if isinstance(row.get("leaning_category"), str) else "")
