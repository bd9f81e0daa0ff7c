"""Strict nbval of the stored notebooks: its kernels compute as a playbook's do (``helpers.run.kernel``)."""

import os

from helpers.run.kernel import SAME_MATH_EVERYWHERE

os.environ.update(SAME_MATH_EVERYWHERE)  # nbval's kernels inherit the test process's environment
