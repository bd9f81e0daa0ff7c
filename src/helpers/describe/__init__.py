"""Describing the customer base: knowledge (Pareto, KPIs), segmentation, prospects, next category."""

from helpers.describe.knowledge import (
    kpis, pareto_curve, top_share, cohort_retention, interpurchase_days, orders_per_customer, consent_coverage,
    journey_funnel, monthly_revenue, campaign_readout)
from helpers.describe.next_category import transition_matrix, recommend, most_popular, hit_rate, evaluate
from helpers.describe.prospects import (
    journey_stage_counts, new_customer_value, nurture_arms, nurture_values, assumed_against_true)
from helpers.describe.segmentation import (
    rfm_scores, rfm_segments, segments_as_of, segment_summary, segment_transitions, cluster_matrix, choose_k,
    cluster_customers, profile_clusters)
