"""The contact plan: which channel and offer for each customer, or none, so that incremental margin
is as high as possible under consent and legal rules, budget, channel capacities, contact-pressure
caps and minimum reach.

Legal eligibility is data (``reference/channel_rules_fr.csv``, one row per channel, audience and period,
with its source): a new country or channel is a table row, not code. The plan is solved exactly
(scipy ``milp``/HiGHS, in a subprocess, with a limit on branch-and-bound nodes) for problems of up
to EXACT_MAX_VARIABLES candidate pairs, and with a Lagrangian method for larger ones: prices on the
budget, capacities and reach, then a feasible repair, with a certified gap to the dual bound. The
choice and every limit are counts of work, never of seconds, so a plan is the same on any machine.
"""

from __future__ import annotations

import datetime as dt
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from helpers.errors import DecisionInputError, Failure
from helpers.data.consents import resolve_consents
from helpers.paths import REFERENCE_DIR

NO_CONTACT = "no contact"


class PlanInputError(DecisionInputError):
    """The planning problem is infeasible or degenerate; the message says which input and why."""


# ---------------------------------------------------------------- rules and eligibility

def channel_rules(path=REFERENCE_DIR / "channel_rules_fr.csv") -> pd.DataFrame:
    """The legal rules per channel, audience (customer, prospect or any) and period."""
    rules = pd.read_csv(path, dtype={"max_per_30_days": "Int64"}, keep_default_na=False, na_values=[""])
    for column in ("valid_from", "valid_to"):
        rules[column] = pd.to_datetime(rules[column]).dt.date
    return rules


def rules_on(rules: pd.DataFrame, on: dt.date, audience: str) -> pd.DataFrame:
    """The rule in force for each channel on ``on`` for ``audience`` (a specific row beats 'any')."""
    valid = rules[(rules.valid_from.isna() | (rules.valid_from <= on)) & (rules.valid_to.isna() | (rules.valid_to >= on))
                  & rules.audience.isin([audience, "any"])]
    return valid.assign(specific=valid.audience == audience).sort_values("specific").groupby("channel").tail(1) \
                .drop(columns="specific").set_index("channel")


def eligibility(customers: pd.DataFrame, consents: pd.DataFrame | None, channels: list[str], on: dt.date,
                rules: pd.DataFrame, recent: pd.DataFrame | None = None, pressure_cap: int | None = None) -> pd.DataFrame:
    """Customers (rows, by customer_id) x channels: may the channel reach them on ``on``?

    Per the rule in force: an opt_in channel needs a recorded opt_in, an opt_out channel no
    opt_out; 'phone' needs a number and 'app' the app; Bloctel-listed numbers are screened out;
    the legal cap per 30 days counts ``recent`` contacts on that channel (columns customer_id,
    channel, contacts in the last 30 days). The preference centre (preferred_channel,
    max_contacts_per_month) and the house ``pressure_cap`` on all contacts in 30 days apply too
    (0 allows no contact at all; None: no house cap). Consent rows are read whatever their order
    (``consents.resolve_consents``: the latest row wins, the most restrictive on a tie). Without a
    consents table the strict default holds: no opt_in channel, no phone."""
    _check_pressure_cap(pressure_cap)
    ids = pd.Index(customers.customer_id, name="customer_id")
    by_id = customers.set_index("customer_id")
    prospect = by_id.get("is_prospect", pd.Series(False, index=ids)).fillna(False)
    resolved = resolve_consents(consents) if consents is not None else None
    status = (resolved.channels.pivot(index="customer_id", columns="channel", values="status")
              if resolved is not None else pd.DataFrame(index=ids))
    preferences = resolved.preferences if resolved is not None else pd.DataFrame(index=ids)
    bloctel = (resolved.channels[resolved.channels.channel == "phone"].set_index("customer_id").get("bloctel")
               if resolved is not None else None)
    has_phone = by_id.get("phone", pd.Series(np.nan, index=ids)).notna()
    has_app = by_id.get("has_app", pd.Series(False, index=ids)).fillna(False).astype(bool)
    recent_by = (recent.pivot_table(index="customer_id", columns="channel", values="contacts", aggfunc="sum")
                 .reindex(index=ids).fillna(0) if recent is not None and len(recent) else pd.DataFrame(index=ids))
    total_recent = recent_by.sum(axis=1) if len(recent_by.columns) else pd.Series(0.0, index=ids)
    in_force = {audience: rules_on(rules, on, audience) for audience in ("customer", "prospect")}
    out = {}
    for channel in channels:
        ok = pd.Series(True, index=ids)
        for audience, rows in (("customer", ~prospect), ("prospect", prospect)):
            rule = in_force[audience]
            if channel not in rule.index:
                ok[rows.to_numpy()] = False            # a channel without a rule is not allowed
                continue
            r = rule.loc[channel]
            st = status[channel].reindex(ids) if channel in status else pd.Series(np.nan, index=ids)
            allowed = st.eq("opt_in") if r.regime == "opt_in" else (~st.eq("opt_out") if consents is not None
                                                                    and channel in status else pd.Series(
                                                                        channel != "phone", index=ids))
            if r.needs == "phone":
                allowed &= has_phone
            if r.needs == "app":
                allowed &= has_app
            if bool(r.bloctel_screening):
                allowed &= (~bloctel.reindex(ids).fillna(True).astype(bool)) if bloctel is not None else False
            if pd.notna(r.max_per_30_days) and channel in recent_by:
                allowed &= recent_by[channel] + 1 <= int(r.max_per_30_days)
            ok[rows.to_numpy()] &= allowed[rows.to_numpy()]
        out[channel] = ok
    table = pd.DataFrame(out)
    if "preferred_channel" in preferences:
        preferred = preferences.preferred_channel.reindex(ids)
        for channel in channels:
            table[channel] &= preferred.isna() | preferred.eq(channel)
    cap = pd.Series(np.inf if pressure_cap is None else float(pressure_cap), index=ids)
    if "max_contacts_per_month" in preferences:
        cap = np.minimum(cap, preferences.max_contacts_per_month.reindex(ids).astype(float).fillna(np.inf))
    return table & (total_recent + 1 <= cap).to_numpy()[:, None]


def _check_pressure_cap(pressure_cap) -> None:
    if pressure_cap is not None and (isinstance(pressure_cap, bool) or not isinstance(pressure_cap, (int, np.integer))
                                     or pressure_cap < 0):
        raise PlanInputError(f"pressure_cap must be a whole number of contacts >= 0 (0: no contact at all), "
                             f"got {pressure_cap!r}.")


def sent_contacts(contacts: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Campaign messages actually sent (treated rows): customer_id, channel, day (sent_at, else the
    campaign's start date)."""
    sent = contacts[contacts.group == "treatment"].merge(campaigns[["campaign_id", "channel", "start_date"]],
                                                          on="campaign_id")
    when = pd.to_datetime(sent.get("sent_at", sent.start_date)).fillna(pd.to_datetime(sent.start_date))
    return pd.DataFrame({"customer_id": sent.customer_id, "channel": sent.channel, "day": when.dt.normalize()})


def recent_contacts(contacts: pd.DataFrame, campaigns: pd.DataFrame, on: dt.date, days: int = 30) -> pd.DataFrame:
    """Contacts sent in the ``days`` before ``on`` per customer and channel (treated rows only)."""
    sent = sent_contacts(contacts, campaigns)
    window = sent[(sent.day < pd.Timestamp(on)) & (sent.day >= pd.Timestamp(on) - pd.Timedelta(days=days))]
    return window.groupby(["customer_id", "channel"]).size().rename("contacts").reset_index()


def read_values(path, arm_table: pd.DataFrame) -> pd.DataFrame:
    """Values supplied by the analyst: a CSV with customer_id, arm and expected_incremental_margin
    (EUR, before the contact cost), one row per customer and arm, as customers x arms. Arms must be
    those of ``arm_table``; a missing pair counts as not worth contacting."""
    table = pd.read_csv(path)
    missing = sorted({"customer_id", "arm", "expected_incremental_margin"} - set(table.columns))
    if missing:
        raise PlanInputError(f"{Path(path).name}: column(s) {missing} missing; it needs customer_id, arm and "
                             "expected_incremental_margin (EUR before the contact cost).")
    unknown = sorted(set(table.arm) - set(arm_table.arm))
    if unknown:
        raise PlanInputError(f"{Path(path).name}: arm(s) {unknown[:5]} are not in the campaign history; known arms: "
                             f"{sorted(arm_table.arm)}.")
    if table.duplicated(["customer_id", "arm"]).any():
        raise PlanInputError(f"{Path(path).name}: a customer_id and arm appear twice, e.g. "
                             f"{table[table.duplicated(['customer_id', 'arm'])].iloc[0][['customer_id', 'arm']].to_dict()}.")
    values = table.pivot(index="customer_id", columns="arm", values="expected_incremental_margin")
    return values.reindex(columns=sorted(arm_table.arm)).fillna(-np.inf).rename_axis(columns=None)


# ---------------------------------------------------------------- the problem

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
    capacity: dict[int, float]                   # channel index -> maximum contacts
    segment: np.ndarray | None = None            # segment code per customer (for minimum reach)
    segment_names: list[str] = field(default_factory=list)
    reach: dict[int, float] = field(default_factory=dict)   # segment code -> minimum contacts

    @property
    def net(self) -> np.ndarray:
        return np.where(self.allowed, self.values - self.cost[None, :], -np.inf)


def build_problem(values: pd.DataFrame, arm_table: pd.DataFrame, eligible: pd.DataFrame, budget: float,
                  capacities: dict[str, float] | None = None, segments: pd.Series | None = None,
                  min_reach: dict[str, int] | None = None) -> Problem:
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
        raise PlanInputError("no customer may be contacted on any channel (consent, legal rules, preference centre "
                             "or contact-pressure caps): there is nothing to plan.")
    problem = Problem(values.index.to_numpy(), arms, np.array([channels.index(c) for c in table.channel]), channels,
                      np.nan_to_num(values.to_numpy(float), nan=0.0), allowed, cost, float(budget),
                      {channels.index(c): float(v) for c, v in (capacities or {}).items()})
    if min_reach:
        if segments is None:
            raise PlanInputError("min_reach needs segments (a segment per customer).")
        names = sorted(set(segments.dropna()))
        missing = sorted(set(min_reach) - set(names))
        if missing:
            raise PlanInputError(f"min_reach names segment(s) {missing} that no customer belongs to.")
        problem.segment = segments.reindex(values.index).map({n: i for i, n in enumerate(names)}).fillna(-1).to_numpy(int)
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
            raise PlanInputError(f"segment {name!r} needs at least {int(r)} contacts but only {int(members.sum())} of its "
                                 "customers may be contacted (consent, rules, caps): lower the minimum reach.")
        needed += np.sort(cheapest[members])[: int(r)].sum()
    if needed > problem.budget + 1e-9:
        raise PlanInputError(f"the minimum reach needs at least {needed:,.2f} EUR of contacts but the budget is "
                             f"{problem.budget:,.2f} EUR: raise the budget or lower the minimum reach.")


# ---------------------------------------------------------------- the solution

@dataclass
class Diagnostics:
    """How the plan was found and what binds it (EUR, contacts)."""

    method: str
    objective: float            # expected incremental margin of the plan, after contact costs
    bound: float                # a certified upper bound on the best possible plan
    gap: float                  # (bound - objective) / |bound|
    shadow_prices: dict         # budget: EUR of margin per extra EUR; capacity: EUR per extra contact
    binding: list[str]
    contacts: int
    cost: float
    seconds: float
    message: str = ""


def _plan_frame(problem: Problem, choice: np.ndarray) -> pd.DataFrame:
    """choice: arm index per customer, -1 for none -> one row per contacted customer."""
    rows = np.flatnonzero(choice >= 0)
    arm = choice[rows]
    return pd.DataFrame({"customer_id": problem.customer_ids[rows], "arm": np.array(problem.arms, dtype=object)[arm],
                         "channel": np.array(problem.channels, dtype=object)[problem.arm_channel[arm]],
                         "expected_incremental_margin": problem.values[rows, arm] - problem.cost[arm],
                         "cost": problem.cost[arm]})


def _usage(problem: Problem, choice: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    taken = choice >= 0
    arm = choice[taken]
    spent = float(problem.cost[arm].sum())
    per_channel = np.bincount(problem.arm_channel[arm], minlength=len(problem.channels)).astype(float)
    per_segment = (np.bincount(problem.segment[taken][problem.segment[taken] >= 0], minlength=len(problem.segment_names))
                   .astype(float) if problem.segment is not None else np.zeros(0))
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
    broken = (["a contact without consent or legal basis"] if not problem.allowed[taken, choice[taken]].all() else []) \
        + ([f"budget exceeded: {spent} > {problem.budget}"] if spent > problem.budget + 1e-6 else []) \
        + [f"capacity of {problem.channels[c]} exceeded" for c, cap in problem.capacity.items()
           if per_channel[c] > cap + 1e-9] \
        + [f"minimum reach of {problem.segment_names[s]} not met" for s, r in problem.reach.items()
           if per_segment[s] < r - 1e-9]
    if broken:
        raise PlanBreaksConstraint("; ".join(broken))


# ---------------------------------------------------------------- exact: milp in a subprocess

def _candidates(problem: Problem) -> np.ndarray:
    """Customers x arms: the pairs an optimal plan may use. A pair is useful when its net margin is
    positive, or its customer is in a minimum-reach segment; it is dropped when another arm of the
    same customer is at least as good and as cheap and takes no scarcer capacity (same channel, or
    a channel without a capacity), since swapping to that arm never breaks a constraint."""
    net = problem.net
    reach = np.isin(problem.segment, list(problem.reach)) if problem.reach else np.zeros(len(net), bool)
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


def _milp_arrays(problem: Problem):
    """Variables: the candidate (customer, arm) pairs; constraints as sparse rows (at most one arm
    per customer who has a candidate, budget, capacities, reach)."""
    rows, arms = np.nonzero(_candidates(problem))
    people, person = np.unique(rows, return_inverse=True)
    n_var = len(rows)
    blocks, lower, upper, names = [], [], [], []
    blocks.append(sparse.csr_matrix((np.ones(n_var), (person, np.arange(n_var))), shape=(len(people), n_var)))
    lower.append(np.zeros(len(people)))
    upper.append(np.ones(len(people)))
    names += ["customer"] * len(people)
    blocks.append(sparse.csr_matrix(problem.cost[arms][None, :]))
    lower.append([0.0]); upper.append([problem.budget]); names.append("budget")
    for c, cap in problem.capacity.items():
        blocks.append(sparse.csr_matrix((problem.arm_channel[arms] == c).astype(float)[None, :]))
        lower.append([0.0]); upper.append([cap]); names.append(f"capacity {problem.channels[c]}")
    for s, r in problem.reach.items():
        blocks.append(sparse.csr_matrix((problem.segment[rows] == s).astype(float)[None, :]))
        lower.append([r]); upper.append([np.inf]); names.append(f"reach {problem.segment_names[s]}")
    A = sparse.vstack(blocks).tocsr()
    return rows, arms, -problem.net[rows, arms], A, np.concatenate(lower), np.concatenate(upper), names


NODE_LIMIT = 1_000      # branch-and-bound nodes: a limit on work, so the same problem stops at the same plan on any machine
SAFETY_SECONDS = 900    # wall-clock guard on the solver's process: past it the run fails; it never picks a method


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
    ub = [i for i, h in enumerate(hi) if np.isfinite(h)]
    lb = [i for i, l in enumerate(lo) if l > 0]
    lp = linprog(c, A_ub=sparse.vstack([A[ub], -A[lb]]).tocsr(), b_ub=np.concatenate([hi[ub], -lo[lb]]),
                 bounds=(0, 1), method="highs")
    marginals = lp.ineqlin.marginals[: len(ub)] if lp.status == 0 else np.full(len(ub), np.nan)
    prices = {names[i]: float(-m) for i, m in zip(ub, marginals) if names[i] != "customer"}
    proven = True
    if lp.status == 0 and np.all(np.minimum(lp.x, 1 - lp.x) < 1e-9):
        x, objective, bound = lp.x, float(-lp.fun), float(-lp.fun)
    else:
        res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=np.ones(len(c)), bounds=Bounds(0, 1),
                   options={"node_limit": node_limit, "mip_rel_gap": 1e-6, "presolve": False})
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


def solve_exact(problem: Problem, node_limit: int = NODE_LIMIT,
                safety_seconds: float | None = None) -> tuple[np.ndarray, Diagnostics]:
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
            subprocess.run([sys.executable, "-m", "helpers.decide.contact_plan.core", str(source), str(target), str(node_limit)],
                           check=True, timeout=safety_seconds, capture_output=True, text=True)
        except subprocess.TimeoutExpired as exc:
            raise SolverPastSafetyLimit(
                f"the exact solver was still running after {safety_seconds:.0f} s, its safety limit; the run stops "
                "rather than let the machine's speed choose the plan. Plan with method='lagrangian', or fewer "
                "customers.") from exc
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
    diag = Diagnostics(method, objective, bound, _gap(objective, bound),
                       {"budget": prices.get("budget", 0.0), "capacity": capacity}, _binding(problem, choice),
                       int((choice >= 0).sum()), spent, time.perf_counter() - start)
    return choice, diag


def _gap(objective: float, bound: float) -> float:
    return float((bound - objective) / abs(bound)) if bound else 0.0


# ---------------------------------------------------------------- Lagrangian

def _best_response(net_t: np.ndarray, problem: Problem, lam: float, mu: np.ndarray, nu: np.ndarray):
    """Each customer's best arm under prices (or none, -1), and the Lagrangian value of the choice.
    ``net_t`` is arms x customers (one contiguous row per arm: a running maximum over a few rows
    is much faster than argmax along a short axis)."""
    bonus = (np.where(problem.segment >= 0, nu[np.maximum(problem.segment, 0)], 0.0).astype(net_t.dtype)
             if problem.segment is not None and len(nu) and nu.any() else None)
    best = np.zeros(net_t.shape[1], dtype=net_t.dtype)         # 'no contact' is worth 0
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


WARM_START_ABOVE = 200_000     # customers: above this, prices start from a 10% sample's


def solve_lagrangian(problem: Problem, rng_seed: int = 0) -> tuple[np.ndarray, Diagnostics]:
    """Prices on the budget, each capacity and each minimum reach, found coordinate by coordinate
    until they stop moving: along one price the dual is convex with slope (limit - usage), so the
    best price is where the best responses' usage crosses the limit (bisection). Large bases
    start from the prices of a 10% sample. The best-response plan is then repaired into a
    feasible one and filled. The dual value at any prices bounds the best plan from above, so the
    reported gap is certified whatever the search reached."""
    start = time.perf_counter()
    net = problem.net
    search = np.ascontiguousarray(net.T, dtype=np.float32)   # arms x customers, half the memory traffic
    net_t = np.ascontiguousarray(net.T)                         # the bound and the plan use float64
    warm = None
    if len(problem.customer_ids) > WARM_START_ABOVE:
        rows = np.sort(np.random.default_rng(rng_seed).choice(len(net), size=len(net) // 10, replace=False))
        warm = _find_prices(_subproblem(problem, rows, 0.1), np.ascontiguousarray(search[:, rows]), None)
    prices = _find_prices(problem, search, warm)
    lam, mu, nu = prices["budget"][0], prices["capacity"], prices["reach"]
    bound, choice = _dual_value(net_t, problem, lam, mu, nu)
    choice = _repair(problem, net, choice)
    check_plan(problem, choice)
    objective = float(net[np.flatnonzero(choice >= 0), choice[choice >= 0]].sum())
    spent, _, _ = _usage(problem, choice)
    diag = Diagnostics("Lagrangian (prices, then repair)", objective, max(bound, objective),
                       _gap(objective, max(bound, objective)),
                       {"budget": float(lam), "capacity": {problem.channels[c]: float(mu[c]) for c in problem.capacity}},
                       _binding(problem, choice), int((choice >= 0).sum()), spent, time.perf_counter() - start)
    return choice, diag


def _subproblem(problem: Problem, rows: np.ndarray, share: float) -> Problem:
    """The problem on a sample of customers, with every limit scaled by ``share``."""
    return Problem(problem.customer_ids[rows], problem.arms, problem.arm_channel, problem.channels,
                   problem.values[rows], problem.allowed[rows], problem.cost, problem.budget * share,
                   {c: v * share for c, v in problem.capacity.items()},
                   problem.segment[rows] if problem.segment is not None else None, problem.segment_names,
                   {s: r * share for s, r in problem.reach.items()})


def _find_prices(problem: Problem, net: np.ndarray, start: dict | None, max_rounds: int = 30, steps: int = 25,
                 tol: float = 1e-7) -> dict[str, np.ndarray]:
    prices = ({k: v.copy() for k, v in start.items()} if start else
              {"budget": np.zeros(1), "capacity": np.zeros(len(problem.channels)),
               "reach": np.zeros(len(problem.segment_names))})
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
                continue                              # the limit does not bind at price 0
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
    return spent + problem.cost[arm] <= problem.budget + 1e-9 and (c not in problem.capacity
                                                                  or per_channel[c] + 1 <= problem.capacity[c])


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
    protected = np.isin(problem.segment, list(problem.reach))
    for s, r in problem.reach.items():
        spent, per_channel, per_segment = _usage(problem, choice)
        members = np.flatnonzero((problem.segment == s) & (choice < 0) & problem.allowed.any(axis=1))
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
                    if saving > 0 and _fits(problem, spent - saving - problem.cost[cheapest[j]], per_channel, cheapest[j]):
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
            raise PlanInputError(f"segment {problem.segment_names[s]!r} needs at least {int(r)} contacts, but the "
                                 "budget and channel capacities leave room for only "
                                 f"{int(per_segment[s])}: raise them or lower the minimum reach.")
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


# ---------------------------------------------------------------- the entry point

EXACT_MAX_VARIABLES = 30_000    # candidate pairs (``_candidates``): the default world's plan has 17,566


def optimise_contact_plan(values: pd.DataFrame, arm_table: pd.DataFrame, eligible: pd.DataFrame, budget: float,
                          capacities: dict[str, float] | None = None, segments: pd.Series | None = None,
                          min_reach: dict[str, int] | None = None, method: str = "auto",
                          node_limit: int = NODE_LIMIT) -> tuple[pd.DataFrame, Diagnostics]:
    """The contact plan with the highest expected incremental margin (EUR, after contact costs).

    ``values``: customers (index customer_id) x arms, expected incremental margin before the
    contact cost; ``arm_table``: arm, channel, cost_per_contact; ``eligible``: customers x
    channels (``eligibility``); ``budget`` in EUR; ``capacities``: channel -> maximum contacts;
    ``min_reach``: segment -> minimum contacts, with ``segments`` (customer_id -> segment).
    ``method``: exact, lagrangian, or auto: exact for up to EXACT_MAX_VARIABLES candidate pairs,
    a property of the problem, so the method never depends on the machine's speed. The exact
    search stops after ``node_limit`` nodes; if its process crashes or it finds no plan, the
    Lagrangian plan is taken and the message says why. Returns one row per contacted customer
    (customer_id, arm, channel, expected_incremental_margin, cost) and the diagnostics."""
    if method not in ("auto", "exact", "lagrangian"):
        raise PlanInputError(f"method must be auto, exact or lagrangian, got {method!r}.")
    problem = build_problem(values, arm_table, eligible, budget, capacities, segments, min_reach)
    message = ""
    if problem.budget == 0:
        message = "The budget is 0: no contact can be paid for (free arms only)."
    candidates = int(_candidates(problem).sum())
    if candidates == 0:
        message += " No allowed contact is worth its cost: the plan is empty."
    result = None
    if method == "exact" or (method == "auto" and candidates <= EXACT_MAX_VARIABLES):
        try:
            result = solve_exact(problem, node_limit)
        except ExactSolverFailed as failure:
            message += f" {failure}: Lagrangian plan instead."
    if result is None:
        result = solve_lagrangian(problem)
    choice, diag = result
    diag.message = message.strip()
    return _plan_frame(problem, choice), diag


def budget_frontier(values: pd.DataFrame, arm_table: pd.DataFrame, eligible: pd.DataFrame, budgets,
                    capacities: dict[str, float] | None = None) -> pd.DataFrame:
    """Expected incremental margin (EUR) of the best plan at each budget (Lagrangian, certified)."""
    rows = []
    for budget in budgets:
        problem = build_problem(values, arm_table, eligible, float(budget), capacities)
        choice, diag = solve_lagrangian(problem)
        rows.append({"budget": float(budget), "incremental_margin": diag.objective, "bound": diag.bound,
                     "contacts": diag.contacts, "cost": diag.cost, "budget_price": diag.shadow_prices["budget"]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- strategies to compare

SEGMENT_CHANNEL = {"champions": "email", "loyal": "email", "new": "email", "promising": "sms",
                   "need attention": "sms", "at risk": "postal", "can't lose": "phone", "hibernating": "email",
                   "lost": None}
LEGAL_CALL_HOURS_PER_WEEK = 45     # Monday-Friday, 10:00-13:00 and 14:00-20:00 (Décret 2022-1313)


def best_arm_per_channel(values: pd.DataFrame, arm_table: pd.DataFrame) -> pd.Series:
    """For each channel, the arm (offer) with the highest mean value: what a mass send would use."""
    means = values.mean()
    table = arm_table.assign(mean_value=arm_table.arm.map(means))
    return table.sort_values("mean_value", ascending=False).drop_duplicates("channel").set_index("channel").arm


def mass_plan(eligible: pd.DataFrame, arms_by_channel: pd.Series) -> pd.DataFrame:
    """Every customer on every channel they may receive (one offer per channel)."""
    pairs = eligible[list(arms_by_channel.index)].stack()
    pairs = pairs[pairs].reset_index().iloc[:, :2].set_axis(["customer_id", "channel"], axis=1)
    return pairs.assign(arm=pairs.channel.map(arms_by_channel))


def rule_plan(segments: pd.Series, eligible: pd.DataFrame, arms_by_channel: pd.Series,
              rule: dict[str, str | None] = SEGMENT_CHANNEL) -> pd.DataFrame:
    """One channel per segment (e.g. can't lose -> phone), when the customer may receive it."""
    channel = segments.astype(str).map(rule).dropna()
    channel = channel[[bool(eligible.at[i, c]) for i, c in channel.items()]]
    return pd.DataFrame({"customer_id": channel.index, "channel": channel.to_numpy(),
                         "arm": channel.map(arms_by_channel).to_numpy()})


def monthly(plan: pd.DataFrame, arm_table: pd.DataFrame, months: int) -> pd.DataFrame:
    """The plan (customer_id, arm) repeated every four weeks for ``months`` months, as play wants
    it: customer_id, channel, offer, week."""
    offer = arm_table.set_index("arm").offer
    one = pd.DataFrame({"customer_id": plan.customer_id.to_numpy(), "channel": plan.arm.map(arm_table.set_index("arm").channel).to_numpy(),
                        "offer": plan.arm.map(offer).to_numpy()})
    return pd.concat([one.assign(week=4 * m) for m in range(months)], ignore_index=True)


if __name__ == "__main__":      # the exact solver's separate process: python -m helpers.decide.contact_plan.core IN OUT NODE_LIMIT
    _problem = pickle.loads(Path(sys.argv[1]).read_bytes())
    Path(sys.argv[2]).write_bytes(pickle.dumps(_milp(_problem, int(sys.argv[3]))))
