"""The contact plan: who to contact, on which channel, under consent, budget, capacity and caps."""

from helpers.decide.contact_plan.eligibility import (
    channel_rules, rules_on, eligibility, sent_contacts, recent_contacts)
from helpers.decide.contact_plan.problem import (
    PlanInputError, read_values, Problem, build_problem, Diagnostics, PlanBreaksConstraint, check_plan)
from helpers.decide.contact_plan.exact import ExactSolverFailed, SolverPastSafetyLimit, solve_exact
from helpers.decide.contact_plan.lagrangian import solve_lagrangian
from helpers.decide.contact_plan.plan import optimise_contact_plan, budget_frontier
from helpers.decide.contact_plan.strategies import (
    SEGMENT_CHANNEL, LEGAL_CALL_HOURS_PER_WEEK, best_arm_per_channel, mass_plan, rule_plan, monthly)
