"""Every benchmark of the project, one table: stage, customers, rows, wall seconds, peak memory.

    .venv/bin/python benchmarks/all.py [--quick | --smoke]      # make bench

Runs each benchmark script at 10k, 100k and 1M customers (the tour playbook as a whole and notebook
by notebook; the chunked 10M-customer / 200M-transaction aggregation once), prints the table and writes
benchmarks/results.json. --quick stops at 100k and skips the 10M aggregation; --smoke runs
everything once at 2,000 customers, to check the scripts. Each script also runs alone.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import channels  # noqa: E402
import clv  # noqa: E402
import features  # noqa: E402
import generate_world  # noqa: E402
import load_tables  # noqa: E402
import playbook  # noqa: E402
import scale  # noqa: E402
import uplift  # noqa: E402


def rows(sizes: list[int], chunked: bool) -> list[dict]:
    """Run every benchmark at ``sizes`` customers (and the 10M chunked aggregation if ``chunked``)
    and return the table's rows."""
    table = []

    def add(stage, customers, n_rows, wall, peak):
        table.append({"stage": stage, "customers": customers, "rows": n_rows, "wall_s": wall, "peak_mb": peak})

    for r in generate_world.main(sizes):
        add("world generation", r["customers"], r["transactions"], r["wall_s"], r["peak_mb"])
    for r in load_tables.main([20 * n for n in sizes]):
        add(f"load and validate ({r['format']})", None, r["rows"], r["wall_s"], r["peak_mb"])
    for r in features.main(sizes):
        add(
            f"features on {'DuckDB' if r['engine'] == 'duckdb' else 'Spark local[2]'}"
            + ("" if r["identical"] else " (VALUES DIFFER)"),
            r["customers"],
            r["transactions"],
            r["wall_s"],
            r["peak_mb"],
        )
    for r in clv.main(sizes):
        add(
            "CLV: features + BG/NBD + Gamma-Gamma",
            r["customers"],
            r["transactions"],
            r["features_and_fits_s"],
            r["peak_mb"],
        )
    for r in uplift.main(sizes):
        add(f"uplift fit + scoring ({r['arms']} arms)", r["customers"], r["customers"], r["total_s"], r["peak_mb"])
    for r in channels.main(sizes):
        add(
            f"contact plan ({r['channels']} channels)",
            r["customers"],
            r["customers"] * r["channels"],
            r["wall_s"],
            r["peak_mb"],
        )
    for r in playbook.main(sizes):
        for name, step in r["notebooks"].items():
            add(f"tour: {name}", r["customers"], None, step["wall_s"], step["peak_mb"])
        add(
            f"tour playbook ({len(r['notebooks'])} notebooks + report)", r["customers"], None, r["wall_s"], r["peak_mb"]
        )
    if chunked:
        for r in scale.main():
            add("features on DuckDB, chunked Parquet", r["customers"], r["transactions"], r["wall_s"], r["peak_mb"])
    return table


def main(mode: str = "full") -> None:
    sizes = {"full": [10_000, 100_000, 1_000_000], "quick": [10_000, 100_000], "smoke": [2_000]}[mode]
    table = rows(sizes, chunked=mode == "full")
    print(f"\n{'stage':<44} {'customers':>11} {'rows':>13} {'wall s':>8} {'peak MB':>8}")
    for r in table:
        customers, n_rows = (f"{v:,}" if v else "" for v in (r["customers"], r["rows"]))
        print(f"{r['stage']:<44} {customers:>11} {n_rows:>13} {r['wall_s']:>8.2f} {r['peak_mb']:>8,}")
    (Path(__file__).with_name("results.json")).write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main("quick" if "--quick" in sys.argv[1:] else "smoke" if "--smoke" in sys.argv[1:] else "full")
