"""Notebook hygiene: thin, parameterised, fully executed, python3 kernel. nbval checks outputs."""

import json
import re

import nbformat
import pandas as pd
import pytest

from helpers.models.holdout import NOT_TRACKING, TRACKING_TOLERANCE
from helpers.run.execute import notebooks
from helpers.run.headlines import compose
from helpers.world.truth import SPELLED_OUT

NOTEBOOKS = notebooks()
MAX_CELL_LINES = 15


def test_there_are_notebooks():
    assert [nb.name for nb in NOTEBOOKS][:2] == ["00_generate_world.ipynb", "10_customer_knowledge.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_parameterised_and_executed(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert not [c.source[:60] for c in code if re.search(r"^\s*(def|class)\s", c.source, re.M)], (
        "functions and classes belong in src/helpers/"
    )
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert "output_dir" in params[0].source and "seed" in params[0].source
    assert all(c.execution_count is not None for c in code if c.source.strip()), "every code cell executed"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed top to bottom in one run"
    assert not [c.source[:60] for c in code if SPELLED_OUT.search(c.source)], (
        "truth column names come from helpers.world.truth"
    )
    tagged = [c for c in code if "metrics" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "write_metrics(" in tagged[0].source, "one cell tagged 'metrics' writes metrics.json"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or getattr(o, "name", "") == "stderr"]
    assert not [o for o in outputs if "0x7f" in str(o.get("data", {}).get("text/plain", ""))], "no memory addresses"


def _long_cells(path, parameters: bool) -> dict[int, int]:
    """Index -> lines of the code cells over MAX_CELL_LINES, the parameters cell or all the others."""
    nb = nbformat.read(path, as_version=4)
    return {
        i: len(c.source.splitlines())
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        and ("parameters" in c.metadata.get("tags", [])) == parameters
        and len(c.source.splitlines()) > MAX_CELL_LINES
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_cell_is_over_15_lines(path):
    long = _long_cells(path, parameters=False)
    assert not long, f"cells over {MAX_CELL_LINES} lines (index: lines): {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_parameters_cell_is_not_over_15_lines(path):
    long = _long_cells(path, parameters=True)
    assert not long, f"parameters cell over {MAX_CELL_LINES} lines (index: lines): {long}"


def _run(notebook: str, tmp_path, **parameters):
    """Execute a notebook with papermill from the repository root; return its stored outputs as text."""
    import papermill as pm

    from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT

    out = tmp_path / notebook
    pm.execute_notebook(
        str(NOTEBOOKS_DIR / notebook),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(REPO_ROOT),
        progress_bar=False,
    )
    cells = json.loads(out.read_text())["cells"]
    return json.dumps([c.get("outputs", []) for c in cells], ensure_ascii=False)


def test_knowledge_runs_on_a_bare_three_column_transactions_csv(small_world, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    small_world.table("transactions")[["customer_id", "order_date", "amount"]].to_csv(
        folder / "transactions.csv", index=False
    )
    outputs = _run("10_customer_knowledge.ipynb", tmp_path, data_dir=str(folder), output_dir=str(tmp_path / "m"))
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["customers"] == 3000 and metrics["email_opt_in_share_customers"] is None
    assert 0.3 < metrics["pareto_top20_revenue_share"] < 0.9
    assert "Skipped: consent coverage by channel needs the table consents" in outputs
    assert "Skipped: the prospects' journey needs the table customers" in outputs


@pytest.mark.parametrize("notebook", ["00_generate_world.ipynb", "10_customer_knowledge.ipynb"])
def test_reports_never_print_direct_identifiers(notebook, tmp_path):
    """On the French fixture (real-looking names, e-mails), no name or e-mail reaches an output."""
    from tests.data.test_dataset import DATA

    people = pd.read_csv(DATA / "clean_fr" / "customers.csv", sep=";", encoding="cp1252")
    outputs = _run(notebook, tmp_path, data_dir=str(DATA / "clean_fr"), output_dir=str(tmp_path / "m"))
    for value in pd.concat([people["Prénom"], people["Nom"], people["E-mail"]]):
        assert value not in outputs, value


@pytest.fixture
def bare_export(small_world, tmp_path):
    """A folder holding only transactions.csv with customer_id, order_date, amount."""
    folder = tmp_path / "bare"
    folder.mkdir()
    small_world.table("transactions")[["customer_id", "order_date", "amount"]].to_csv(
        folder / "transactions.csv", index=False
    )
    return folder


def test_segmentation_and_clv_run_on_a_bare_transaction_log(bare_export, tmp_path):
    _run("20_segment_customers.ipynb", tmp_path, data_dir=str(bare_export), output_dir=str(tmp_path / "m20"))
    segments = json.loads((tmp_path / "m20" / "metrics.json").read_text())
    assert sum(s["customer_share"] for s in segments["segments"].values()) == pytest.approx(1, abs=0.01)
    outputs = _run(
        "21_customer_lifetime_value.ipynb",
        tmp_path,
        data_dir=str(bare_export),
        calibration_end="2024-12-31",
        output_dir=str(tmp_path / "m21"),
    )
    metrics = json.loads((tmp_path / "m21" / "metrics.json").read_text())
    purchase_parameters = {"bgnbd": "r alpha a b", "mbg_nbd": "r alpha a b", "pareto_nbd": "r alpha s beta"}
    assert set(metrics["clv"]["purchases"]) == set(purchase_parameters[metrics["clv_model"]].split())
    assert set(metrics["clv"]["gamma_gamma"]) == {"p", "q", "gamma"}
    assert abs(metrics["holdout_error"]) < 0.2
    assert "Skipped: own data has no hidden truth" in outputs


def test_clv_with_an_empty_holdout_says_so_and_still_values_customers(bare_export, tmp_path):
    outputs = _run(
        "21_customer_lifetime_value.ipynb",
        tmp_path,
        data_dir=str(bare_export),
        calibration_end="2025-12-31",
        output_dir=str(tmp_path / "m"),
    )
    assert "The holdout is empty" in outputs
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["holdout_error"] is None and metrics["clv"]["total_eur"] > 0


def test_clv_when_every_customer_bought_once_explains_without_nan_tables(tmp_path):
    folder = tmp_path / "once"
    folder.mkdir()
    (folder / "transactions.csv").write_text(
        "customer_id,order_date,amount\n"
        + "\n".join(f"{i},2024-0{1 + i % 9}-1{i % 10},{20 + i}.5" for i in range(1, 60))
    )
    outputs = _run("21_customer_lifetime_value.ipynb", tmp_path, data_dir=str(folder), output_dir=str(tmp_path / "m"))
    assert "Every customer bought only once" in outputs
    assert "NaN" not in outputs


def test_next_best_offer_runs_on_customers_and_contacts_alone(small_world, tmp_path):
    """A campaign export with no transaction log: features come from the customers table only."""
    folder = tmp_path / "campaign_export"
    folder.mkdir()
    for name in ("customers", "campaigns", "contacts"):
        small_world.table(name).to_csv(folder / f"{name}.csv", index=False)
    outputs = _run("30_next_best_offer.ipynb", tmp_path, data_dir=str(folder), output_dir=str(tmp_path / "m"))
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert len(metrics["arms"]) == 6 and metrics["plan"]["contacts"] > 0
    assert all(a["ci_low"] <= a["ate_conversion"] <= a["ci_high"] for a in metrics["arms"].values())
    assert "Skipped: own data has no hidden truth" in outputs


def test_test_readout_runs_on_a_campaign_export_alone(small_world, tmp_path):
    """Own data: the past campaigns in contacts are read out; no world, so no new test is run."""
    folder = tmp_path / "campaigns_only"
    folder.mkdir()
    for name in ("campaigns", "contacts"):
        small_world.table(name).to_csv(folder / f"{name}.csv", index=False)
    outputs = _run("50_design_and_read_test.ipynb", tmp_path, data_dir=str(folder), output_dir=str(tmp_path / "m"))
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["design"]["control_for_rate"] > 0 and len(metrics["history"]) > 0
    assert "Skipped: CUPED needs a transaction log" in outputs and "Skipped: own data has no hidden truth" in outputs


def test_channel_mix_plans_from_values_supplied_by_the_analyst(small_world, tmp_path):
    customers = small_world.table("customers").query("not is_prospect").customer_id.head(300)
    pd.DataFrame(
        {"customer_id": customers, "arm": "postal · new_collection", "expected_incremental_margin": 2.0}
    ).to_csv(tmp_path / "values.csv", index=False)
    _run(
        "40_plan_channel_mix.ipynb",
        tmp_path,
        data_dir=str(small_world.path),
        values_file=str(tmp_path / "values.csv"),
        min_reach_cant_lose=0,
        output_dir=str(tmp_path / "m"),
    )
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert 0 < metrics["plan"]["contacts"] <= 300 and set(metrics["plan"]["by_channel"]) == {"postal"}


def test_triggered_scenarios_size_each_rule_on_an_export_without_consents(small_world, tmp_path):
    """Own data: no consents file, so only the letter rules may send; volumes come from the history."""
    folder = tmp_path / "orders"
    folder.mkdir()
    small_world.table("transactions")[["customer_id", "order_date", "amount", "category"]].to_csv(
        folder / "transactions.csv", index=False
    )
    outputs = _run(
        "45_automate_triggered_scenarios.ipynb", tmp_path, data_dir=str(folder), output_dir=str(tmp_path / "m")
    )
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    volumes = metrics["volumes_last_6_months"]
    assert volumes["win_back"]["sent"] > 0 and volumes["cross_sell"]["sent"] == 0  # e-mail needs an opt-in
    assert metrics["next_category"]["hit_rate_model"] > 0 and "scenarios" not in metrics
    assert "Skipped: own data has no hidden truth" in outputs
    due = pd.read_parquet(tmp_path / "m" / "exports" / "scenario_messages_due.parquet")  # a CRM list of the run
    assert list(due.columns) == ["customer_id", "rule", "channel", "offer"] and set(due.channel) <= {"postal"}


def test_the_same_notebook_on_spark_gives_the_same_figures(small_world, tmp_path):
    """engine=pyspark: the transaction log is processed by Spark (local[2]); every figure is equal."""
    figures = {}
    for engine in ("duckdb", "pyspark"):
        _run(
            "21_customer_lifetime_value.ipynb",
            tmp_path,
            data_dir=str(small_world.path),
            engine=engine,
            output_dir=str(tmp_path / engine),
        )
        figures[engine] = json.loads((tmp_path / engine / "metrics.json").read_text())
    assert figures["pyspark"] == figures["duckdb"] and figures["duckdb"]["clv"]["total_eur"] > 0


def test_a_model_that_does_not_track_the_holdout_is_flagged_in_the_notebook_and_the_report(small_world, tmp_path):
    """Purchases tripled after the calibration cut (each later order again one and two days on): no
    model fitted before the cut can track that, and notebook 21 and the report's headline say so."""
    tx = small_world.table("transactions")[["customer_id", "order_date", "amount"]]
    tx = tx.assign(order_date=pd.to_datetime(tx.order_date))
    late = tx[tx.order_date > "2025-01-01"]
    surge = pd.concat([tx, *(late.assign(order_date=late.order_date + pd.Timedelta(days=d)) for d in (1, 2))])
    folder = tmp_path / "surge"
    folder.mkdir()
    surge.assign(order_date=surge.order_date.dt.date).to_csv(folder / "transactions.csv", index=False)
    outputs = _run(
        "21_customer_lifetime_value.ipynb",
        tmp_path,
        data_dir=str(folder),
        calibration_end="2024-12-31",
        output_dir=str(tmp_path / "m"),
    )
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["holdout_error"] < -TRACKING_TOLERANCE and metrics["tracking_warning"] == NOT_TRACKING
    assert f"WARNING: {NOT_TRACKING}" in outputs
    tracking = next(h for h in metrics["headlines"] if h["id"] == "tracking")
    assert compose(tracking, metrics) == f"Warning: {NOT_TRACKING}; its values should not be used as they are."
    french = compose(tracking, metrics, language="fr", client=True)
    assert french and french.startswith("Attention") and NOT_TRACKING not in french
