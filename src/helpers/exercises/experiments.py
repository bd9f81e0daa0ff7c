"""Graders of the testing exercises: how many customers to hold back, and what to do after a test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.exercises.grading import NO_ANSWER, Verdict, choice_among, euros, no_answer, whole_number
from helpers.models.experiments import control_size_for_rate
from helpers.world.truth import effect_column

if TYPE_CHECKING:
    from helpers.models.world_test import PlayedTest
    from helpers.world import World

TESTED = ("postal", "new_collection")  # the letter whose test is designed
TREATED_PER_CONTROL = 4  # a 20% control group
USUAL_CONTROL = 1000  # the round number a test is often given
NEITHER = "neither"


def true_test_rates(world: World, tested: tuple[str, str] = TESTED) -> tuple[float, float]:
    """(base rate, true lift) of buying in the response window among the customers the letter may reach."""
    truth = world.truth().set_index("customer_id")
    allowed = world.eligibility()
    reached = truth.loc[allowed.index[allowed[tested[0]].to_numpy()]]
    reached = reached[~reached.is_prospect.to_numpy()]
    return float(reached.baseline_chance_window.mean()), float(reached[effect_column(*tested)].mean())


def power(control: int, base: float, lift: float, treated_per_control: float = TREATED_PER_CONTROL) -> float:
    """Chance that a two-sided 5% test with ``control`` customers held back (and treated_per_control
    times as many contacted) detects a true ``lift`` over ``base`` (as ``control_size_for_rate`` computes it)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    effect = abs(proportion_effectsize(base + lift, base))
    treated = control * treated_per_control
    return float(NormalIndPower().power(effect, treated, 0.05, ratio=1 / treated_per_control, alternative="two-sided"))


def grade_sample_size(answer: object, world: World) -> Verdict:
    """Your control group size by its true power (the chance the test detects the letter's true lift),
    against the usual 1,000 and the smallest size with 80% power."""
    base, lift = true_test_rates(world)
    needed = control_size_for_rate(base, lift, 0.05, 0.8, TREATED_PER_CONTROL)
    naive = power(USUAL_CONTROL, base, lift)
    if answer is NO_ANSWER:
        return no_answer("a number of control customers, e.g. 2000", naive, 0.8)
    control = whole_number(answer, "your control group (customers)", low=1)
    chance = power(control, base, lift)
    extra = f" You hold back {control - needed:,} more customers than needed." if control > 1.2 * needed else ""
    return Verdict(
        chance,
        naive,
        0.8,
        f"With {control:,} customers held back ({control * TREATED_PER_CONTROL:,} sent the letter), your test "
        f"detects the letter's true lift (+{lift * 100:.2f} points on {base:.1%}) {chance:.0%} of the time; the "
        f"usual {USUAL_CONTROL:,} held back {naive:.0%}; 80% power needs {needed:,} held back.{extra}",
    )


def true_net_per_customer(trial: PlayedTest, margin_rate: float) -> pd.Series:
    """Per treated arm of ``trial``: its true incremental margin per customer after the contacts' cost (EUR)."""
    return trial.truth["true incremental revenue"] * margin_rate - pd.Series(trial.costs).reindex(trial.truth.index)


def grade_rollout(answer: object, trial: PlayedTest, readout: pd.DataFrame, margin_rate: float = 0.5) -> Verdict:
    """Your decision after the test (an arm to roll out to every tested customer, or "neither") by its
    true incremental margin (EUR after costs), against rolling out the arm with the best point
    estimate and the truly best decision."""
    net = true_net_per_customer(trial, margin_rate)
    customers = len(trial.groups)
    value = pd.concat([net * customers, pd.Series({NEITHER: 0.0})])
    naive_arm = str(readout.set_index("arm").incremental_revenue.idxmax())
    naive, best_arm = float(value[naive_arm]), str(value.idxmax())
    if answer is NO_ANSWER:
        return no_answer(f"one of {list(value.index)}", naive, float(value.max()))
    chosen = choice_among(answer, value.index, "your decision")
    return Verdict(
        float(value[chosen]),
        naive,
        float(value.max()),
        f"Rolling out '{chosen}' to the {customers:,} customers earns {euros(float(value[chosen]), True)} of "
        f"margin after costs; the highest estimate ('{naive_arm}') {euros(naive, True)}; the best decision "
        f"('{best_arm}') {euros(float(value.max()), True)}.",
    )
