"""Exercises graded by the hidden truth: the learner makes a marketer's decision in a notebook of
``notebooks/exercises/``, and a grader plays it against the world and says, in plain words, how it
compares with the naive choice and the best possible one.

    print(grade_contact_plan(answer, world, budget=150))   # one grader per exercise, one module per stage

A grader given ``NO_ANSWER`` (the placeholder) says "No answer yet"; a malformed answer raises
``helpers.errors.ExerciseInputError`` with a message a beginner understands.


Each name is imported from its module on first use (``helpers._lazy``)."""

from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

if TYPE_CHECKING:
    from helpers.exercises.channel_mix import best_plan, grade_contact_plan, mass_send
    from helpers.exercises.classroom import GRADERS, grade_class, learner_seed, learner_world, read_answers
    from helpers.exercises.experiments import grade_rollout, grade_sample_size, power, true_test_rates
    from helpers.exercises.grading import CLASS_WORLD, NO_ANSWER, Verdict
    from helpers.exercises.knowledge import grade_pareto_share, grade_vip_invitations
    from helpers.exercises.lifetime_value import grade_value_forecast, last_year_revenue
    from helpers.exercises.next_best_offer import grade_offers
    from helpers.exercises.scenarios import days_since_purchase, grade_win_back_threshold, threshold_values
    from helpers.exercises.segmentation import grade_dormant_active_share, grade_win_back_segments, segments
    from helpers.exercises.values import arm_name, arm_table, true_values

__all__ = [
    "CLASS_WORLD",
    "GRADERS",
    "NO_ANSWER",
    "Verdict",
    "arm_name",
    "arm_table",
    "best_plan",
    "days_since_purchase",
    "grade_class",
    "grade_contact_plan",
    "grade_dormant_active_share",
    "grade_offers",
    "grade_pareto_share",
    "grade_rollout",
    "grade_sample_size",
    "grade_value_forecast",
    "grade_vip_invitations",
    "grade_win_back_segments",
    "grade_win_back_threshold",
    "last_year_revenue",
    "learner_seed",
    "learner_world",
    "mass_send",
    "power",
    "read_answers",
    "segments",
    "threshold_values",
    "true_test_rates",
    "true_values",
]

__getattr__ = lazy_exports(__name__)
