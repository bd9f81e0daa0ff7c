"""The one place that makes an Ibis backend: where tables live and expressions run.

con = connect()                           # embedded DuckDB, spilling to the system's temporary folder, no progress bar
con = connect(memory_limit="2GB")         # ... and spilling past 2 GB of memory
con = connect("pyspark")                  # a local Spark session (two cores)
tx = read_table(con, "transactions.parquet", "transactions")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from helpers.paths import duckdb_spill_dir

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def connect(engine: str = "duckdb", memory_limit: str | None = None) -> ibis.BaseBackend:
    """An Ibis backend: ``duckdb`` (embedded, default; it spills to ``paths.duckdb_spill_dir()``
    past ``memory_limit``, e.g. "2GB", else past DuckDB's default of 80% of the memory),
    ``pyspark`` (a local Spark session), a Spark master URL (``spark://host:7077``, ``yarn``,
    ``k8s://...``: a session on that cluster) or any Ibis connection URL (``postgres://...``,
    ``snowflake://...``). ``memory_limit`` is DuckDB's only. DuckDB draws no progress bar: it would
    print into a notebook's outputs or a CLI's lines whenever a query runs past two seconds."""
    if engine == "duckdb":
        limit = {"memory_limit": memory_limit} if memory_limit else {}
        con = ibis.duckdb.connect(temp_directory=duckdb_spill_dir(), **limit)
        # On in a Jupyter kernel with ipywidgets; without them it is off and may not be set. Every result
        # is read to its end: one left unread keeps the connection busy for the next statement.
        if con.con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]:
            con.con.execute("SET enable_progress_bar = false").fetchall()
        return con
    if memory_limit:
        raise ValueError(f"memory_limit applies to engine='duckdb' only, not {engine!r}")
    if engine == "pyspark":
        return ibis.pyspark.connect(spark_session())
    if engine.startswith(("spark://", "k8s://", "yarn")):
        return ibis.pyspark.connect(spark_session(master=engine))
    return ibis.connect(engine)


def spark_session(master: str = "local[2]", memory: str = "4g") -> SparkSession:
    """A Spark session on ``master`` (local mode on two cores by default) with ``memory`` for the
    driver and the time zone set to UTC, so dates do not shift."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("relation-playbooks")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.log.level", "ERROR")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )


def read_table(con: ibis.BaseBackend, path: str | Path, name: str) -> ibis.Table:
    """A Parquet file (or a glob of them) as an Ibis table registered under ``name`` on ``con``."""
    return con.read_parquet(str(path), table_name=name)
