"""Describing the customer base: knowledge (Pareto, KPIs), segmentation, prospects, next category.

Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.describe.knowledge import (
        campaign_readout,
        cohort_retention,
        consent_coverage,
        interpurchase_days,
        journey_funnel,
        kpis,
        monthly_revenue,
        orders_per_customer,
        pareto_curve,
        top_share,
    )
    from helpers.describe.next_category import evaluate, hit_rate, most_popular, recommend, transition_matrix
    from helpers.describe.prospects import (
        assumed_against_true,
        journey_stage_counts,
        new_customer_value,
        nurture_arms,
        nurture_values,
    )
    from helpers.describe.segmentation import (
        choose_k,
        cluster_customers,
        cluster_matrix,
        profile_clusters,
        rfm_scores,
        rfm_segments,
        segment_summary,
        segment_transitions,
        segments_as_of,
    )

__all__ = [
    "assumed_against_true",
    "campaign_readout",
    "choose_k",
    "cluster_customers",
    "cluster_matrix",
    "cohort_retention",
    "consent_coverage",
    "evaluate",
    "hit_rate",
    "interpurchase_days",
    "journey_funnel",
    "journey_stage_counts",
    "kpis",
    "monthly_revenue",
    "most_popular",
    "new_customer_value",
    "nurture_arms",
    "nurture_values",
    "orders_per_customer",
    "pareto_curve",
    "profile_clusters",
    "recommend",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
    "segment_transitions",
    "segments_as_of",
    "top_share",
    "transition_matrix",
]

__getattr__ = lazy_exports(__name__)
