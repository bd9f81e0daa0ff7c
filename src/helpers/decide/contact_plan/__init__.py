"""The contact plan: who to contact, on which channel, under consent, budget, capacity and caps."""

from helpers.decide.contact_plan.core import (
    PlanInputError, channel_rules, rules_on, eligibility, sent_contacts, recent_contacts, read_values, Problem,
    build_problem, Diagnostics, PlanBreaksConstraint, check_plan, ExactSolverFailed, SolverPastSafetyLimit,
    solve_exact, solve_lagrangian, optimise_contact_plan, budget_frontier, best_arm_per_channel, mass_plan,
    rule_plan, monthly)
