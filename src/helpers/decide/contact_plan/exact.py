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

from helpers.decide.contact_plan._exact_process import solve
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
    """``solve`` (see ``_exact_process``) on ``problem`` in this process: ("ok", choice, objective,
    bound, prices, proven), choice the arm index per customer (-1: no contact), or ("failed", why)."""
    rows, arms, c, A, lo, hi, names = _milp_arrays(problem)
    return _with_choice(problem, rows, arms, solve(c, A, lo, hi, names, node_limit))


def _with_choice(problem: Problem, rows: np.ndarray, arms: np.ndarray, result: tuple) -> tuple:
    """``solve``'s result with the variables' values turned into the arm index per customer."""
    if result[0] != "ok":
        return result
    choice = np.full(len(problem.customer_ids), -1)
    picked = result[1] > 0.5
    choice[rows[picked]] = arms[picked]
    return ("ok", choice, *result[2:])


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
        rows, arms, *arrays = _milp_arrays(problem)
        source.write_bytes(pickle.dumps(tuple(arrays)))
        try:
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).with_name("_exact_process.py")),
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
        result = _with_choice(problem, rows, arms, pickle.loads(target.read_bytes()))
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
