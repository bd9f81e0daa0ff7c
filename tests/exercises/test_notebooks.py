"""Exercises are stored unexecuted with a placeholder answer; each solution is the same notebook with its
answer cell worked out (strict nbval runs the solutions: the notebooks' other cells run there)."""

import re

import nbformat
import pytest

from helpers.paths import NOTEBOOKS_DIR
from helpers.world.truth import SPELLED_OUT

EXERCISES = sorted((NOTEBOOKS_DIR / "exercises").glob("[0-9][0-9]_*.ipynb"))
WORKED = ("answer", "solution")  # the tags of the cells a solution changes


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_ten_exercises_each_with_its_solution():
    assert len(EXERCISES) >= 10
    assert [p.name for p in EXERCISES] == [
        p.name for p in sorted((NOTEBOOKS_DIR / "exercises/solutions").glob("*.ipynb"))
    ]


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_exercise_is_unexecuted_short_and_graded(path):
    nb = nbformat.read(path, as_version=4)
    code = _code(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.outputs and c.execution_count is None for c in code), "exercises are stored unexecuted"
    assert all(len(c.source.splitlines()) <= 15 for c in code)
    assert not [
        c.source for c in code if re.search(r"^\s*(def|class)\s", c.source, re.M) or SPELLED_OUT.search(c.source)
    ]
    answer = [c for c in code if "answer" in c.metadata.get("tags", [])]
    assert len(answer) == 1 and answer[0].source.startswith("answer = exercises.NO_ANSWER")
    assert re.search(r"print\(exercises\.grade_\w+\(answer", code[-1].source)
    assert re.search(
        r"\*\*Goal\.\*\*.*\*\*You will learn to\*\*.*\*\*Time:\*\* about \d+ minutes", nb.cells[0].source, re.S
    )


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_solution_is_the_exercise_with_its_answer_worked_out(path):
    exercise = nbformat.read(path, as_version=4)
    solution = nbformat.read(path.parent / "solutions" / path.name, as_version=4)

    def kept(nb):
        return [(c.cell_type, c.source) for c in nb.cells if not set(WORKED) & set(c.metadata.get("tags", []))]

    assert kept(solution) == kept(exercise)
    code = _code(solution)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "executed top to bottom"
    assert all(len(c.source.splitlines()) <= 15 for c in code)
    verdict = "".join(o.get("text", "") for o in code[-1].outputs)
    assert verdict and not verdict.startswith("No answer yet"), "the solution's answer is graded"
    assert not [o for c in code for o in c.outputs if o.output_type == "error" or o.get("name") == "stderr"]
