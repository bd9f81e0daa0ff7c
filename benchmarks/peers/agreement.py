"""Do a peer's results agree with ours: summaries column by column, fits parameter by parameter."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

PARAMETER_TOLERANCE = 1e-3  # relative


def summary_agreement(ours_path: Path, peer_path: Path) -> str:
    """'equal (columns)' when every column the peer has matches ours on the same customers (revenue to
    the cent, dates and counts exactly, weeks and means to 1e-12 relative), else what differs."""
    ours, peer = pd.read_parquet(ours_path), pd.read_parquet(peer_path)
    if not np.array_equal(ours.customer_id.to_numpy(), peer.customer_id.to_numpy()):
        return f"customers differ ({len(ours):,} ours, {len(peer):,} peer)"
    differ = []
    columns = [c for c in ours.columns if c in peer.columns and c != "customer_id"]
    for c in columns:
        a, b = ours[c], peer[c]
        if c in ("first_order", "last_order"):
            same = pd.to_datetime(a).to_numpy() == pd.to_datetime(b).to_numpy()
        elif c == "revenue":
            same = np.round(a.to_numpy() * 100) == np.round(b.to_numpy() * 100)
        else:
            same = np.isclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-12, atol=0)
        if not same.all():
            differ.append(f"{c}: {int((~same).sum()):,} rows")
    return f"differs: {', '.join(differ)}" if differ else f"equal ({', '.join(columns)})"


def clv_agreement(ours_path: Path, peer_path: Path) -> str:
    """Largest relative parameter difference (BG/NBD and Gamma-Gamma) against the tolerance, and the
    relative difference of the total 12-month CLV."""
    ours, peer = json.loads(Path(ours_path).read_text()), json.loads(Path(peer_path).read_text())
    gaps = {
        f"{model}.{k}": abs(peer[model][k] / v - 1)
        for model in ("bgnbd", "gamma_gamma")
        for k, v in ours[model].items()
    }
    worst = max(gaps, key=gaps.get)
    verdict = "within" if gaps[worst] <= PARAMETER_TOLERANCE else "NOT within"
    clv_gap = peer["clv_total"] / ours["clv_total"] - 1
    return f"parameters {verdict} 1e-3 (worst {worst} {gaps[worst]:.1e}); total CLV {clv_gap:+.2%}"
