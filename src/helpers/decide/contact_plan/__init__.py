"""The contact plan: who to contact, on which channel, under consent, budget, capacity and caps.

Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.decide.contact_plan.eligibility import (
        channel_rules,
        eligibility,
        recent_contacts,
        rules_on,
        sent_contacts,
    )
    from helpers.decide.contact_plan.exact import (
        ExactSolverFailed,
        MarginTooWide,
        SolverPastSafetyLimit,
        at_the_margin,
        solve_exact,
    )
    from helpers.decide.contact_plan.lagrangian import (
        LagrangianSolution,
        lagrangian_solution,
        plan_diagnostics,
        solve_lagrangian,
    )
    from helpers.decide.contact_plan.plan import budget_frontier, optimise_contact_plan
    from helpers.decide.contact_plan.problem import (
        Diagnostics,
        PlanBreaksConstraint,
        PlanInputError,
        Problem,
        build_problem,
        check_plan,
        read_values,
    )
    from helpers.decide.contact_plan.strategies import (
        LEGAL_CALL_HOURS_PER_WEEK,
        SEGMENT_CHANNEL,
        best_arm_per_channel,
        mass_plan,
        monthly,
        rule_plan,
    )

__all__ = [
    "Diagnostics",
    "ExactSolverFailed",
    "LEGAL_CALL_HOURS_PER_WEEK",
    "LagrangianSolution",
    "MarginTooWide",
    "PlanBreaksConstraint",
    "PlanInputError",
    "Problem",
    "SEGMENT_CHANNEL",
    "SolverPastSafetyLimit",
    "at_the_margin",
    "best_arm_per_channel",
    "budget_frontier",
    "build_problem",
    "channel_rules",
    "check_plan",
    "eligibility",
    "lagrangian_solution",
    "mass_plan",
    "monthly",
    "optimise_contact_plan",
    "plan_diagnostics",
    "read_values",
    "recent_contacts",
    "rule_plan",
    "rules_on",
    "sent_contacts",
    "solve_exact",
    "solve_lagrangian",
]

__getattr__ = lazy_exports(__name__)
