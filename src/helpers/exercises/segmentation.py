"""Graders of the segmentation exercises: who in the "lost" segments is still active, and which RFM
segments a win-back letter should go to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from helpers.data.dataset import Dataset
from helpers.describe.segmentation import SEGMENTS, segments_as_of
from helpers.errors import ExerciseInputError
from helpers.exercises.grading import NO_ANSWER, Verdict, euros, no_answer, number
from helpers.exercises.values import arm_name, true_values

if TYPE_CHECKING:
    from helpers.world import World

DORMANT = ("lost", "hibernating")
WIN_BACK_ARM = arm_name("email", "discount_10")


def segments(data: Dataset, world: World) -> pd.Series:
    """Each buyer's RFM segment at the end of the world's history (customer_id -> segment)."""
    end = dt.date.fromisoformat(world.parameters["end"])
    return segments_as_of(data.table("transactions"), end).set_index("customer_id").segment.astype(str)


def grade_dormant_active_share(answer: object, data: Dataset, world: World) -> Verdict:
    """Your estimate of the share of "lost" and "hibernating" customers truly still active (0-1)
    against the truth; values are errors in points, the naive reading being "lost means gone" (0%)."""
    segment = segments(data, world)
    truth = world.truth().set_index("customer_id").loc[segment.index]
    dormant = segment.isin(DORMANT).to_numpy()
    share = float(truth.alive_at_end[dormant].mean())
    naive = share * 100
    if answer is NO_ANSWER:
        return no_answer("your estimate as a share, e.g. 0.3 for 30%", naive, 0.0)
    guess = number(answer, "your share", 0, 1)
    error = abs(guess - share) * 100
    value = truth.expected_value_52w
    return Verdict(
        error,
        naive,
        0.0,
        f"You said {guess:.0%}; truly {share:.0%} of them are still active ({error:.0f} points off; "
        f"'lost means gone' is {naive:.0f} points off). Active is not valuable: they will spend "
        f"{value[dormant].mean():.0f} EUR each over the next year, against {value[~dormant].mean():.0f} EUR "
        "for the other segments.",
    )


def chosen_segments(answer: object) -> list[str]:
    """``answer`` as a list of known segment names, or ExerciseInputError naming the known ones."""
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise ExerciseInputError(
            f"your segments must be a list of segment names, like ['at risk', 'lost']; got {answer!r}."
        )
    chosen = list(answer)
    unknown = [s for s in chosen if s not in SEGMENTS]
    if unknown:
        raise ExerciseInputError(f"unknown segment(s) {unknown}; the segments are {list(SEGMENTS)}.")
    return chosen


def grade_win_back_segments(answer: object, data: Dataset, world: World, arm: str = WIN_BACK_ARM) -> Verdict:
    """Your segments for a win-back letter (``arm``, to every customer of those segments the letter may
    reach) by their true expected incremental margin (EUR after costs), against a mass send to every
    segment and the best choice of segments."""
    value = true_values(world)[arm].dropna()
    by_segment = value.groupby(segments(data, world).reindex(value.index)).sum()
    naive, best = float(by_segment.sum()), float(by_segment.clip(lower=0).sum())
    if answer is NO_ANSWER:
        return no_answer("a list of segment names, e.g. ['lost']", naive, best)
    chosen = chosen_segments(answer)
    earned = float(by_segment.reindex(chosen).fillna(0).sum())
    paying = by_segment.index[by_segment > 0].tolist()
    return Verdict(
        earned,
        naive,
        best,
        f"Your segments earn {euros(earned, True)} of margin after the sends' cost; a mass send to every "
        f"segment {euros(naive, True)}; the best choice of segments ({', '.join(paying) or 'none'}) "
        f"{euros(best, True)}. Choosing customer by customer on their true effect would earn "
        f"{euros(float(value.clip(lower=0).sum()), True)}.",
    )
