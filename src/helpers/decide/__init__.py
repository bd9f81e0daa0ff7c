"""Decisions: next best offer, triggered scenarios, the contact plan under consent and caps.

Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.decide.audience import buyers, eligible_on
    from helpers.decide.automation import (
        Horizon,
        ScenarioPlay,
        compare,
        horizon,
        newsletter_calendar,
        play_scenarios,
        readout_by_rule,
        recommend,
        recommended_rules,
        threshold_variants,
        variants,
    )
    from helpers.decide.next_best_offer import (
        arm_matrix,
        arm_values,
        arms,
        balance_by_arm,
        choose_offers,
        customer_features,
        due_in_weeks,
        effects_by_arm,
        expected_margin,
        feature_columns,
        fit_arms,
        fit_response_models,
        history_basket,
        score_customers,
        training_table,
    )
    from helpers.decide.offer_strategies import strategy_plans
    from helpers.decide.rule_backtest import Backtest, backtest
    from helpers.decide.triggers import (
        Rule,
        TriggerRuleError,
        TriggerSet,
        contact_days,
        event_days,
        fits_caps,
        load_rules,
        order_days,
        schedule,
        uniform_draws,
        volumes,
    )

__all__ = [
    "Backtest",
    "Horizon",
    "Rule",
    "ScenarioPlay",
    "TriggerRuleError",
    "TriggerSet",
    "arm_matrix",
    "arm_values",
    "arms",
    "backtest",
    "balance_by_arm",
    "buyers",
    "choose_offers",
    "compare",
    "contact_days",
    "customer_features",
    "due_in_weeks",
    "effects_by_arm",
    "eligible_on",
    "event_days",
    "expected_margin",
    "feature_columns",
    "fit_arms",
    "fit_response_models",
    "fits_caps",
    "history_basket",
    "horizon",
    "load_rules",
    "newsletter_calendar",
    "order_days",
    "play_scenarios",
    "readout_by_rule",
    "recommend",
    "recommended_rules",
    "schedule",
    "score_customers",
    "strategy_plans",
    "threshold_variants",
    "training_table",
    "uniform_draws",
    "variants",
    "volumes",
]

__getattr__ = lazy_exports(__name__)
