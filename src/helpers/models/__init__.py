"""Models fitted on the contract tables: customer lifetime value, uplift, experiments, effects with intervals."""

from helpers.models.clv import (
    ModelInputError, Fit, bgnbd_log_likelihood, fit_bgnbd, p_alive, expected_purchases_if_alive, expected_purchases,
    gamma_gamma_log_likelihood, gamma_gamma_sample, fit_gamma_gamma, expected_order_value, customer_value,
    value_at_risk, holdout_by_frequency, tracking, Models, fit_models)
from helpers.models.effects import MeanDifference, difference_in_means, holm_adjusted
from helpers.models.experiments import (
    ExperimentInputError, control_size_for_rate, control_size_for_revenue, holdout_tradeoff, assign_groups, cuped,
    pre_period_revenue, bootstrap_difference, readout, check_test, conclusion)
from helpers.models.world_test import TREATED_ARMS, PlayedTest, mail_then_call_plan, play_test, against_truth
from helpers.models.uplift import (
    UpliftInputError, qini_curve, qini_coefficient, auuc, uplift_at_k, true_gain_curve, average_effect,
    balance_check, default_estimator, TLearner, XLearner, TransformedOutcome, ArmModel, calibration_slope, fit_arm)
