"""The plan of large problems: prices on the budget, each capacity and each minimum reach (a
coordinate search on the dual), the best responses to them repaired into a feasible plan and
filled, with a certified gap to the dual bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from helpers.decide.contact_plan.problem import Diagnostics, PlanInputError, Problem, _binding, _gap, _usage, check_plan


def _best_response(net_t: np.ndarray, problem: Problem, lam: float, mu: np.ndarray, nu: np.ndarray):
    """Each customer's best arm under prices (or none, -1), and the Lagrangian value of the choice.
    ``net_t`` is arms x customers (one contiguous row per arm: a running maximum over a few rows
    is much faster than argmax along a short axis)."""
    bonus = (
        np.where(problem.segment >= 0, nu[np.maximum(problem.segment, 0)], 0.0).astype(net_t.dtype)
        if problem.segment is not None and len(nu) and nu.any()
        else None
    )
    best = np.zeros(net_t.shape[1], dtype=net_t.dtype)  # 'no contact' is worth 0
    choice = np.full(net_t.shape[1], -1)
    for a in range(net_t.shape[0]):
        score = net_t[a] - net_t.dtype.type(lam * problem.cost[a] + mu[problem.arm_channel[a]])
        if bonus is not None:
            score += bonus
        better = score > best
        best = np.where(better, score, best)
        choice[better] = a
    return choice, float(best.sum(dtype=np.float64))


def _dual_value(net, problem, lam, mu, nu) -> tuple[float, np.ndarray]:
    choice, value = _best_response(net, problem, lam, mu, nu)
    caps = np.array([problem.capacity.get(c, 0.0) for c in range(len(problem.channels))])
    reach = np.array([problem.reach.get(s, 0.0) for s in range(len(problem.segment_names))])
    return value + lam * problem.budget + float(mu @ caps) - float(nu @ reach), choice


WARM_START_ABOVE = 200_000  # customers: above this, prices start from a 10% sample's


@dataclass
class LagrangianSolution:
    """Prices on the limits, the certified upper bound they give, and the repaired feasible plan."""

    prices: dict[str, np.ndarray]  # budget (EUR of margin per EUR), capacity per channel, reach per segment
    bound: float  # dual value at these prices: no plan earns more (EUR)
    choice: np.ndarray  # arm index per customer, -1 for no contact; feasible

    def scores(self, problem: Problem) -> np.ndarray:
        """Customers x arms: each arm's margin net of the prices of what it uses (-inf where not
        allowed); 'no contact' scores 0."""
        score = problem.net - self.prices["budget"][0] * problem.cost[None, :]
        score = score - self.prices["capacity"][problem.arm_channel][None, :]
        if problem.segment is not None and len(self.prices["reach"]):
            reach = self.prices["reach"][np.maximum(problem.segment, 0)]
            score = score + np.where(problem.segment >= 0, reach, 0.0)[:, None]
        return score


def lagrangian_solution(problem: Problem, seed: int | np.random.Generator = 0) -> LagrangianSolution:
    """Prices on the budget, each capacity and each minimum reach, found coordinate by coordinate
    until they stop moving: along one price the dual is convex with slope (limit - usage), so the
    best price is where the best responses' usage crosses the limit (bisection). Large bases
    start from the prices of a 10% sample (drawn with ``seed``). The best-response plan is then
    repaired into a feasible one and filled. The dual value at any prices bounds the best plan from
    above, so the bound is certified whatever the search reached."""
    net = problem.net
    search = np.ascontiguousarray(net.T, dtype=np.float32)  # arms x customers, half the memory traffic
    warm = None
    if len(problem.customer_ids) > WARM_START_ABOVE:
        rows = np.sort(np.random.default_rng(seed).choice(len(net), size=len(net) // 10, replace=False))
        warm = _find_prices(_subproblem(problem, rows, 0.1), np.ascontiguousarray(search[:, rows]), None)
    prices = _find_prices(problem, search, warm)
    lam, mu, nu = prices["budget"][0], prices["capacity"], prices["reach"]
    bound, choice = _dual_value(np.ascontiguousarray(net.T), problem, lam, mu, nu)
    choice = _repair(problem, net, choice)
    check_plan(problem, choice)
    return LagrangianSolution(prices, bound, choice)


def solve_lagrangian(problem: Problem, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, Diagnostics]:
    """The plan of ``lagrangian_solution`` and its diagnostics (gap certified by the dual bound)."""
    start = time.perf_counter()
    solution = lagrangian_solution(problem, seed)
    return solution.choice, plan_diagnostics(
        problem, solution, solution.choice, "Lagrangian (prices, then repair)", time.perf_counter() - start
    )


def plan_diagnostics(
    problem: Problem, solution: LagrangianSolution, choice: np.ndarray, method: str, seconds: float
) -> Diagnostics:
    """A plan's diagnostics, with the prices and bound of ``solution`` (its shadow prices)."""
    objective = float(problem.net[np.flatnonzero(choice >= 0), choice[choice >= 0]].sum())
    bound = max(solution.bound, objective)
    mu = solution.prices["capacity"]
    return Diagnostics(
        method,
        objective,
        bound,
        _gap(objective, bound),
        {
            "budget": float(solution.prices["budget"][0]),
            "capacity": {problem.channels[c]: float(mu[c]) for c in problem.capacity},
        },
        _binding(problem, choice),
        int((choice >= 0).sum()),
        _usage(problem, choice)[0],
        seconds,
    )


def _subproblem(problem: Problem, rows: np.ndarray, share: float) -> Problem:
    """The problem on a sample of customers, with every limit scaled by ``share``."""
    return Problem(
        problem.customer_ids[rows],
        problem.arms,
        problem.arm_channel,
        problem.channels,
        problem.values[rows],
        problem.allowed[rows],
        problem.cost,
        problem.budget * share,
        {c: v * share for c, v in problem.capacity.items()},
        problem.segment[rows] if problem.segment is not None else None,
        problem.segment_names,
        {s: r * share for s, r in problem.reach.items()},
    )


def _find_prices(
    problem: Problem, net: np.ndarray, start: dict | None, max_rounds: int = 30, steps: int = 25, tol: float = 1e-7
) -> dict[str, np.ndarray]:
    prices = (
        {k: v.copy() for k, v in start.items()}
        if start
        else {
            "budget": np.zeros(1),
            "capacity": np.zeros(len(problem.channels)),
            "reach": np.zeros(len(problem.segment_names)),
        }
    )
    coords = [("budget", 0)] + [("capacity", c) for c in problem.capacity] + [("reach", s) for s in problem.reach]

    def slope(kind: str, idx: int) -> float:
        choice, _ = _best_response(net, problem, prices["budget"][0], prices["capacity"], prices["reach"])
        spent, per_channel, per_segment = _usage(problem, choice)
        if kind == "budget":
            return problem.budget - spent
        if kind == "capacity":
            return problem.capacity[idx] - per_channel[idx]
        return per_segment[idx] - problem.reach[idx]

    for _ in range(max_rounds if len(coords) > 1 else 1):
        before = np.concatenate([prices[k] for k in ("budget", "capacity", "reach")])
        for kind, idx in coords:
            price = prices[kind]
            guess = price[idx]
            price[idx] = 0.0
            if slope(kind, idx) >= 0:
                continue  # the limit does not bind at price 0
            lo, hi = (guess / 2, guess * 2) if guess > 0 else (0.0, 1.0)
            price[idx] = lo
            if slope(kind, idx) >= 0:
                lo = 0.0
            price[idx] = hi
            while slope(kind, idx) < 0:
                lo, hi = hi, hi * 4
                price[idx] = hi
            for _ in range(steps):
                price[idx] = (lo + hi) / 2
                lo, hi = (price[idx], hi) if slope(kind, idx) < 0 else (lo, price[idx])
            price[idx] = hi
        after = np.concatenate([prices[k] for k in ("budget", "capacity", "reach")])
        if np.max(np.abs(after - before) / np.maximum(np.abs(after), 1e-9)) < tol:
            break
    return prices


def _repair(problem: Problem, net: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Make a best-response plan feasible, then fill what room is left: drop contacts until the
    budget and capacities hold, meet every minimum reach on the cheapest arms, add positive
    contacts, most margin per euro first, while everything holds."""
    choice = _drop_until_feasible(problem, net, choice.copy())
    choice = _meet_reach(problem, net, choice)
    return _fill(problem, net, choice)


def _fits(problem: Problem, spent: float, per_channel: np.ndarray, arm: int) -> bool:
    c = problem.arm_channel[arm]
    return spent + problem.cost[arm] <= problem.budget + 1e-9 and (
        c not in problem.capacity or per_channel[c] + 1 <= problem.capacity[c]
    )


def _ratio(problem: Problem, net: np.ndarray, rows: np.ndarray, arms: np.ndarray) -> np.ndarray:
    """Margin per euro of contact cost (free contacts rank first)."""
    return net[rows, arms] / np.maximum(problem.cost[arms], 1e-9)


def _drop_until_feasible(problem: Problem, net: np.ndarray, choice: np.ndarray) -> np.ndarray:
    spent, per_channel, _ = _usage(problem, choice)
    taken = np.flatnonzero(choice >= 0)
    for i in taken[np.argsort(_ratio(problem, net, taken, choice[taken]), kind="stable")]:
        c = problem.arm_channel[choice[i]]
        if spent > problem.budget + 1e-9 or (c in problem.capacity and per_channel[c] > problem.capacity[c]):
            spent -= problem.cost[choice[i]]
            per_channel[c] -= 1
            choice[i] = -1
    return choice


def _meet_reach(problem: Problem, net: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Add contacts to segments short of their minimum reach, on each customer's cheapest allowed
    arm with room. Room is made by dropping contacts outside the reach segments (least margin per
    euro first), then by moving reach contacts to their cheapest arm. Refuses when even that fails."""
    if not problem.reach:
        return choice
    cheapest = np.argmin(np.where(problem.allowed, problem.cost[None, :], np.inf), axis=1)
    protected = np.isin(problem.segment_codes, list(problem.reach))
    for s, r in problem.reach.items():
        spent, per_channel, per_segment = _usage(problem, choice)
        members = np.flatnonzero((problem.segment_codes == s) & (choice < 0) & problem.allowed.any(axis=1))
        members = members[np.argsort(-net[members, cheapest[members]], kind="stable")]
        for i in members:
            if per_segment[s] >= r:
                break
            arm = cheapest[i]
            if not _fits(problem, spent, per_channel, arm):
                others = np.flatnonzero((choice >= 0) & ~protected)
                for j in others[np.argsort(_ratio(problem, net, others, choice[others]), kind="stable")]:
                    spent -= problem.cost[choice[j]]
                    per_channel[problem.arm_channel[choice[j]]] -= 1
                    choice[j] = -1
                    if _fits(problem, spent, per_channel, arm):
                        break
            if not _fits(problem, spent, per_channel, arm):
                for j in np.flatnonzero((choice >= 0) & protected & (choice != cheapest)):
                    saving = problem.cost[choice[j]] - problem.cost[cheapest[j]]
                    if saving > 0 and _fits(
                        problem, spent - saving - problem.cost[cheapest[j]], per_channel, cheapest[j]
                    ):
                        per_channel[problem.arm_channel[choice[j]]] -= 1
                        per_channel[problem.arm_channel[cheapest[j]]] += 1
                        spent -= saving
                        choice[j] = cheapest[j]
                    if _fits(problem, spent, per_channel, arm):
                        break
            if not _fits(problem, spent, per_channel, arm):
                continue
            choice[i] = arm
            spent += problem.cost[arm]
            per_channel[problem.arm_channel[arm]] += 1
            per_segment[s] += 1
        if per_segment[s] < r:
            raise PlanInputError(
                f"segment {problem.segment_names[s]!r} needs at least {int(r)} contacts, but the "
                "budget and channel capacities leave room for only "
                f"{int(per_segment[s])}: raise them or lower the minimum reach."
            )
    return choice


def _fill(problem: Problem, net: np.ndarray, choice: np.ndarray) -> np.ndarray:
    spent, per_channel, _ = _usage(problem, choice)
    free = np.flatnonzero(choice < 0)
    best_arm = np.argmax(net[free], axis=1)
    positive = net[free, best_arm] > 0
    free, best_arm = free[positive], best_arm[positive]
    for j in np.argsort(-_ratio(problem, net, free, best_arm), kind="stable"):
        if _fits(problem, spent, per_channel, best_arm[j]):
            choice[free[j]] = best_arm[j]
            spent += problem.cost[best_arm[j]]
            per_channel[problem.arm_channel[best_arm[j]]] += 1
    return choice
