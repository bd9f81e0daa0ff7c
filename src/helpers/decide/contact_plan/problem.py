"""The planning problem in arrays, checked, and what a plan uses of it: the plan as a table, its
usage of the budget, capacities and reach, the limits that bind, and the hard-constraint check
every solver's plan passes before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.errors import DecisionInputError, Failure


class PlanInputError(DecisionInputError):
    """The planning problem is infeasible or degenerate; the message says which input and why."""


def read_values(path: str | Path, arm_table: pd.DataFrame) -> pd.DataFrame:
    """Values supplied by the analyst: a CSV with customer_id, arm and expected_incremental_margin
    (EUR, before the contact cost), one row per customer and arm, as customers x arms. Arms must be
    those of ``arm_table``; a missing pair counts as not worth contacting."""
    table = pd.read_csv(path)
    missing = sorted({"customer_id", "arm", "expected_incremental_margin"} - set(table.columns))
    if missing:
        raise PlanInputError(
            f"{Path(path).name}: column(s) {missing} missing; it needs customer_id, arm and "
            "expected_incremental_margin (EUR before the contact cost)."
        )
    unknown = sorted(set(table.arm) - set(arm_table.arm))
    if unknown:
        raise PlanInputError(
            f"{Path(path).name}: arm(s) {unknown[:5]} are not in the campaign history; known arms: "
            f"{sorted(arm_table.arm)}."
        )
    if table.duplicated(["customer_id", "arm"]).any():
        raise PlanInputError(
            f"{Path(path).name}: a customer_id and arm appear twice, e.g. "
            f"{table[table.duplicated(['customer_id', 'arm'])].iloc[0][['customer_id', 'arm']].to_dict()}."
        )
    values = table.pivot(index="customer_id", columns="arm", values="expected_incremental_margin")
    return values.reindex(columns=sorted(arm_table.arm)).fillna(-np.inf).rename_axis(columns=None)


@dataclass
class Problem:
    """A planning problem in arrays. values: customers x arms, expected incremental margin before the
    contact cost (EUR); allowed: customers x arms; cost per arm (EUR); channel index per arm."""

    customer_ids: np.ndarray
    arms: list[str]
    arm_channel: np.ndarray
    channels: list[str]
    values: np.ndarray
    allowed: np.ndarray
    cost: np.ndarray
    budget: float
    capacity: dict[int, float]  # channel index -> maximum contacts
    segment: np.ndarray | None = None  # segment code per customer (for minimum reach)
    segment_names: list[str] = field(default_factory=list)
    reach: dict[int, float] = field(default_factory=dict)  # segment code -> minimum contacts

    @property
    def net(self) -> np.ndarray:
        """Customers x arms: margin after the contact cost (EUR), -inf where not allowed."""
        return np.where(self.allowed, self.values - self.cost[None, :], -np.inf)

    @property
    def segment_codes(self) -> np.ndarray:
        """The segment code per customer, -1 for none (every customer when no segments are given)."""
        return self.segment if self.segment is not None else np.full(len(self.customer_ids), -1)

    @cached_property
    def candidates(self) -> np.ndarray:
        """Customers x arms: the pairs an optimal plan may use. A pair is useful when its net margin is
        positive, or its customer is in a minimum-reach segment; it is dropped when another arm of the
        same customer is at least as good and as cheap and takes no scarcer capacity (same channel, or
        a channel without a capacity), since swapping to that arm never breaks a constraint. Computed
        once: a problem is not changed once built."""
        net = self.net
        reach = np.isin(self.segment_codes, list(self.reach)) if self.reach else np.zeros(len(net), bool)
        keep = self.allowed & ((net > 0) | reach[:, None])
        dominated = np.zeros_like(keep)
        for b in range(len(self.arms)):
            for a in range(len(self.arms)):
                free = self.arm_channel[a] == self.arm_channel[b] or self.arm_channel[a] not in self.capacity
                if a == b or not free or self.cost[a] > self.cost[b]:
                    continue
                strictly = (net[:, a] > net[:, b]) | (self.cost[a] < self.cost[b]) | (a < b)
                dominated[:, b] |= keep[:, a] & (net[:, a] >= net[:, b]) & strictly
        return keep & ~dominated


def build_problem(
    values: pd.DataFrame,
    arm_table: pd.DataFrame,
    eligible: pd.DataFrame,
    budget: float,
    capacities: dict[str, float] | None = None,
    segments: pd.Series | None = None,
    min_reach: dict[str, int] | None = None,
) -> Problem:
    """Check the inputs and turn them into arrays. ``values``: customers x arms (EUR, before cost);
    ``arm_table``: arm, channel, cost_per_contact; ``eligible``: customers x channels."""
    arms = list(values.columns)
    table = arm_table.set_index("arm").reindex(arms)
    if table.channel.isna().any():
        raise PlanInputError(f"arms {list(table.index[table.channel.isna()])} are not in the arm table.")
    cost = table.cost_per_contact.to_numpy(float)
    if (cost < 0).any() or not np.isfinite(cost).all():
        bad = table.index[(cost < 0) | ~np.isfinite(cost)][0]
        raise PlanInputError(f"cost_per_contact must be a number >= 0; arm {bad!r} has {table.cost_per_contact[bad]}.")
    if not np.isfinite(budget) or budget < 0:
        raise PlanInputError(f"budget must be a number >= 0, got {budget}.")
    channels = sorted(set(table.channel))
    unknown = sorted(set(capacities or {}) - set(channels))
    if unknown:
        raise PlanInputError(f"capacities name channel(s) {unknown} that no arm uses; channels: {channels}.")
    if any(c < 0 for c in (capacities or {}).values()):
        raise PlanInputError(f"capacities must be >= 0, got {capacities}.")
    elig = eligible.reindex(index=values.index, columns=channels).fillna(False).astype(bool)
    allowed = elig[table.channel.to_list()].to_numpy() & np.isfinite(values.to_numpy(float))
    if not allowed.any():
        raise PlanInputError(
            "no customer may be contacted on any channel (consent, legal rules, preference centre "
            "or contact-pressure caps): there is nothing to plan."
        )
    problem = Problem(
        values.index.to_numpy(),
        arms,
        np.array([channels.index(c) for c in table.channel]),
        channels,
        np.nan_to_num(values.to_numpy(float), nan=0.0),
        allowed,
        cost,
        float(budget),
        {channels.index(c): float(v) for c, v in (capacities or {}).items()},
    )
    if min_reach:
        if segments is None:
            raise PlanInputError("min_reach needs segments (a segment per customer).")
        names = sorted(set(segments.dropna()))
        missing = sorted(set(min_reach) - set(names))
        if missing:
            raise PlanInputError(f"min_reach names segment(s) {missing} that no customer belongs to.")
        problem.segment = (
            segments.reindex(values.index).map({n: i for i, n in enumerate(names)}).fillna(-1).to_numpy(int)
        )
        problem.segment_names = names
        problem.reach = {names.index(s): float(r) for s, r in min_reach.items() if r > 0}
        _check_reach(problem)
    return problem


def _check_reach(problem: Problem) -> None:
    """Refuse a minimum reach that cannot be met: not enough reachable customers, or not enough
    budget to pay for the cheapest contacts."""
    reachable = problem.allowed.any(axis=1)
    cheapest = np.where(problem.allowed, problem.cost[None, :], np.inf).min(axis=1)
    needed = 0.0
    for s, r in problem.reach.items():
        members = (problem.segment == s) & reachable
        name = problem.segment_names[s]
        if members.sum() < r:
            raise PlanInputError(
                f"segment {name!r} needs at least {int(r)} contacts but only {int(members.sum())} of its "
                "customers may be contacted (consent, rules, caps): lower the minimum reach."
            )
        needed += np.sort(cheapest[members])[: int(r)].sum()
    if needed > problem.budget + 1e-9:
        raise PlanInputError(
            f"the minimum reach needs at least {needed:,.2f} EUR of contacts but the budget is "
            f"{problem.budget:,.2f} EUR: raise the budget or lower the minimum reach."
        )


@dataclass
class Diagnostics:
    """How the plan was found and what binds it (EUR, contacts)."""

    method: str
    objective: float  # expected incremental margin of the plan, after contact costs
    bound: float  # a certified upper bound on the best possible plan
    gap: float  # (bound - objective) / |bound|
    shadow_prices: dict  # budget: EUR of margin per extra EUR; capacity: EUR per extra contact
    binding: list[str]
    contacts: int
    cost: float
    seconds: float
    message: str = ""


def _plan_frame(problem: Problem, choice: np.ndarray) -> pd.DataFrame:
    """choice: arm index per customer, -1 for none -> one row per contacted customer."""
    rows = np.flatnonzero(choice >= 0)
    arm = choice[rows]
    return pd.DataFrame(
        {
            "customer_id": problem.customer_ids[rows],
            "arm": np.array(problem.arms, dtype=object)[arm],
            "channel": np.array(problem.channels, dtype=object)[problem.arm_channel[arm]],
            "expected_incremental_margin": problem.values[rows, arm] - problem.cost[arm],
            "cost": problem.cost[arm],
        }
    )


def _usage(problem: Problem, choice: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    taken = choice >= 0
    arm = choice[taken]
    spent = float(problem.cost[arm].sum())
    per_channel = np.bincount(problem.arm_channel[arm], minlength=len(problem.channels)).astype(float)
    per_segment = (
        np.bincount(problem.segment[taken][problem.segment[taken] >= 0], minlength=len(problem.segment_names)).astype(
            float
        )
        if problem.segment is not None
        else np.zeros(0)
    )
    return spent, per_channel, per_segment


def _binding(problem: Problem, choice: np.ndarray) -> list[str]:
    spent, per_channel, per_segment = _usage(problem, choice)
    out = ["budget"] if spent >= problem.budget - max(problem.cost.max(), 1e-9) else []
    out += [f"capacity {problem.channels[c]}" for c, cap in problem.capacity.items() if per_channel[c] >= cap - 0.5]
    out += [f"reach {problem.segment_names[s]}" for s, r in problem.reach.items() if per_segment[s] <= r + 0.5]
    return out


class PlanBreaksConstraint(Failure):
    """A solver produced a plan that breaks a hard constraint (a bug): the plan is never returned."""


def check_plan(problem: Problem, choice: np.ndarray) -> None:
    """Raise PlanBreaksConstraint unless every hard constraint holds (after every solve, and in tests)."""
    taken = np.flatnonzero(choice >= 0)
    spent, per_channel, per_segment = _usage(problem, choice)
    broken = (
        (["a contact without consent or legal basis"] if not problem.allowed[taken, choice[taken]].all() else [])
        + ([f"budget exceeded: {spent} > {problem.budget}"] if spent > problem.budget + 1e-6 else [])
        + [
            f"capacity of {problem.channels[c]} exceeded"
            for c, cap in problem.capacity.items()
            if per_channel[c] > cap + 1e-9
        ]
        + [
            f"minimum reach of {problem.segment_names[s]} not met"
            for s, r in problem.reach.items()
            if per_segment[s] < r - 1e-9
        ]
    )
    if broken:
        raise PlanBreaksConstraint("; ".join(broken))


def _gap(objective: float, bound: float) -> float:
    return float((bound - objective) / abs(bound)) if bound else 0.0
