"""What every grader shares: the verdict, the "no answer yet" reply, the checks that turn a malformed
answer into a message a beginner understands, and the world each exercise plays on."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import ExerciseInputError

NO_ANSWER = None
"""What an exercise's answer cell holds until the learner writes their answer."""

CLASS_WORLD = {"scenario": "retail_fr", "n_customers": 2000, "n_prospects": 200}
"""The exercises' world: the default scenario, small enough that every exercise runs in seconds."""


@dataclass(frozen=True)
class Verdict:
    """A graded answer: the value of the learner's answer, of the naive one and of the best one (in
    the exercise's unit: EUR, an error in points, a chance), and the verdict in plain words.
    ``value`` is None when there is no answer yet."""

    value: float | None
    naive: float
    best: float
    message: str

    @property
    def score(self) -> float | None:
        """Where the answer lies from the naive one (0) to the best one (1); None without an answer."""
        if self.value is None:
            return None
        return 1.0 if self.best == self.naive else (self.value - self.naive) / (self.best - self.naive)

    def __str__(self) -> str:
        return self.message


def no_answer(expected: str, naive: float, best: float) -> Verdict:
    """The reply to an answer cell still holding ``NO_ANSWER``; ``expected`` says what to write there."""
    return Verdict(
        None, naive, best, f"No answer yet: write {expected} in the answer cell, run it, then run this cell again."
    )


def euros(amount: float, signed: bool = False) -> str:
    """``2,410 EUR`` (``+2,410 EUR`` or ``-86,880 EUR`` when ``signed``)."""
    return f"{amount:+,.0f} EUR" if signed else f"{amount:,.0f} EUR"


def number(answer: object, what: str, low: float | None = None, high: float | None = None) -> float:
    """``answer`` as a float, or ExerciseInputError if it is not a number within [low, high]."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.integer | np.floating):
        raise ExerciseInputError(
            f"{what} must be a number, like 0.65 or 1200; got {answer!r} ({type(answer).__name__})."
        )
    value = float(answer)
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ExerciseInputError(f"{what} must be {bounds}; got {answer!r}.")
    return value


def whole_number(answer: object, what: str, low: int = 1) -> int:
    """``answer`` as an int of at least ``low``, or ExerciseInputError (a float with decimals is refused)."""
    value = number(answer, what, low)
    if value != int(value):
        raise ExerciseInputError(f"{what} must be a whole number; got {answer!r}.")
    return int(value)


def customer_choice(answer: object, known: pd.Index, what: str, at_most: int | None = None) -> pd.Index:
    """``answer`` (a list, set, array or Series of customer ids) as an Index, or ExerciseInputError
    if it is not a collection of ids, names an id twice or outside ``known``, or holds more than
    ``at_most``."""
    if isinstance(answer, str | bytes | dict | pd.DataFrame) or not isinstance(answer, Iterable):
        raise ExerciseInputError(
            f"{what} must be a list of customer ids, like [12, 345, 678]; got {type(answer).__name__}."
        )
    ids = pd.Index(list(answer))
    if len(ids) and not pd.api.types.is_integer_dtype(ids):
        raise ExerciseInputError(f"{what} must hold customer ids (whole numbers); got e.g. {ids[0]!r}.")
    unknown = ids[~ids.isin(known)]
    if len(unknown):
        raise ExerciseInputError(
            f"{what}: {len(unknown)} id(s) are not customers of this world, e.g. {unknown[:5].tolist()}."
        )
    twice = ids[ids.duplicated()].unique()
    if len(twice):
        raise ExerciseInputError(f"{what} names some customers twice, e.g. {twice[:5].tolist()}: name each once.")
    if at_most is not None and len(ids) > at_most:
        raise ExerciseInputError(f"{what} may hold at most {at_most:,} customers; got {len(ids):,}.")
    return ids


def choice_among(answer: object, options: Iterable[str], what: str) -> str:
    """``answer`` if it is one of ``options`` (text), or ExerciseInputError listing them."""
    options = list(options)
    if not isinstance(answer, str) or answer not in options:
        raise ExerciseInputError(f"{what} must be one of {options}; got {answer!r}.")
    return answer
