import datetime as dt

import numpy as np
import pytest

from helpers.exercises import CLASS_WORLD
from helpers.models import experiments, world_test
from helpers.run import open_data

SEED = 42  # the exercises' default seed: the same cached world the solution notebooks play on


@pytest.fixture(scope="session")
def class_data():
    """The exercises' world (data, world), generated once into synthetic_data/ and shared with the notebooks."""
    return open_data({**CLASS_WORLD, "seed": SEED})


@pytest.fixture(scope="session")
def trial(class_data):
    """The test exercise 10 reads: (played test, readout)."""
    data, world = class_data
    rng = np.random.default_rng(SEED)
    arms = {"control": 0.2, "mail": 0.4, "mail then call": 0.4}
    played = world_test.play_test(world, data, dt.date(2025, 12, 31), arms, "new_collection", 4, SEED, rng)
    return played, experiments.readout(played.outcomes, rng, played.costs, 0.5)
