"""Preflight: a playbook whose data lack a table a notebook needs is refused (or reduced) before anything
runs; `playbook check` says what the data support; the data parameters reach every notebook."""

import ast
import logging

import pytest

from helpers.run import lanes, playbook as recipes
from helpers.run.cli import main
from helpers.run.execute import notebooks
from helpers.run.notebook import DATA_PARAMETERS
from helpers.run.preflight import NO_CONSENTS, needed_tables, preflight_check, tables_found
from helpers.world.scenario import WORLD_KEYS
from tests.data.test_dataset import DATA


@pytest.fixture
def orders_only(tmp_path):
    """A folder holding only a small transactions.csv."""
    folder = tmp_path / "orders_only"
    folder.mkdir()
    rows = [f"{1 + i % 40},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{10 + i % 90}.5" for i in range(400)]
    (folder / "transactions.csv").write_text("customer_id,order_date,amount\n" + "\n".join(rows) + "\n")
    return folder


def test_each_notebook_says_what_it_needs_in_its_open_data_call():
    assert needed_tables("10_customer_knowledge") == ("transactions",)  # open_data's default
    assert needed_tables("30_next_best_offer") == ("contacts", "campaigns")
    assert needed_tables("40_plan_channel_mix") == ("contacts", "campaigns", "customers")
    assert all(needed_tables(p.stem) for p in notebooks())


def test_the_tables_of_a_folder_are_found_by_name_and_mapping_without_reading_them(orders_only):
    assert tables_found(orders_only) == ("transactions",)
    assert tables_found(DATA / "clean_fr") == ("campaigns", "customers", "transactions", "contacts")


def _no_notebook_runs(monkeypatch):
    """Fail the test if any notebook is executed (a check up front has no notebook to run: it
    takes seconds; wall-clock limits are for benchmarks, not tests)."""

    def executed(*args, **kwargs):
        raise AssertionError("a notebook was executed")

    monkeypatch.setattr(lanes, "execute_notebook", executed)


def test_reactivation_on_a_transactions_only_folder_is_refused_before_any_notebook_runs(
    orders_only, tmp_path, capsys, monkeypatch
):
    _no_notebook_runs(monkeypatch)
    out = tmp_path / "runs"
    status = main(["run", "reactivation", "--data", str(orders_only), "--out", str(out), "--no-pdf"])
    err = capsys.readouterr().err
    assert status == 1
    assert "reactivation cannot run on orders_only/ (it holds transactions)" in err
    assert "40_plan_channel_mix needs contacts, campaigns, customers" in err
    assert "50_design_and_read_test needs contacts, campaigns" in err and "if_tables_missing: skip" in err
    assert str(orders_only) not in err  # the folder's name, not the analyst's absolute path
    assert not out.exists(), "no run folder: nothing ran"


def _recipe(tmp_path, steps: str) -> recipes.Playbook:
    path = tmp_path / "custom.yml"
    path.write_text(f"title: Custom\nquestion: What runs?\nnotebooks:\n{steps}")
    return recipes.load(path)


def test_a_notebook_marked_skip_is_left_out_with_a_note_and_no_consents_said_once(orders_only, tmp_path):
    book = _recipe(
        tmp_path, "  - 10_customer_knowledge\n  - {notebook: 50_design_and_read_test, if_tables_missing: skip}\n"
    )
    flight = preflight_check(recipes.with_settings(book, data_dir=str(orders_only)))
    assert [s.notebook for s in flight.playbook.steps] == ["10_customer_knowledge"]
    assert flight.skipped == {"50_design_and_read_test": ("contacts", "campaigns")}
    assert flight.notes == (
        "Skipped 50_design_and_read_test: it needs contacts, campaigns, which the data lack.",
        NO_CONSENTS,
    )
    assert "e-mail and SMS rules send nothing" in NO_CONSENTS


def test_a_synthetic_world_holds_every_table():
    book = recipes.load("tour")
    assert preflight_check(book).playbook == book and preflight_check(book).notes == ()


def test_if_tables_missing_takes_refuse_or_skip_only(tmp_path):
    with pytest.raises(recipes.PlaybookError, match="if_tables_missing must be refuse or skip, got 'maybe'"):
        _recipe(tmp_path, "  - {notebook: 10_customer_knowledge, if_tables_missing: maybe}\n")


def test_check_prints_the_quality_report_and_what_the_data_support(orders_only, capsys, monkeypatch):
    _no_notebook_runs(monkeypatch)
    assert main(["check", "--data", str(orders_only)]) == 0
    out = capsys.readouterr().out
    assert "transactions from transactions.csv: 400 rows read, 400 kept" in out
    assert "  best_customers       yes\n" in out
    assert (
        "  tour                 yes, without 22_retain_subscribers, 30_next_best_offer, 35_nurture_prospects, " in out
    )
    assert "  retain_subscribers   no: 22_retain_subscribers needs subscriptions\n" in out
    assert "  reactivation         no: 40_plan_channel_mix needs contacts, campaigns, customers;" in out
    assert "  21_customer_lifetime_value         yes\n" in out
    assert "  30_next_best_offer                 no: needs contacts, campaigns\n" in out
    assert out.count(NO_CONSENTS) == 1


def test_the_data_parameters_reach_every_notebook_declared_or_not():
    book = recipes.with_settings(recipes.load("reactivation"), ["n_customers=3000", "engine=duckdb"])
    for step in book.steps:
        assert book.parameters_for(step)["n_customers"] == 3000 and book.parameters_for(step)["engine"] == "duckdb"
    assert "n_customers" not in recipes.notebook_parameters("40_plan_channel_mix")
    assert set(WORLD_KEYS) <= set(DATA_PARAMETERS) == set(recipes.DATA_KEYS)


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_a_notebook_declaring_a_data_parameter_declares_it_as_the_run_does(path):
    for name, declared in recipes.notebook_parameters(path.stem).items():
        if name in DATA_PARAMETERS:
            run = DATA_PARAMETERS[name]
            assert declared["type"] == run["type"], name
            assert ast.literal_eval(declared["default"]) == ast.literal_eval(run["default"]), name


def test_papermill_does_not_warn_of_the_data_parameters_only(caplog):
    import helpers.run.runs  # noqa: F401  (installs the filter)

    with caplog.at_level(logging.WARNING, logger="papermill"):
        logging.getLogger("papermill").warning("Passed unknown parameter: n_customers")
        logging.getLogger("papermill").warning("Passed unknown parameter: colour")
    assert [r.getMessage() for r in caplog.records] == ["Passed unknown parameter: colour"]
