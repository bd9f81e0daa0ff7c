"""Each stage beside the libraries a user would otherwise pick, on the same data in the same run.

    .venv/bin/python benchmarks/peers/compare.py [--reps 3] [--stages summary clv] [sizes...]
    (make bench-peers SIZES="10000 100000")

Every side runs in a fresh process of its own virtual environment (.peers/<env>/, built by
`make bench-peers` from benchmarks/peers/<env>.txt; ours is the project's .venv), on the dense
retail_fr world of benchmarks/generate_world.py from the world cache. Repetitions alternate the
sides (ours first, then the peers, then the other way round), so a change of machine load hits
both; each figure is the median wall and CPU time, beside the median 1-minute load average.
Stages: the per-customer summary from Parquet (ours, polars, pandas, lifetimes up to 100k) and
BG/NBD + Gamma-Gamma fits + 12-month CLV on that summary (ours, lifetimes; pymc-marketing is not
in: its wheel could not be downloaded here).
Agreement: summaries equal column by column (revenue to the cent, the rest exactly), parameters
within 1e-3 (relative), total CLV's relative difference. Writes benchmarks/results_peers.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from agreement import clv_agreement, summary_agreement  # noqa: E402
from generate_world import cached_dense_world  # noqa: E402
from harness import save  # noqa: E402

HERE = Path(__file__).parent
REPO = HERE.parents[1]
PYTHONS = {
    "ours": REPO / ".venv/bin/python",
    **{e: REPO / f".peers/{e}/bin/python" for e in ("dataframes", "lifetimes")},
}
# stage -> side -> (environment, script, largest size it runs at)
SIDES = {
    "summary": {
        "ours": ("ours", "ours.py", None),
        "polars": ("dataframes", "polars_side.py", None),
        "pandas": ("dataframes", "pandas_side.py", None),
        "lifetimes": ("lifetimes", "lifetimes_side.py", 100_000),  # 218 s at 1M
    },
    "clv": {
        "ours": ("ours", "ours.py", None),
        "lifetimes": ("lifetimes", "lifetimes_side.py", None),
    },
}
AS_OF = "2025-12-31"


def run_side(env: str, script: str, args: list) -> dict:
    """One measured run of a side in a fresh process; the machine's 1-minute load beside it."""
    load = os.getloadavg()[0]
    done = subprocess.run(
        [str(PYTHONS[env]), str(HERE / script), *map(str, args)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"{script} {args[0]} failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": round(load, 1)}


def stage(name: str, n: int, inputs: list, folder: Path, reps: int) -> list[dict]:
    """Every side of ``name`` at size ``n``, ``reps`` alternating repetitions; one row per side."""
    built = {
        s: v for s, v in SIDES[name].items() if (PYTHONS[v[0]].parents[1] / ".installed").exists() or v[0] == "ours"
    }
    sides = {s: v for s, v in built.items() if v[2] is None or n <= v[2]}
    suffix = "json" if name == "clv" else "parquet"
    runs: dict[str, list[dict]] = {s: [] for s in sides}
    for rep in range(reps):
        for side in list(sides) if rep % 2 == 0 else list(sides)[::-1]:
            env, script, _ = sides[side]
            runs[side].append(run_side(env, script, [name, *inputs, folder / f"{name}_{side}.{suffix}"]))
    check = clv_agreement if name == "clv" else summary_agreement
    rows = []
    for side, measured in runs.items():
        row = {
            "stage": name,
            "customers": n,
            "side": side,
            "reps": reps,
            "peak_mb": max(r["peak_mb"] for r in measured),
        }
        row |= {k: statistics.median(r[k] for r in measured) for k in ("wall_s", "cpu_s", "load")}
        row["agreement"] = (
            "" if side == "ours" else check(folder / f"{name}_ours.{suffix}", folder / f"{name}_{side}.{suffix}")
        )
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    """The side-by-side table: per stage and size, ours, the fastest peer, ratio peer/ours, agreement."""
    lines = [
        "| stage | customers | ours: wall, CPU (load) | best peer: wall, CPU (load) | ratio peer/ours | agreement "
        "| other peers |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["stage"], r["customers"]) for r in rows}, key=lambda k: (list(SIDES).index(k[0]), k[1]))
    for key in keys:
        group = [r for r in rows if (r["stage"], r["customers"]) == key]
        ours = next(r for r in group if r["side"] == "ours")
        peers = sorted((r for r in group if r["side"] != "ours"), key=lambda r: r["wall_s"])
        if not peers:
            continue
        best, others = peers[0], peers[1:]
        fig = lambda r: f"{r['wall_s']:.2f} s, {r['cpu_s']:.2f} s ({r['load']:.1f})"  # noqa: E731
        rest = "; ".join(f"{r['side']} {r['wall_s']:.2f} s ({r['agreement']})" for r in others)
        lines.append(
            f"| {key[0]} | {key[1]:,} | {fig(ours)} | {best['side']} {fig(best)} | "
            f"**{best['wall_s'] / ours['wall_s']:.2f}** | {best['agreement']} | {rest} |"
        )
    return "\n".join(lines)


def main(sizes: list[int], reps: int, stages: list[str]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for n in sizes:
            world = cached_dense_world(n)
            folder = Path(root) / str(n)
            folder.mkdir()
            if "summary" in stages:
                rows += stage("summary", n, [world / "transactions.parquet", AS_OF], folder, reps)
            if "clv" in stages:
                spend = folder / "summary_with_spend.parquet"
                run_side("ours", "ours.py", ["spend", world / "transactions.parquet", AS_OF, spend])
                rows += stage("clv", n, [spend], folder, reps)
            print(table(rows), flush=True)
    save("peers", rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--stages", nargs="+", choices=list(SIDES), default=list(SIDES))
    args = parser.parse_args()
    main(args.sizes, args.reps, args.stages)
