"""Models fitted on the contract tables: purchase models and customer lifetime value, uplift, experiments,
effects with intervals.

Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.models import (
        bg_bb,
        bg_nbd,
        clv_intervals,
        covariates,
        gamma_gamma,
        interval_coverage,
        mbg_nbd,
        opportunities,
        pareto_nbd,
        retention,
        sbg,
    )
    from helpers.models.beta_quadrature import beta_rules
    from helpers.models.clv import Models, customer_value, fit_models, value_at_risk
    from helpers.models.clv_intervals import ValueIntervals, value_intervals
    from helpers.models.covariates import CovariateFit
    from helpers.models.effects import MeanDifference, difference_in_means, holm_adjusted
    from helpers.models.experiments import (
        ExperimentInputError,
        assign_groups,
        bootstrap_difference,
        check_test,
        conclusion,
        control_size_for_rate,
        control_size_for_revenue,
        cuped,
        holdout_tradeoff,
        pre_period_revenue,
        readout,
    )
    from helpers.models.holdout import (
        NOT_TRACKING,
        TRACKING_TOLERANCE,
        CalibrationPeriod,
        calibration_period,
        holdout_by_frequency,
        holdout_error,
        tracking,
        tracks,
    )
    from helpers.models.likelihood import Fit, maximise
    from helpers.models.model_choice import Comparison, compare_models
    from helpers.models.off_policy import latest_campaigns, plan_value, row_scores
    from helpers.models.purchase_models import MODELS, PurchaseModel, model_of
    from helpers.models.uplift import (
        ArmModel,
        TLearner,
        TransformedOutcome,
        UpliftInputError,
        XLearner,
        arm_rng,
        auuc,
        average_effect,
        balance_check,
        calibration_slope,
        default_estimator,
        fit_arm,
        fitted_learners,
        qini_coefficient,
        qini_curve,
        true_gain_curve,
        uplift_at_k,
    )
    from helpers.models.world_test import PlayedTest, against_truth, mail_then_call_plan, play_test

__all__ = [
    "ArmModel",
    "CalibrationPeriod",
    "Comparison",
    "CovariateFit",
    "ExperimentInputError",
    "Fit",
    "MODELS",
    "MeanDifference",
    "Models",
    "NOT_TRACKING",
    "PlayedTest",
    "PurchaseModel",
    "TLearner",
    "TRACKING_TOLERANCE",
    "TransformedOutcome",
    "UpliftInputError",
    "ValueIntervals",
    "XLearner",
    "against_truth",
    "assign_groups",
    "auuc",
    "average_effect",
    "balance_check",
    "beta_rules",
    "bg_bb",
    "bg_nbd",
    "bootstrap_difference",
    "calibration_period",
    "arm_rng",
    "calibration_slope",
    "check_test",
    "clv_intervals",
    "compare_models",
    "conclusion",
    "control_size_for_rate",
    "control_size_for_revenue",
    "covariates",
    "cuped",
    "customer_value",
    "default_estimator",
    "difference_in_means",
    "fit_arm",
    "fit_models",
    "fitted_learners",
    "gamma_gamma",
    "holdout_by_frequency",
    "holdout_error",
    "holdout_tradeoff",
    "holm_adjusted",
    "interval_coverage",
    "latest_campaigns",
    "mail_then_call_plan",
    "maximise",
    "mbg_nbd",
    "model_of",
    "opportunities",
    "pareto_nbd",
    "plan_value",
    "play_test",
    "pre_period_revenue",
    "qini_coefficient",
    "qini_curve",
    "readout",
    "retention",
    "row_scores",
    "sbg",
    "tracking",
    "tracks",
    "true_gain_curve",
    "uplift_at_k",
    "value_at_risk",
    "value_intervals",
]

__getattr__ = lazy_exports(__name__)
