"""The one connect: DuckDB with its spill folder and memory limit, local Spark, any Ibis URL; and the
transaction-level features, Ibis expressions, give the same values on DuckDB and on Spark (local[2])
reading the world's Parquet files."""

import datetime as dt
import subprocess
import sys

import nbclient
import nbformat
import pandas as pd
import pytest

from helpers import engine, features
from helpers.data.dataset import MEMORY_LIMIT
from helpers.describe import knowledge
from helpers.paths import duckdb_spill_dir
from helpers.run.notebook import world_data

AS_OF = dt.date(2025, 12, 31)


def _settings(con) -> tuple[str, str]:
    return con.raw_sql("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]


def test_duckdb_spills_to_the_system_temporary_folder_past_its_memory_limit():
    limited, reference = engine.connect(memory_limit="2GB"), engine.connect()
    reference.raw_sql("SET memory_limit = '2GB'").fetchall()
    assert _settings(limited) == _settings(reference) == ("1.8 GiB", duckdb_spill_dir())
    assert _settings(engine.connect())[0] != "1.8 GiB", "no limit given: DuckDB's default (80% of the memory)"


def test_duckdb_never_draws_a_progress_bar_into_a_notebook_or_a_cli():
    """DuckDB turns its bar off by itself in a script (pytest, the CLI), not where ``__main__`` has no
    file (``python -c``, a REPL); in a Jupyter kernel without ipywidgets it is off and may not be set."""
    shown = "print(engine.connect().raw_sql(\"SELECT current_setting('enable_progress_bar')\").fetchall())"
    interactive = subprocess.run(
        [sys.executable, "-c", f"from helpers import engine; {shown}"], capture_output=True, text=True, check=True
    )
    assert interactive.stdout.strip() == "[(False,)]"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"from helpers import engine\n{shown}")])
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    assert [o.text.strip() for o in notebook.cells[0].outputs] == ["[(False,)]"]


def test_the_loader_keeps_its_duckdb_under_2GB(small_world):
    assert MEMORY_LIMIT == "2GB"
    assert _settings(world_data(small_world).con) == ("1.8 GiB", duckdb_spill_dir())


def test_a_memory_limit_is_duckdbs_only_and_an_ibis_url_names_its_backend():
    with pytest.raises(ValueError, match="memory_limit applies to engine='duckdb' only"):
        engine.connect("pyspark", memory_limit="2GB")
    assert engine.connect("duckdb://").name == "duckdb"


@pytest.fixture(scope="module")
def engines(small_world):
    path = small_world.table_path("transactions")
    duck = engine.read_table(engine.connect("duckdb"), path, "transactions")
    spark = engine.read_table(engine.connect("pyspark"), path, "transactions")
    return duck, spark


def _same(make, duck, spark, key):
    left = make(duck)
    right = make(spark)
    if isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left.sort_index(), right.sort_index(), check_dtype=False, check_names=False)
    else:
        left, right = (f.sort_values(key, ignore_index=True) for f in (left, right))
        for col in left.columns:
            if pd.api.types.is_datetime64_any_dtype(left[col]) or pd.api.types.is_datetime64_any_dtype(right[col]):
                left[col], right[col] = pd.to_datetime(left[col]), pd.to_datetime(right[col])
        pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False, rtol=1e-9)
    return left


@pytest.mark.parametrize(
    "name, make, key",
    [
        ("customer summary", lambda tx: features.execute(features.customer_summary(tx, AS_OF)), "customer_id"),
        ("RFM", lambda tx: features.execute(features.rfm_features(tx, AS_OF)), "customer_id"),
        (
            "calibration / holdout",
            lambda tx: features.execute(features.calibration_holdout(tx, dt.date(2024, 12, 31), AS_OF)),
            "customer_id",
        ),
        ("category shares", lambda tx: features.category_shares(tx, AS_OF).reset_index(), "customer_id"),
        ("category transitions", lambda tx: features.category_transitions(tx, AS_OF), ["previous", "category"]),
        ("order days", lambda tx: features.order_days(tx, AS_OF), ["customer_id", "day", "category"]),
        ("revenue between", lambda tx: features.revenue_between(tx, dt.date(2025, 1, 1), AS_OF), None),
        ("Pareto curve", lambda tx: knowledge.pareto_curve(tx), None),
        ("KPIs", lambda tx: knowledge.kpis(tx, AS_OF, "EUR"), None),
        ("cohort retention", lambda tx: knowledge.cohort_retention(tx, AS_OF).reset_index(), None),
    ],
)
def test_duckdb_and_spark_give_the_same_features(engines, name, make, key):
    duck, spark = engines
    result = _same(make, duck, spark, key if key is not None else [])
    assert len(result) > 0, name


def test_a_dataset_moves_its_transaction_log_to_another_engine(small_world):
    data = world_data(small_world)
    spark = data.on_engine("pyspark")
    assert spark.table("transactions").get_backend().name == "pyspark"
    assert spark.table("customers").get_backend().name == "duckdb"
    assert spark.table("transactions").count().execute() == data.table("transactions").count().execute()
    assert data.on_engine("duckdb") is data
