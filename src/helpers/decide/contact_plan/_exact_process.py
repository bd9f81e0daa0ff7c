"""The exact solver's own process (``exact.solve_exact`` starts it; the package does not import it):
python -m helpers.decide.contact_plan._exact_process PROBLEM RESULT NODE_LIMIT reads the pickled
problem and writes the pickled result of ``exact._milp``."""

import pickle
import sys
from pathlib import Path

from helpers.decide.contact_plan.exact import _milp

if __name__ == "__main__":
    problem = pickle.loads(Path(sys.argv[1]).read_bytes())
    Path(sys.argv[2]).write_bytes(pickle.dumps(_milp(problem, int(sys.argv[3]))))
