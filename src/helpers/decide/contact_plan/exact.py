"""The exact plan: the Lagrangian's prices and certified bound, then a mixed-integer program
(scipy ``milp``/HiGHS, in a process of its own) over the customers at the margin only.

At prices (lambda on the budget, mu on capacities, nu on reach), an arm's score is its margin
minus the prices of what it uses; the dual value L bounds every plan, and a plan x earns at most
L - sum over customers of (best score - score of the option x gives them). So once a plan earning
z is known, a better plan moves only customers with a second option within L - z of their best:
every other customer keeps their best response, and the program over the few customers at the
margin gives the optimum (reduced-cost fixing). On the default world's plan that is 407 of 20,000
customers. Limits are on work (nodes, pairs), never seconds, so the plan is the same on any machine.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse

from helpers.decide.contact_plan._exact_process import solve
from helpers.decide.contact_plan.lagrangian import LagrangianSolution, lagrangian_solution, plan_diagnostics
from helpers.decide.contact_plan.problem import Diagnostics, Problem, _usage, check_plan
from helpers.errors import Failure


def _milp_arrays(
    problem: Problem, free: np.ndarray, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The program over the ``free`` customers' candidate pairs, the others keeping their arm in
    ``fixed`` (-1: none): at most one arm per free customer, and the budget, capacities and reach
    less what the fixed customers use. Returns rows, arms, c (minimised: minus the margin), A, lo, hi."""
    rows, arms = np.nonzero(problem.candidates & free[:, None])
    people, person = np.unique(rows, return_inverse=True)
    n_var = len(rows)
    spent, per_channel, per_segment = _usage(problem, fixed)
    blocks = [sparse.csr_matrix((np.ones(n_var), (person, np.arange(n_var))), shape=(len(people), n_var))]
    lower: list[ArrayLike] = [np.zeros(len(people))]
    upper: list[ArrayLike] = [np.ones(len(people))]
    blocks.append(sparse.csr_matrix(problem.cost[arms][None, :]))
    lower.append([0.0])
    upper.append([problem.budget - spent])
    for c, cap in problem.capacity.items():
        blocks.append(sparse.csr_matrix((problem.arm_channel[arms] == c).astype(float)[None, :]))
        lower.append([0.0])
        upper.append([cap - per_channel[c]])
    for s, r in problem.reach.items():
        blocks.append(sparse.csr_matrix((problem.segment_codes[rows] == s).astype(float)[None, :]))
        lower.append([r - per_segment[s]])
        upper.append([np.inf])
    A = sparse.vstack(blocks).tocsr()
    return rows, arms, -problem.net[rows, arms], A, np.concatenate(lower), np.concatenate(upper)


def at_the_margin(scores: np.ndarray, width: float) -> np.ndarray:
    """Customers with a second option (an arm, or no contact, which scores 0) scoring within
    ``width`` EUR of their best: the only ones a plan closer than ``width`` to the bound may move."""
    best = np.maximum(scores.max(axis=1), 0.0)
    close = (best[:, None] - scores < width).sum(axis=1) + (best < width)
    return close >= 2


NODE_LIMIT = 1_000  # branch-and-bound nodes: a limit on work, so the same problem stops at the same plan on any machine
SAFETY_SECONDS = 900  # wall-clock guard on the solver's process: past it the run fails; it never picks a method


class ExactSolverFailed(Failure):
    """The exact solver gave no plan; the message says why (crash, no plan within the node limit)."""


class SolverPastSafetyLimit(Failure):
    """The exact solver's process ran past SAFETY_SECONDS: the run stops rather than switch method."""


class MarginTooWide(Failure):
    """More candidate pairs at the margin than the exact search was allowed: the message says how
    many; ``lagrangian`` holds the Lagrangian plan and its diagnostics, already computed."""

    def __init__(self, message: str, lagrangian: tuple[np.ndarray, Diagnostics]):
        super().__init__(message)
        self.lagrangian = lagrangian


def solve_exact(
    problem: Problem,
    node_limit: int = NODE_LIMIT,
    safety_seconds: float | None = None,
    max_pairs: int | None = None,
    in_process: bool = False,
) -> tuple[np.ndarray, Diagnostics]:
    """The optimal plan: the Lagrangian's prices and plan (earning z under the bound L), then the
    program over the customers within (L - z) / 8 of a second option; if its plan is still
    further than that from L, once more over those within the remaining gap, which settles it.
    The search stops after ``node_limit`` nodes (the method then says so; the gap stays
    certified). Raises MarginTooWide past ``max_pairs`` candidate pairs at the margin,
    ExactSolverFailed when the solver's process crashed, SolverPastSafetyLimit past
    ``safety_seconds`` (default SAFETY_SECONDS). ``in_process`` runs HiGHS here, without the safety
    limit (its own process costs about 1 s: for many small plans, as in tests)."""
    start = time.perf_counter()
    solution = lagrangian_solution(problem)
    scores = solution.scores(problem)
    response = np.where(scores.max(axis=1) > 0, scores.argmax(axis=1), -1)
    choice, bound, proven = solution.choice, solution.bound, True
    width = (solution.bound - _margin(problem, choice)) / 8
    for _ in range(2):
        free = at_the_margin(scores, width)
        fixed = np.where(free, -1, response)
        rows, arms, c, A, lo, hi = _milp_arrays(problem, free, fixed)
        if max_pairs is not None and len(rows) > max_pairs:
            method, seconds = "Lagrangian (prices, then repair)", time.perf_counter() - start
            raise MarginTooWide(
                f"{len(rows):,} candidate pairs at the margin, above the exact search's {max_pairs:,}",
                (solution.choice, plan_diagnostics(problem, solution, solution.choice, method, seconds)),
            )
        if in_process:
            result = solve(c, A, lo, hi, node_limit)
        else:
            result = _run((c, A, lo, hi), node_limit, SAFETY_SECONDS if safety_seconds is None else safety_seconds)
        if result[0] == "failed":
            raise ExactSolverFailed(f"The exact solver found no plan ({result[1]})")
        if result[0] == "ok":
            candidate = fixed.copy()
            candidate[rows[result[1] > 0.5]] = arms[result[1] > 0.5]
            if _margin(problem, candidate) > _margin(problem, choice):
                choice = candidate
        settled = solution.bound - _margin(problem, choice) <= width
        proven = result[0] == "infeasible" or result[4]
        if settled:
            margin_bound = -result[3] + _margin(problem, fixed) if result[0] == "ok" else -np.inf
            bound = max(_margin(problem, choice), margin_bound) if proven else solution.bound
            break
        width = solution.bound - _margin(problem, choice)
    check_plan(problem, choice)
    method = f"exact (prices, then HiGHS on the {int(free.sum()):,} customers at the margin)"
    method += "" if proven else f", stopped at its limit of {node_limit:,} nodes"
    certified = LagrangianSolution(solution.prices, bound, choice)
    return choice, plan_diagnostics(problem, certified, choice, method, time.perf_counter() - start)


def _margin(problem: Problem, choice: np.ndarray) -> float:
    """A plan's expected incremental margin (EUR, after contact costs)."""
    return float(problem.net[np.flatnonzero(choice >= 0), choice[choice >= 0]].sum())


def _run(arrays: tuple, node_limit: int, safety_seconds: float) -> tuple:
    """``_exact_process.solve`` on the program's arrays in a process of its own, stopped (and the run
    with it) past ``safety_seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "problem.pkl", Path(tmp) / "result.pkl"
        source.write_bytes(pickle.dumps(arrays))
        script = str(Path(__file__).with_name("_exact_process.py"))
        try:
            subprocess.run(
                [sys.executable, script, str(source), str(target), str(node_limit)],
                check=True,
                timeout=safety_seconds,
                capture_output=True,
                text=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise SolverPastSafetyLimit(
                f"the exact solver was still running after {safety_seconds:.0f} s, its safety limit; the run stops "
                "rather than let the machine's speed choose the plan. Plan with method='lagrangian', or fewer "
                "customers."
            ) from exc
        except subprocess.CalledProcessError as exc:
            last = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else f"exit code {exc.returncode}"
            raise ExactSolverFailed(f"The exact solver's process failed ({last})") from exc
        return pickle.loads(target.read_bytes())
