"""An analyst's data loaded and checked once per run, written into the run folder, opened by every notebook."""

import json
import shutil

import nbformat
import pandas as pd
import pytest

from helpers.data import DataContractError, load_tables
from helpers.data.contract import PERSONAL_COLUMNS
from helpers.run.checked_data import CHECKED, is_checked, open_checked, shown_path, write_checked
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
