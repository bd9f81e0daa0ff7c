"""The exact solver's own process, which needs only numpy and scipy (it starts in a fraction of a
second, where importing the package took 4 s). ``exact.solve_exact`` runs this file by its path,
``python _exact_process.py ARRAYS RESULT NODE_LIMIT``, with the mixed-integer program's arrays
pickled; ``exact`` imports ``solve`` to run it in-process too."""

import pickle
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp


def solve(c: np.ndarray, A: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray, node_limit: int) -> tuple:
    """Minimise c x over binary x with lo <= A x <= hi (HiGHS), stopping after ``node_limit``
    branch-and-bound nodes. Returns ("ok", x, objective, bound, proven) with objective and bound
    those of the minimisation, ("infeasible",) when no x satisfies the limits, or ("failed", why)."""
    if len(c) == 0:
        feasible = bool(np.all(lo <= 0) and np.all(hi >= 0))
        return ("ok", np.zeros(0), 0.0, 0.0, True) if feasible else ("infeasible",)
    res = milp(
        c,
        constraints=LinearConstraint(A, lo, hi),
        integrality=np.ones(len(c)),
        bounds=Bounds(0, 1),
        options={"node_limit": node_limit, "mip_rel_gap": 1e-9},
    )
    if res.status == 2:
        return ("infeasible",)
    if res.x is None:
        return ("failed", f"{res.message}; node limit {node_limit:,}")
    bound = float(res.mip_dual_bound) if res.mip_dual_bound is not None else float(res.fun)
    return ("ok", res.x, float(res.fun), bound, res.status == 0)


if __name__ == "__main__":
    c, A, lo, hi = pickle.loads(Path(sys.argv[1]).read_bytes())
    Path(sys.argv[2]).write_bytes(pickle.dumps(solve(c, A, lo, hi, int(sys.argv[3]))))
