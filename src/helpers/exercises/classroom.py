"""A class graded in one go: each learner works on their own world (seeded by their learner id, so
answers cannot be copied), and the trainer grades every answer of an exercise at once, ranked."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd

from helpers.data.dataset import Dataset
from helpers.errors import ExerciseInputError
from helpers.exercises.experiments import grade_sample_size
from helpers.exercises.grading import CLASS_WORLD
from helpers.exercises.knowledge import grade_pareto_share, grade_vip_invitations
from helpers.exercises.lifetime_value import grade_value_forecast
from helpers.exercises.scenarios import grade_win_back_threshold
from helpers.exercises.segmentation import grade_dormant_active_share, grade_win_back_segments
from helpers.run.notebook import open_data

if TYPE_CHECKING:
    from helpers.world import World

GRADERS: dict[str, Callable] = {
    "01_pareto_share": grade_pareto_share,
    "02_vip_invitations": grade_vip_invitations,
    "03_who_is_still_active": grade_dormant_active_share,
    "04_win_back_segments": grade_win_back_segments,
    "05_value_forecast": grade_value_forecast,
    "08_win_back_trigger": grade_win_back_threshold,
    "09_sample_size": grade_sample_size,
}
"""The exercises whose answer fits in a JSON file (a number, a list of ids or names): graded for a class."""


def learner_seed(learner: str) -> int:
    """The seed of a learner's world: the same id always gives the same world, two ids different ones."""
    return int.from_bytes(hashlib.sha256(learner.strip().encode()).digest()[:4], "big") % 2**31


def learner_world(learner: str, world: Mapping | None = None) -> tuple[Dataset, World]:
    """The learner's data and world: the class world (``CLASS_WORLD``, or ``world``) with their seed."""
    data, generated = open_data({**CLASS_WORLD, **(world or {}), "seed": learner_seed(learner)})
    return data, cast("World", generated)  # no data_dir: always a synthetic world


def grade_class(exercise: str, answers: Mapping[str, object], world: Mapping | None = None) -> pd.DataFrame:
    """Every learner's answer to ``exercise`` graded on their own world, best first: learner, seed,
    score (0 the naive answer, 1 the best), value, naive, best and the verdict in words. A malformed
    answer is kept, with no score and the grader's message."""
    if exercise not in GRADERS:
        raise ExerciseInputError(f"exercise {exercise!r} cannot be graded for a class; one of: {', '.join(GRADERS)}.")
    grade = GRADERS[exercise]
    takes_data = "data" in inspect.signature(grade).parameters
    rows = []
    for learner, answer in answers.items():
        data, learners_world = learner_world(learner, world)
        try:
            verdict = grade(answer, data, learners_world) if takes_data else grade(answer, learners_world)
            row = {"score": verdict.score, "value": verdict.value, "naive": verdict.naive, "best": verdict.best}
            row["verdict"] = verdict.message
        except ExerciseInputError as refusal:
            row = {"score": None, "value": None, "naive": None, "best": None, "verdict": f"refused: {refusal}"}
        rows.append({"learner": learner, "seed": learner_seed(learner), **row})
    table = pd.DataFrame(rows).sort_values(["score", "learner"], ascending=[False, True], na_position="last")
    return table.assign(rank=range(1, len(table) + 1)).reset_index(drop=True)


def read_answers(path: str | Path) -> dict[str, object]:
    """A class's answers from a JSON file ``{"learner id": answer, ...}``; refused when it is not one."""
    try:
        answers = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExerciseInputError(f"{path}: cannot read the answers as JSON ({exc}).") from exc
    if not isinstance(answers, dict) or not answers:
        raise ExerciseInputError(f'{path}: the answers must be a JSON object {{"learner id": answer, ...}}.')
    return answers
