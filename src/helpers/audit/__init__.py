"""The decision audit against the truth: oracles (each decision made from the truth under the same
constraints), every decision and its naive baselines over seeds and world variants, and the share of
the oracle's value each captures.

Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.audit.coverage import LEVELS, clv_total_held, coverage_summary, test_readout_held
    from helpers.audit.decisions import Learned, clv_ranking, contact_plan, learn, next_best_offer, plan_limits, played
    from helpers.audit.off_policy_check import cross_fitted_plans, off_policy_check
    from helpers.audit.oracle import oracle_contact_plan, oracle_offers, true_arm_margins, true_value_ranking
    from helpers.audit.page import audit_report, markdown_table
    from helpers.audit.scenarios import scenario_horizon, scenario_set, set_margin
    from helpers.audit.signal import uplift_signal
    from helpers.audit.summary import (
        DEFAULT_SEEDS,
        audit_seed,
        checks_summary,
        interval,
        run_audit,
        summarise,
        write_json,
    )
    from helpers.audit.win_back import WIN_BACK_ORDER, captured_value, segment_order, win_back_segments
    from helpers.audit.worlds import VARIANTS_FILE, AuditInputError, Variant, load_variants, variant_world

__all__ = [
    "AuditInputError",
    "DEFAULT_SEEDS",
    "LEVELS",
    "Learned",
    "VARIANTS_FILE",
    "Variant",
    "WIN_BACK_ORDER",
    "audit_report",
    "audit_seed",
    "captured_value",
    "checks_summary",
    "clv_ranking",
    "clv_total_held",
    "contact_plan",
    "coverage_summary",
    "cross_fitted_plans",
    "interval",
    "learn",
    "load_variants",
    "markdown_table",
    "next_best_offer",
    "off_policy_check",
    "oracle_contact_plan",
    "oracle_offers",
    "plan_limits",
    "played",
    "run_audit",
    "scenario_horizon",
    "scenario_set",
    "segment_order",
    "set_margin",
    "summarise",
    "test_readout_held",
    "true_arm_margins",
    "true_value_ranking",
    "uplift_signal",
    "variant_world",
    "win_back_segments",
    "write_json",
]

__getattr__ = lazy_exports(__name__)
