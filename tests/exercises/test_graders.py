"""Each grader on the naive answer, a good answer and a malformed one: values and words asserted."""

import pandas as pd
import pytest

from helpers import exercises as ex
from helpers.errors import ExerciseInputError, InputError


def test_the_placeholder_gets_no_answer_yet(class_data):
    data, world = class_data
    verdict = ex.grade_pareto_share(ex.NO_ANSWER, data, world)
    assert verdict.value is None and verdict.score is None
    assert str(verdict).startswith("No answer yet: write your estimate")


def test_pareto_share(class_data):
    data, world = class_data
    naive, exact = ex.grade_pareto_share(0.8, data, world), ex.grade_pareto_share(0.62, data, world)
    assert naive.score == 0 and naive.value == pytest.approx(18, abs=1)
    assert exact.value < 1 and exact.score > 0.95 and "bring 62% of revenue" in exact.message
    with pytest.raises(ExerciseInputError, match="must be between 0 and 1; got 62"):
        ex.grade_pareto_share(62, data, world)
    with pytest.raises(ExerciseInputError, match="must be a number"):
        ex.grade_pareto_share("62%", data, world)


def test_vip_invitations(class_data):
    _, world = class_data
    truth = world.truth().query("~is_prospect").set_index("customer_id").expected_value_52w
    best = ex.grade_vip_invitations(truth.nlargest(100).index.tolist(), world)
    assert best.value == best.best == pytest.approx(41_076, abs=1) and best.score == 1
    worst = ex.grade_vip_invitations(truth.nsmallest(100).index.tolist(), world)
    assert worst.value < worst.naive == pytest.approx(truth.mean() * 100)
    with pytest.raises(ExerciseInputError, match="at most 100 customers; got 101"):
        ex.grade_vip_invitations(truth.index[:101].tolist(), world)
    with pytest.raises(ExerciseInputError, match=r"not customers of this world, e.g. \[999999\]"):
        ex.grade_vip_invitations([1, 999_999], world)
    with pytest.raises(ExerciseInputError, match="twice"):
        ex.grade_vip_invitations([1, 1], world)


def test_dormant_active_share_tells_the_truth_of_lost_customers(class_data):
    data, world = class_data
    naive, right = ex.grade_dormant_active_share(0.0, data, world), ex.grade_dormant_active_share(0.98, data, world)
    assert naive.value == pytest.approx(98, abs=1.5) and right.value < 1
    assert "truly 98% of them are still active" in right.message
    with pytest.raises(InputError, match="must be a number"):
        ex.grade_dormant_active_share([0.5], data, world)


def test_win_back_segments(class_data):
    data, world = class_data
    mass = ex.grade_win_back_segments(list(ex.segmentation.SEGMENTS), data, world)
    assert (
        mass.value == pytest.approx(mass.naive)
        and mass.naive == pytest.approx(84, abs=1)
        and mass.best == pytest.approx(151, abs=1)
    )
    champions = ex.grade_win_back_segments(["champions"], data, world)
    assert champions.value < 0 < champions.best
    assert ex.grade_win_back_segments([], data, world).value == 0
    with pytest.raises(ExerciseInputError, match="unknown segment"):
        ex.grade_win_back_segments(["Lost"], data, world)
    with pytest.raises(ExerciseInputError, match="a list of segment names"):
        ex.grade_win_back_segments("lost", data, world)


def test_value_forecast(class_data):
    _, world = class_data
    truth = world.truth().query("~is_prospect").expected_value_52w.sum()
    assert ex.grade_value_forecast(float(truth), world).score == 1
    naive = ex.grade_value_forecast(ex.last_year_revenue(world), world)
    assert naive.score == 0 and naive.value > 0.5 * truth
    with pytest.raises(ExerciseInputError, match="at least 0"):
        ex.grade_value_forecast(-5.0, world)


def test_offers(class_data):
    _, world = class_data
    values = ex.true_values(world)[[ex.arm_name("email", o) for o in world.spec["offers"]]].dropna()
    mass = ex.grade_offers(pd.Series("discount_10", index=values.index), world)
    assert mass.value == pytest.approx(mass.naive) and mass.naive == pytest.approx(84, abs=1)
    worth = values.max(axis=1) > 0
    best = ex.grade_offers(values.idxmax(axis=1)[worth].str.split(" · ").str[1], world)
    assert best.value == pytest.approx(best.best) and best.score == pytest.approx(1)
    with pytest.raises(ExerciseInputError, match="pandas Series"):
        ex.grade_offers({1: "discount_10"}, world)
    with pytest.raises(ExerciseInputError, match="unknown offer"):
        ex.grade_offers(pd.Series("20_percent", index=values.index[:3]), world)


def test_contact_plan(class_data):
    _, world = class_data
    best = ex.best_plan(world, 150).merge(ex.arm_table(world)[["arm", "offer"]], on="arm")
    verdict = ex.grade_contact_plan(best[["customer_id", "channel", "offer"]], world, 150)
    assert verdict.value == pytest.approx(verdict.best) and verdict.best > 0 > verdict.naive
    allowed = world.eligibility().loc[ex.true_values(world).index]
    no_email = allowed.index[~allowed.email][:1]
    with pytest.raises(ExerciseInputError, match="breaks consent"):
        ex.grade_contact_plan(
            pd.DataFrame({"customer_id": no_email, "channel": "email", "offer": "discount_10"}), world, 150
        )
    letters = pd.DataFrame(
        {"customer_id": allowed.index[allowed.postal][:200], "channel": "postal", "offer": "discount_10"}
    )
    with pytest.raises(ExerciseInputError, match="costs 200 EUR, over the budget of 150 EUR"):
        ex.grade_contact_plan(letters, world, 150)
    with pytest.raises(ExerciseInputError, match="lacks the column"):
        ex.grade_contact_plan(letters.drop(columns="offer"), world, 150)


def test_win_back_threshold(class_data):
    _, world = class_data
    values = ex.threshold_values(world)
    assert ex.grade_win_back_threshold(0, world).score == 0
    best = ex.grade_win_back_threshold(int(values.idxmax()), world)
    assert best.score == 1 and "the best threshold, 156 days" in best.message
    assert ex.grade_win_back_threshold(100_000, world).value == pytest.approx(values.iloc[-1])
    with pytest.raises(ExerciseInputError, match="whole number"):
        ex.grade_win_back_threshold(90.5, world)


def test_sample_size(class_data):
    _, world = class_data
    base, lift = ex.true_test_rates(world)
    needed = ex.experiments.control_size_for_rate(base, lift, 0.05, 0.8, 4)
    assert ex.power(needed, base, lift) == pytest.approx(0.8, abs=0.01)
    assert ex.grade_sample_size(1000, world).score == 0
    assert ex.grade_sample_size(needed, world).value == pytest.approx(0.8, abs=0.01)
    assert "more customers than needed" in ex.grade_sample_size(needed * 3, world).message
    for bad in (-100, 0, True, "2000"):
        with pytest.raises(ExerciseInputError):
            ex.grade_sample_size(bad, world)


def test_rollout(trial):
    played, readout = trial
    naive = ex.grade_rollout("mail then call", played, readout)
    assert naive.value == naive.naive < 0 and naive.best == 0
    assert ex.grade_rollout("neither", played, readout).score == 1
    with pytest.raises(ExerciseInputError, match=r"one of \['mail', 'mail then call', 'neither'\]"):
        ex.grade_rollout("call", played, readout)


def test_a_verdict_is_the_same_twice(class_data):
    data, world = class_data
    assert ex.grade_win_back_segments(["lost"], data, world) == ex.grade_win_back_segments(["lost"], data, world)
