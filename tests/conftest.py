import pytest

from helpers.world import generate_world

SMALL = {"n_customers": 3000, "n_prospects": 500, "seed": 7}


@pytest.fixture(scope="session")
def small_world(tmp_path_factory):
    """A small default-scenario world, generated once per test session."""
    return generate_world("retail_fr", root=tmp_path_factory.mktemp("worlds"), **SMALL)
