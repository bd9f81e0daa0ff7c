"""The contact plan: which channel and offer for each customer, or none, so that incremental margin
is as high as possible under consent and legal rules, budget, channel capacities, contact-pressure
caps and minimum reach.

The plan is solved exactly (``exact``: the Lagrangian's prices, then HiGHS in a subprocess on the
customers at the margin, with a limit on branch-and-bound nodes) when the margin holds up to
EXACT_MAX_VARIABLES candidate pairs, else the Lagrangian plan (``lagrangian``) is kept with its
certified gap. The choice and every limit are counts of work, never of seconds, so a plan is the
same on any machine.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from helpers.decide.contact_plan.exact import NODE_LIMIT, ExactSolverFailed, MarginTooWide, solve_exact
from helpers.decide.contact_plan.lagrangian import solve_lagrangian
from helpers.decide.contact_plan.problem import Diagnostics, PlanInputError, _plan_frame, build_problem

EXACT_MAX_VARIABLES = 3_000  # candidate pairs at the margin (about 1 s of HiGHS): the default world's plan has 609


def optimise_contact_plan(
    values: pd.DataFrame,
    arm_table: pd.DataFrame,
    eligible: pd.DataFrame,
    budget: float,
    capacities: dict[str, float] | None = None,
    segments: pd.Series | None = None,
    min_reach: dict[str, int] | None = None,
    method: str = "auto",
    node_limit: int = NODE_LIMIT,
) -> tuple[pd.DataFrame, Diagnostics]:
    """The contact plan with the highest expected incremental margin (EUR, after contact costs).

    ``values``: customers (index customer_id) x arms, expected incremental margin before the
    contact cost; ``arm_table``: arm, channel, cost_per_contact; ``eligible``: customers x
    channels (``eligibility``); ``budget`` in EUR; ``capacities``: channel -> maximum contacts;
    ``min_reach``: segment -> minimum contacts, with ``segments`` (customer_id -> segment).
    ``method``: exact, lagrangian, or auto: exact when the margin holds up to EXACT_MAX_VARIABLES
    candidate pairs, a property of the problem, so the method never depends on the machine's
    speed. The exact search stops after ``node_limit`` nodes; if its process crashes or it finds
    no plan, the Lagrangian plan is taken and the message says why. Returns one row per contacted customer
    (customer_id, arm, channel, expected_incremental_margin, cost) and the diagnostics."""
    if method not in ("auto", "exact", "lagrangian"):
        raise PlanInputError(f"method must be auto, exact or lagrangian, got {method!r}.")
    problem = build_problem(values, arm_table, eligible, budget, capacities, segments, min_reach)
    message = ""
    if problem.budget == 0:
        message = "The budget is 0: no contact can be paid for (free arms only)."
    if not problem.candidates.any():
        message += " No allowed contact is worth its cost: the plan is empty."
    result = None
    if method in ("auto", "exact"):
        try:
            result = solve_exact(problem, node_limit, max_pairs=EXACT_MAX_VARIABLES if method == "auto" else None)
        except MarginTooWide as wide:
            message += f" {wide}: the Lagrangian plan, with its certified gap."
            result = wide.lagrangian
        except ExactSolverFailed as failure:
            message += f" {failure}: Lagrangian plan instead."
    if result is None:
        result = solve_lagrangian(problem)
    choice, diag = result
    diag.message = message.strip()
    return _plan_frame(problem, choice), diag


def budget_frontier(
    values: pd.DataFrame,
    arm_table: pd.DataFrame,
    eligible: pd.DataFrame,
    budgets: Iterable[float],
    capacities: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Expected incremental margin (EUR) of the best plan at each budget (Lagrangian, certified)."""
    rows = []
    for budget in budgets:
        problem = build_problem(values, arm_table, eligible, float(budget), capacities)
        choice, diag = solve_lagrangian(problem)
        rows.append(
            {
                "budget": float(budget),
                "incremental_margin": diag.objective,
                "bound": diag.bound,
                "contacts": diag.contacts,
                "cost": diag.cost,
                "budget_price": diag.shadow_prices["budget"],
            }
        )
    return pd.DataFrame(rows)
