"""Decisions: next best offer, triggered scenarios, the contact plan under consent and caps."""

from helpers.decide.audience import buyers, eligible_on
from helpers.decide.automation import (
    THRESHOLD_FIELDS, newsletter_calendar, ScenarioPlay, play_scenarios, readout_by_rule, variants, threshold_variants,
    compare, recommend, recommended_rules)
from helpers.decide.next_best_offer import (
    arms, customer_features, training_table, feature_columns, fit_arms, effects_by_arm, balance_by_arm,
    score_customers, expected_margin, history_basket, choose_offers, due_in_weeks, fit_response_models, arm_matrix,
    strategy_plans, arm_values)
from helpers.decide.rule_backtest import DUE_COLUMNS, DUE_FILE, Backtest, backtest, write_due
from helpers.decide.triggers import (
    TriggerRuleError, Rule, TriggerSet, load_rules, order_days, event_days, uniform_draws, schedule, fits_caps,
    volumes)
