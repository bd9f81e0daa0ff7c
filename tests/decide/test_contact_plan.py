"""The contact plan: legal rules as data, hard constraints always kept, exact and Lagrangian
solvers agreeing within the certified gap, clear refusals of degenerate inputs."""

import datetime as dt
import multiprocessing
import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from scipy import sparse
from scipy.optimize import LinearConstraint, milp

from helpers.decide import contact_plan as ch
from helpers.decide.contact_plan import exact

CHANNELS = ["email", "sms", "postal", "phone"]
ARMS = pd.DataFrame(
    {
        "arm": ["email · a", "sms · b", "postal · c", "phone · d"],
        "channel": CHANNELS,
        "cost_per_contact": [0.005, 0.05, 1.0, 3.0],
    }
)


def instance(seed: int, n: int = 60, eligible_share: float = 0.6):
    rng = np.random.default_rng(seed)
    index = pd.Index(np.arange(1, n + 1), name="customer_id")
    values = pd.DataFrame(rng.gamma(1.0, [0.05, 0.3, 1.2, 3.0], size=(n, 4)) - 0.2, columns=ARMS.arm, index=index)
    eligible = pd.DataFrame(rng.random((n, 4)) < eligible_share, columns=CHANNELS, index=index)
    segments = pd.Series(rng.choice(["new", "loyal"], n), index=index)
    return values, eligible, segments


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), budget=st.floats(0.5, 80), phone_cap=st.integers(0, 12), reach=st.integers(0, 6))
@example(seed=4, budget=1.0, phone_cap=1, reach=3)  # found by hypothesis: reach kept on expensive arms
def test_plans_keep_every_hard_constraint_and_the_lagrangian_stays_within_its_gap(seed, budget, phone_cap, reach):
    values, eligible, segments = instance(seed)
    kwargs = dict(budget=budget, capacities={"phone": phone_cap}, segments=segments, min_reach={"new": reach})
    try:
        exact, exact_diag = ch.optimise_contact_plan(values, ARMS, eligible, method="exact", **kwargs)
    except ch.PlanInputError:
        return  # an infeasible draw is refused, not planned
    plan, diag = ch.optimise_contact_plan(values, ARMS, eligible, method="lagrangian", **kwargs)
    for p in (plan, exact):
        allowed = eligible.stack()
        assert allowed.loc[list(zip(p.customer_id, p.channel, strict=True))].all(), (
            "contact without consent or legal basis"
        )
        assert p.cost.sum() <= budget + 1e-6 and (p.channel == "phone").sum() <= phone_cap
        assert p.customer_id.is_unique, "at most one offer per customer"
        assert (segments.loc[p.customer_id] == "new").sum() >= reach
    assert diag.objective <= exact_diag.objective + 1e-6
    assert exact_diag.objective <= diag.bound + 1e-6, "the Lagrangian bound holds"
    assert exact_diag.objective - diag.objective <= diag.gap * abs(diag.bound) + 1e-6


def test_shadow_prices_agree_and_more_budget_never_hurts():
    values, eligible, _ = instance(1, n=400)
    _, exact = ch.optimise_contact_plan(values, ARMS, eligible, budget=60, method="exact")
    _, lagrangian = ch.optimise_contact_plan(values, ARMS, eligible, budget=60, method="lagrangian")
    assert exact.binding == ["budget"] and exact.shadow_prices["budget"] > 0
    assert lagrangian.shadow_prices["budget"] == pytest.approx(exact.shadow_prices["budget"], rel=0.05)
    frontier = ch.budget_frontier(values, ARMS, eligible, [0, 20, 40, 80, 160])
    assert frontier.incremental_margin.is_monotonic_increasing and frontier.budget_price.is_monotonic_decreasing


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(budget=-5), "budget must be a number >= 0"),
        (dict(arms=ARMS.assign(cost_per_contact=[0.005, -0.05, 1.0, 3.0])), "cost_per_contact must be a number >= 0"),
        (dict(eligible=False), "no customer may be contacted"),
        (dict(capacities={"fax": 3}), "capacities name channel"),
        (dict(min_reach={"new": 10_000}), "needs at least 10000 contacts but only"),
        (dict(budget=0.0, min_reach={"new": 5}), "budget is 0.00 EUR"),
    ],
)
def test_infeasible_or_degenerate_inputs_get_a_clear_message(change, message):
    values, eligible, segments = instance(2)
    eligible = eligible & change.get("eligible", True)
    with pytest.raises(ch.PlanInputError, match=message):
        ch.optimise_contact_plan(
            values,
            change.get("arms", ARMS),
            eligible,
            budget=change.get("budget", 10.0),
            capacities=change.get("capacities"),
            segments=segments,
            min_reach=change.get("min_reach"),
        )


def test_a_zero_budget_plans_only_free_contacts_and_says_so():
    values, eligible, _ = instance(3)
    plan, diag = ch.optimise_contact_plan(
        values, ARMS.assign(cost_per_contact=[0.0, 0.05, 1.0, 3.0]), eligible, budget=0
    )
    assert set(plan.channel) <= {"email"} and "budget is 0" in diag.message


def test_when_the_exact_solver_fails_the_lagrangian_plan_is_taken_and_the_reason_given(monkeypatch):
    values, eligible, _ = instance(5)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the solver's process exits with 1
    plan, diag = ch.optimise_contact_plan(values, ARMS, eligible, budget=20.0)
    assert diag.method.startswith("Lagrangian") and len(plan) > 0
    assert "exact solver's process failed (exit code 1): Lagrangian plan instead" in diag.message


def test_rules_are_data_and_the_august_2026_phone_change_applies_to_prospects():
    rules = ch.channel_rules()
    assert set(rules.channel) == {"email", "sms", "push", "postal", "phone"} and rules.source.str.len().gt(20).all()
    before, after = dt.date(2026, 3, 1), dt.date(2026, 9, 1)
    assert ch.rules_on(rules, before, "prospect").loc["phone", "regime"] == "opt_out"
    assert ch.rules_on(rules, after, "prospect").loc["phone", "regime"] == "opt_in"
    assert ch.rules_on(rules, after, "customer").loc["phone", "regime"] == "opt_out"
    customers = pd.DataFrame(
        {"customer_id": [1, 2], "is_prospect": [False, True], "phone": ["06", "07"], "has_app": [False, False]}
    )
    consents = pd.DataFrame({"customer_id": [1, 2], "channel": "phone", "status": "unknown", "bloctel": False})
    assert ch.eligibility(customers, consents, ["phone"], before, rules).phone.tolist() == [True, True]
    assert ch.eligibility(customers, consents, ["phone"], after, rules).phone.tolist() == [True, False]


def test_legal_and_house_caps_count_recent_contacts():
    rules = ch.channel_rules()
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "phone": ["06"] * 3, "has_app": False})
    consents = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "channel": "phone",
            "status": "unknown",
            "bloctel": False,
            "max_contacts_per_month": [np.nan, np.nan, 2],
        }
    )
    recent = pd.DataFrame({"customer_id": [1, 2, 3], "channel": "phone", "contacts": [4, 3, 2]})
    allowed = ch.eligibility(customers, consents, ["phone"], dt.date(2026, 1, 5), rules, recent).phone
    assert allowed.tolist() == [False, True, False], "4 calls in 30 days is the legal maximum; 2 is customer 3's own"
    assert (
        ch.eligibility(customers, None, ["phone", "postal", "email"], dt.date(2026, 1, 5), rules).to_numpy().tolist()
        == [[False, True, False]] * 3
    ), "without consents: strict default"


def test_eligibility_never_allows_what_the_world_refuses(small_world):
    customers = small_world.table("customers")
    rules = ch.channel_rules()
    recent = ch.recent_contacts(small_world.table("contacts"), small_world.table("campaigns"), dt.date(2026, 1, 1))
    ours = ch.eligibility(
        customers,
        small_world.table("consents"),
        list(small_world.spec["channels"]),
        dt.date(2026, 1, 1),
        rules,
        recent,
        pressure_cap=4,
    )
    world = small_world.eligibility()
    buyers = customers.customer_id[~customers.is_prospect]
    assert not (ours.loc[buyers] & ~world.loc[buyers, ours.columns]).any().any()
    assert ours.loc[buyers].sum().min() > 0


def test_values_supplied_by_the_analyst_are_read_and_checked(tmp_path):
    path = tmp_path / "values.csv"
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "arm": ["email · a", "phone · d", "sms · b"],
            "expected_incremental_margin": [0.4, 5.0, 1.0],
        }
    ).to_csv(path, index=False)
    values = ch.read_values(path, ARMS)
    assert values.loc[1, "phone · d"] == 5.0 and values.loc[2, "email · a"] == -np.inf, "a missing pair is not worth it"
    pd.DataFrame({"customer_id": [1], "arm": ["fax · z"], "expected_incremental_margin": [1.0]}).to_csv(
        path, index=False
    )
    with pytest.raises(ch.PlanInputError, match="not in the campaign history"):
        ch.read_values(path, ARMS)
    pd.DataFrame({"customer_id": [1], "value": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ch.PlanInputError, match="missing"):
        ch.read_values(path, ARMS)


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def test_the_exact_plan_is_the_same_when_both_cores_are_busy():
    """The method and the plan depend on the problem only: HiGHS stops on a node limit, not a clock."""
    values, eligible, segments = instance(0, n=6000)
    problem = ch.build_problem(values, ARMS, eligible, 300.0, {"phone": 60, "postal": 300}, segments, {"new": 120})
    idle, idle_diag = ch.solve_exact(problem)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    spinners = [context.Process(target=_spin, args=(stop,)) for _ in range(2)]
    for p in spinners:
        p.start()
    try:
        busy, busy_diag = ch.solve_exact(problem)
    finally:
        stop.set()
        for p in spinners:
            p.join()
    assert np.array_equal(idle, busy) and idle_diag.objective == busy_diag.objective
    assert idle_diag.method == busy_diag.method and "stopped" not in idle_diag.method


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_exact_plan_is_the_optimum_of_the_whole_program(seed):
    """Reduced-cost fixing keeps the optimum: the program over every candidate pair, solved to
    optimality in one piece, earns what the plan over the customers at the margin earns."""
    values, eligible, segments = instance(seed, n=500)
    problem = ch.build_problem(values, ARMS, eligible, 25.0, {"phone": 6, "postal": 20}, segments, {"new": 15})
    rows, arms = np.nonzero(problem.candidates)
    people, person = np.unique(rows, return_inverse=True)
    A = sparse.vstack(
        [
            sparse.csr_matrix((np.ones(len(rows)), (person, np.arange(len(rows)))), shape=(len(people), len(rows))),
            problem.cost[arms],
            problem.arm_channel[arms] == problem.channels.index("phone"),
            problem.arm_channel[arms] == problem.channels.index("postal"),
            problem.segment_codes[rows] == problem.segment_names.index("new"),
        ]
    )
    limits = LinearConstraint(A, [0] * len(people) + [0, 0, 0, 15], [1] * len(people) + [25.0, 6, 20, np.inf])
    whole = milp(-problem.net[rows, arms], constraints=limits, integrality=1, bounds=(0, 1), options={"mip_rel_gap": 0})
    choice, diag = ch.solve_exact(problem)
    assert whole.status == 0 and diag.objective == pytest.approx(-whole.fun, abs=1e-6)
    assert diag.gap < 1e-8 and "stopped" not in diag.method


def test_a_margin_too_wide_for_the_exact_search_keeps_the_lagrangian_plan_and_says_so(monkeypatch):
    values, eligible, _ = instance(4, n=2000)
    monkeypatch.setattr("helpers.decide.contact_plan.plan.EXACT_MAX_VARIABLES", 10)
    plan, diag = ch.optimise_contact_plan(values, ARMS, eligible, budget=80.0)
    lagrangian, expected = ch.optimise_contact_plan(values, ARMS, eligible, budget=80.0, method="lagrangian")
    assert diag.method == expected.method and plan.equals(lagrangian) and diag.objective == expected.objective
    assert re.search(r"[\d,]+ candidate pairs at the margin, above the exact search's 10: the Lagrangian", diag.message)


def test_a_node_limited_search_says_so_and_the_safety_limit_stops_the_run(monkeypatch):
    """HiGHS settles the default-sized margins at its root node, so the stop is simulated: the
    margin's program comes back unproven; the plan keeps the Lagrangian's certified bound."""
    values, eligible, segments = instance(0, n=3000)
    kwargs = dict(capacities={"phone": 30, "postal": 150}, segments=segments, min_reach={"new": 60})
    solve = exact._run
    monkeypatch.setattr(exact, "_run", lambda *args: (*solve(*args)[:4], False))
    plan, diag = ch.optimise_contact_plan(values, ARMS, eligible, 150.0, **kwargs)
    problem = ch.build_problem(values, ARMS, eligible, 150.0, **kwargs)
    assert diag.method.endswith("at the margin), stopped at its limit of 1,000 nodes")
    assert diag.bound == pytest.approx(ch.lagrangian_solution(problem).bound) and 0 < diag.gap < 1e-4
    monkeypatch.setattr(exact, "_run", solve)
    monkeypatch.setattr("helpers.decide.contact_plan.exact.SAFETY_SECONDS", 0.01)
    with pytest.raises(ch.SolverPastSafetyLimit, match="the run stops rather than let the machine's speed choose"):
        ch.optimise_contact_plan(values, ARMS, eligible, 150.0, **kwargs)


def test_nothing_worth_contacting_is_an_empty_plan_not_a_solver_failure():
    values, eligible, _ = instance(6)
    plan, diag = ch.optimise_contact_plan(values - 100, ARMS, eligible, budget=20.0)
    assert plan.empty and diag.method.startswith("exact (") and diag.objective == 0
    assert diag.message == "No allowed contact is worth its cost: the plan is empty."
