"""The exact solver's own process, which needs only numpy and scipy (it starts in a fraction of a
second, where importing the package took 4 s). ``exact.solve_exact`` runs this file by its path,
``python _exact_process.py ARRAYS RESULT NODE_LIMIT``, with the mixed-integer program's arrays
pickled; ``exact`` imports ``solve`` to run it in-process too."""

import pickle
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp


def solve(
    c: np.ndarray, A: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray, names: list[str], node_limit: int
) -> tuple:
    """Solve the LP relaxation (its duals are the shadow prices: EUR of margin per extra unit of a
    limit); when its optimum is already integral it is the exact plan, else solve the mixed-integer
    program, stopping after ``node_limit`` nodes with the best plan found and its proven bound.
    HiGHS's presolve is off: on the default world's plan it took 68 s of the 85 s, and the search
    without it 13 s. Returns ("ok", x, objective, bound, prices, proven) with x the
    value of each variable, or ("failed", why)."""
    if len(c) == 0:
        return ("ok", np.zeros(0), 0.0, 0.0, {"budget": 0.0}, True)
    ub = [i for i, high in enumerate(hi) if np.isfinite(high)]
    lb = [i for i, low in enumerate(lo) if low > 0]
    lp = linprog(
        c,
        A_ub=sparse.vstack([A[ub], -A[lb]]).tocsr(),
        b_ub=np.concatenate([hi[ub], -lo[lb]]),
        bounds=(0, 1),
        method="highs",
    )
    marginals = lp.ineqlin.marginals[: len(ub)] if lp.status == 0 else np.full(len(ub), np.nan)
    prices = {names[i]: float(-m) for i, m in zip(ub, marginals, strict=True) if names[i] != "customer"}
    proven = True
    if lp.status == 0 and np.all(np.minimum(lp.x, 1 - lp.x) < 1e-9):
        x, objective, bound = lp.x, float(-lp.fun), float(-lp.fun)
    else:
        res = milp(
            c,
            constraints=LinearConstraint(A, lo, hi),
            integrality=np.ones(len(c)),
            bounds=Bounds(0, 1),
            options={"node_limit": node_limit, "mip_rel_gap": 1e-6, "presolve": False},
        )
        if res.x is None:
            return ("failed", f"{res.message}; node limit {node_limit:,}")
        x, objective, proven = res.x, float(-res.fun), res.status == 0
        bound = float(-res.mip_dual_bound) if res.mip_dual_bound is not None else objective
    return ("ok", x, objective, bound, prices, proven)


if __name__ == "__main__":
    c, A, lo, hi, names = pickle.loads(Path(sys.argv[1]).read_bytes())
    Path(sys.argv[2]).write_bytes(pickle.dumps(solve(c, A, lo, hi, names, int(sys.argv[3]))))
