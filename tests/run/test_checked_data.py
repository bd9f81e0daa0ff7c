"""An analyst's data loaded and checked once per run, written into the run folder, opened by every notebook."""

import dataclasses
import datetime as dt
import json
import shutil

import nbformat
import pandas as pd
import pytest

from helpers.data import DataContractError, load_tables
from helpers.data.contract import PERSONAL_COLUMNS
from helpers.run import checked_data, provenance
from helpers.run.checked_data import CHECKED, checked_world, is_checked, open_checked, shown_path, write_checked
from helpers.run.cli import main
from helpers.run.notebook import open_data
from helpers.run.preflight import NO_CONSENTS
from helpers.world import sha256_file
from tests.data.test_dataset import DATA


@pytest.fixture(scope="module")
def loaded():
    return load_tables(DATA / "clean_fr")


def test_the_checked_copy_holds_the_same_rows_and_report_without_direct_identifiers(loaded, tmp_path):
    write_checked(loaded, tmp_path / "data", "clean_fr")
    assert is_checked(tmp_path / "data") and not is_checked(DATA / "clean_fr")
    copy = open_checked(tmp_path / "data")
    assert list(copy.tables) == list(loaded.tables)
    for name in loaded.tables:
        kept = [c for c in loaded.table(name).columns if c not in PERSONAL_COLUMNS]
        pd.testing.assert_frame_equal(copy.frame(name), loaded.frame(name, kept))
        assert copy.table(name).schema() == loaded.table(name).select(kept).schema()
    assert not set(PERSONAL_COLUMNS) & set(copy.table("customers").columns)
    assert copy.report.tables == loaded.report.tables and copy.report.missing_tables == ["products", "consents"]
    assert (copy.report.source, copy.report.mapping) == ("clean_fr", "tests/exports/clean_fr/mapping.yml")


def test_the_checked_copy_is_the_same_bytes_each_time(loaded, tmp_path):
    for run in ("one", "two"):
        write_checked(loaded, tmp_path / run, "clean_fr")
    files = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert CHECKED in files and "transactions.parquet" in files
    assert [sha256_file(tmp_path / "one" / f) for f in files] == [sha256_file(tmp_path / "two" / f) for f in files]


def test_a_notebook_opens_the_checked_copy_and_its_required_tables_are_still_refused(loaded, tmp_path):
    write_checked(loaded, tmp_path / "data", "clean_fr")
    data, world = open_data({"data_dir": str(tmp_path / "data")}, required=("contacts",))
    assert world is None and data.source == tmp_path / "data" and data.has("contacts")
    with pytest.raises(DataContractError, match="clean_fr has no consents file, which this analysis needs"):
        open_checked(tmp_path / "data", required=("consents",))


def test_a_path_is_shown_relative_to_the_repository_or_by_its_name_alone(tmp_path):
    assert shown_path(DATA / "clean_fr") == "tests/exports/clean_fr"
    assert shown_path(tmp_path / "exports") == "exports"


def test_a_run_on_own_data_loads_once_notes_the_missing_consents_shows_no_absolute_folder_and_reproduces(
    tmp_path, capsys
):
    exports = tmp_path / "exports"  # the analyst's folder, outside the repository
    shutil.copytree(DATA / "clean_fr", exports)
    recipe = tmp_path / "own.yml"
    recipe.write_text("title: Own\nquestion: Does it load once?\nnotebooks: [10_customer_knowledge]\n")
    assert main(["run", str(recipe), "--data", str(exports), "--out", str(tmp_path / "runs"), "--no-pdf"]) == 0
    out = capsys.readouterr().out
    assert out.count(NO_CONSENTS) == 1 and "loaded and checked once" in out
    run_dir = next((tmp_path / "runs").iterdir())
    assert is_checked(run_dir / "data")
    executed = nbformat.read(run_dir / "10_customer_knowledge.ipynb", as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'data_dir = "{run_dir / "data"}"' in injected.source and 'mapping = ""' in injected.source
    assert json.loads((run_dir / "metrics.json").read_text())["notes"] == [NO_CONSENTS]
    report = (run_dir / "report.html").read_text()
    assert str(tmp_path) not in report
    assert "<td>exports/transactions.csv</td>" in report  # the Data table: from the folder's name
    assert main(["reproduce", str(run_dir / "manifest.json"), "--no-pdf"]) == 0  # the checked copy too, to the byte
    assert "reproduced: all" in capsys.readouterr().out


def test_a_world_is_checked_once_then_opened_from_its_checked_copy(small_world, monkeypatch):
    fresh = load_tables(small_world.path, latest_date=dt.date.fromisoformat(small_world.parameters["end"]))
    first = checked_world(small_world)
    monkeypatch.setattr(checked_data, "load_tables", lambda *a, **k: pytest.fail("the world was checked again"))
    again = checked_world(small_world, ("transactions",))
    for copy in (first, again):
        assert list(copy.tables) == list(fresh.tables) and copy.report == fresh.report
        assert copy.source == small_world.path  # messages name the world, not its copy
        for name in fresh.tables:  # identities kept: a world's are synthetic
            pd.testing.assert_frame_equal(copy.frame(name), fresh.frame(name))
    assert "checked" not in " ".join(
        name for name in provenance.data_files({"world": small_world.parameters}, small_world.path.parent)
    )


def test_a_changed_world_file_or_a_partial_copy_is_checked_again(small_world, tmp_path, monkeypatch):
    world = dataclasses.replace(small_world, path=shutil.copytree(small_world.path, tmp_path / small_world.path.name))
    checks = []
    monkeypatch.setattr(checked_data, "load_tables", lambda *a, **k: checks.append(1) or load_tables(*a, **k))
    first = checked_world(world)
    campaigns = pd.read_parquet(world.path / "campaigns.parquet")
    campaigns.assign(name=campaigns["name"] + " bis").to_parquet(world.path / "campaigns.parquet")
    assert checked_world(world).frame("campaigns").name.tolist() == (first.frame("campaigns").name + " bis").tolist()
    for folder in (tmp_path / ".checked").iterdir():
        (folder / CHECKED).unlink()  # a copy cut short before its report: never opened
    checked_world(world)
    assert len(checks) == 3
