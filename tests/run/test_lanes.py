"""How many notebooks a run executes at once: two on two cores or more, one for a large data set, and
``--jobs`` refused unless a whole number of at least 1."""

from types import SimpleNamespace

import pytest

from helpers.run import lanes, playbook
from helpers.run.cli import main


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(lanes, "workers", lambda: 2)


def test_two_notebooks_at_once_on_two_cores_one_above_the_side_by_side_limit(two_cores, monkeypatch):
    tour = playbook.load("tour")
    assert lanes.lanes(tour) == 2
    assert lanes.lanes(playbook.with_settings(tour, ["n_customers=1000000"])) == 1
    limit = lanes.SIDE_BY_SIDE_CUSTOMERS
    assert lanes.lanes(playbook.with_settings(tour, [f"n_customers={limit}", "n_prospects=1"])) == 1
    monkeypatch.setattr(lanes, "workers", lambda: 1)
    assert lanes.lanes(tour) == 1


def _data(**rows: int) -> SimpleNamespace:
    """What ``lanes`` reads of a loaded data set: each table's rows kept."""
    tables = {name: SimpleNamespace(rows_kept=n) for name, n in rows.items()}
    return SimpleNamespace(report=SimpleNamespace(tables=tables))


def test_own_data_counts_its_customers_else_its_largest_table(two_cores):
    tour = playbook.load("tour")
    assert lanes.lanes(tour, _data(customers=40_000, transactions=900_000)) == 2
    assert lanes.lanes(tour, _data(customers=400_000, transactions=900_000)) == 1
    assert lanes.lanes(tour, _data(transactions=300_000)) == 1


@pytest.mark.parametrize("jobs", ["0", "-1", "two", "1.5"])
def test_jobs_must_be_a_whole_number_of_at_least_one(jobs, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["run", "tour", "--jobs", jobs, "--no-pdf"])
    assert stopped.value.code == 2
    assert f"argument --jobs: {jobs!r} is not a whole number of at least 1" in capsys.readouterr().err
