"""The exact plan: a mixed-integer program (scipy ``milp``/HiGHS) solved in a process of its own, with a
limit on branch-and-bound nodes (work, not seconds: the same plan on any machine) and a wall-clock
safety limit past which the run stops.
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
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from helpers.decide.contact_plan.problem import Diagnostics, Problem, _binding, _gap, _usage, check_plan
from helpers.errors import Failure


def _candidates(problem: Problem) -> np.ndarray:
    """Customers x arms: the pairs an optimal plan may use. A pair is useful when its net margin is
    positive, or its customer is in a minimum-reach segment; it is dropped when another arm of the
    same customer is at least as good and as cheap and takes no scarcer capacity (same channel, or
    a channel without a capacity), since swapping to that arm never breaks a constraint."""
    net = problem.net
    reach = np.isin(problem.segment_codes, list(problem.reach)) if problem.reach else np.zeros(len(net), bool)
    keep = problem.allowed & ((net > 0) | reach[:, None])
    dominated = np.zeros_like(keep)
    for b in range(len(problem.arms)):
        for a in range(len(problem.arms)):
            free = problem.arm_channel[a] == problem.arm_channel[b] or problem.arm_channel[a] not in problem.capacity
            if a == b or not free or problem.cost[a] > problem.cost[b]:
                continue
            strictly = (net[:, a] > net[:, b]) | (problem.cost[a] < problem.cost[b]) | (a < b)
            dominated[:, b] |= keep[:, a] & (net[:, a] >= net[:, b]) & strictly
    return keep & ~dominated


def _milp_arrays(
    problem: Problem,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, sparse.csr_matrix, np.ndarray, np.ndarray, list[str]]:
    """Variables: the candidate (customer, arm) pairs; constraints as sparse rows (at most one arm
    per customer who has a candidate, budget, capacities, reach)."""
    rows, arms = np.nonzero(_candidates(problem))
    people, person = np.unique(rows, return_inverse=True)
    n_var = len(rows)
    blocks: list[sparse.csr_matrix] = []
    lower: list[ArrayLike] = []
    upper: list[ArrayLike] = []
    names: list[str] = []
    blocks.append(sparse.csr_matrix((np.ones(n_var), (person, np.arange(n_var))), shape=(len(people), n_var)))
    lower.append(np.zeros(len(people)))
    upper.append(np.ones(len(people)))
    names += ["customer"] * len(people)
    blocks.append(sparse.csr_matrix(problem.cost[arms][None, :]))
    lower.append([0.0])
    upper.append([problem.budget])
    names.append("budget")
    for c, cap in problem.capacity.items():
        blocks.append(sparse.csr_matrix((problem.arm_channel[arms] == c).astype(float)[None, :]))
        lower.append([0.0])
        upper.append([cap])
        names.append(f"capacity {problem.channels[c]}")
    for s, r in problem.reach.items():
        blocks.append(sparse.csr_matrix((problem.segment_codes[rows] == s).astype(float)[None, :]))
        lower.append([r])
        upper.append([np.inf])
        names.append(f"reach {problem.segment_names[s]}")
    A = sparse.vstack(blocks).tocsr()
    return rows, arms, -problem.net[rows, arms], A, np.concatenate(lower), np.concatenate(upper), names


NODE_LIMIT = 1_000  # branch-and-bound nodes: a limit on work, so the same problem stops at the same plan on any machine
SAFETY_SECONDS = 900  # wall-clock guard on the solver's process: past it the run fails; it never picks a method


def _milp(problem: Problem, node_limit: int) -> tuple:
    """Solve the LP relaxation (its duals are the shadow prices: EUR of margin per extra unit of a
    limit); when its optimum is already integral it is the exact plan, else solve the mixed-integer
    program, stopping after ``node_limit`` nodes with the best plan found and its proven bound.
    HiGHS's presolve is off: on the default world's plan it took 68 s of the 85 s, and the search
    without it 13 s. Returns ("ok", choice, objective, bound, prices, proven) or ("failed", why)."""
    rows, arms, c, A, lo, hi, names = _milp_arrays(problem)
    choice = np.full(len(problem.customer_ids), -1)
    if len(c) == 0:
        return ("ok", choice, 0.0, 0.0, {"budget": 0.0}, True)
    ub = [i for i, high in enumerate(hi) if np.isfinite(high)]
    lb = [i for i, low in enumerate(lo) if low > 0]
    lp = linprog(
        c,
        A_ub=sparse.vstack([A[ub], -A[lb]]).tocsr(),
        b_ub=np.concatenate([hi[ub], -lo[lb]]),
        bounds=(0, 1),
        method="highs",
    )
    marginals = lp.ineqlin.marginals[: len(ub)] if lp.status == 0 else np.full(len(ub), np.nan)
    prices = {names[i]: float(-m) for i, m in zip(ub, marginals, strict=True) if names[i] != "customer"}
    proven = True
    if lp.status == 0 and np.all(np.minimum(lp.x, 1 - lp.x) < 1e-9):
        x, objective, bound = lp.x, float(-lp.fun), float(-lp.fun)
    else:
        res = milp(
            c,
            constraints=LinearConstraint(A, lo, hi),
            integrality=np.ones(len(c)),
            bounds=Bounds(0, 1),
            options={"node_limit": node_limit, "mip_rel_gap": 1e-6, "presolve": False},
        )
        if res.x is None:
            return ("failed", f"{res.message}; node limit {node_limit:,}")
        x, objective, proven = res.x, float(-res.fun), res.status == 0
        bound = float(-res.mip_dual_bound) if res.mip_dual_bound is not None else objective
    picked = x > 0.5
    choice[rows[picked]] = arms[picked]
    return ("ok", choice, objective, bound, prices, proven)


class ExactSolverFailed(Failure):
    """The exact solver gave no plan; the message says why (crash, no plan within the node limit)."""


class SolverPastSafetyLimit(Failure):
    """The exact solver's process ran past SAFETY_SECONDS: the run stops rather than switch method."""


def solve_exact(
    problem: Problem, node_limit: int = NODE_LIMIT, safety_seconds: float | None = None
) -> tuple[np.ndarray, Diagnostics]:
    """The optimal plan by mixed-integer programming (HiGHS), run in a separate process. The search
    stops at ``node_limit`` nodes (work, not time: the same plan on a fast or a slow machine) and
    the diagnostics give the certified gap. Raises ExactSolverFailed when the process crashed or
    found no plan, and SolverPastSafetyLimit when it ran longer than ``safety_seconds``
    (default SAFETY_SECONDS)."""
    safety_seconds = SAFETY_SECONDS if safety_seconds is None else safety_seconds
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "problem.pkl", Path(tmp) / "result.pkl"
        source.write_bytes(pickle.dumps(problem))
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "helpers.decide.contact_plan._exact_process",
                    str(source),
                    str(target),
                    str(node_limit),
                ],
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
        result = pickle.loads(target.read_bytes())
    if result[0] != "ok":
        raise ExactSolverFailed(f"The exact solver found no plan ({result[1]})")
    _, choice, objective, bound, prices, proven = result
    check_plan(problem, choice)
    spent, _, _ = _usage(problem, choice)
    capacity = {n.removeprefix("capacity "): p for n, p in prices.items() if n.startswith("capacity ")}
    bound = max(bound, objective)
    method = "exact (HiGHS mixed-integer)" + ("" if proven else f", stopped at its limit of {node_limit:,} nodes")
    diag = Diagnostics(
        method,
        objective,
        bound,
        _gap(objective, bound),
        {"budget": prices.get("budget", 0.0), "capacity": capacity},
        _binding(problem, choice),
        int((choice >= 0).sum()),
        spent,
        time.perf_counter() - start,
    )
    return choice, diag
