"""A class graded in one command: a world per learner, 20 synthetic learners ranked as they should be."""

import datetime as dt
import json

import numpy as np
import pytest

from helpers.describe import knowledge
from helpers.errors import ExerciseInputError
from helpers.exercises import grade_class, learner_seed, learner_world, read_answers
from helpers.run.cli import main

TINY = {"n_customers": 300, "n_prospects": 20}  # a class world small enough for 20 learners in seconds


def _careful(learner: str) -> float:
    """A learner who measures the share on their own world's data."""
    data, world = learner_world(learner, TINY)
    end = dt.date.fromisoformat(world.parameters["end"])
    return round(knowledge.top_share(knowledge.pareto_curve(data.table("transactions"), end=end), 0.2), 2)


def test_twenty_learners_each_on_their_own_world_are_ranked_careful_first():
    rng = np.random.default_rng(0)
    careful = {f"careful-{i}": _careful(f"careful-{i}") for i in range(10)}
    guessing = {f"guess-{i}": float(rng.choice([0.8, 0.9, 0.3, 0.95])) for i in range(9)}
    answers = {**careful, **guessing, "typo": "seventy percent"}
    table = grade_class("01_pareto_share", answers, TINY)
    assert len(table) == 20 and table.learner.is_unique, "every learner graded once"
    assert len({learner_seed(name) for name in answers}) == 20, "a world per learner"
    ranked = table.learner.tolist()
    assert set(ranked[:10]) == set(careful) and set(ranked[10:19]) == set(guessing) and ranked[19] == "typo"
    assert (table.score[:10] > 0.9).all() and table.score[10:19].max() < table.score[:10].min()
    assert table.verdict.iloc[-1].startswith("refused: your share must be a number")
    again = grade_class("01_pareto_share", answers, TINY)
    assert again.equals(table), "the same answers, the same grades"


def test_the_class_command_reads_answers_and_refuses_what_it_cannot_grade(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("helpers.exercises.classroom.CLASS_WORLD", {"scenario": "retail_fr", **TINY})
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"ana": _careful("ana"), "ben": 0.8}))
    assert main(["class", "01_pareto_share", str(answers), "--out", str(tmp_path / "grades.csv")]) == 0
    printed = capsys.readouterr().out
    assert printed.index("ana") < printed.index("ben") and (tmp_path / "grades.csv").exists()
    with pytest.raises(ExerciseInputError, match="cannot be graded for a class; one of: 01_pareto_share"):
        grade_class("07_channel_mix_budget", {"ana": 1})
    (tmp_path / "bad.json").write_text("[0.7]")
    with pytest.raises(ExerciseInputError, match="must be a JSON object"):
        read_answers(tmp_path / "bad.json")
