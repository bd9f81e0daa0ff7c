"""What every side of the peer comparison prints: the wall and CPU time of the measured block (all
threads) and the process's peak memory, as one JSON line. Imported by the sides in each peer's own
virtual environment, so it needs nothing but the standard library."""

import json
import time
from pathlib import Path


class Measured:
    """``with Measured() as m: ...`` then ``m.report(**figures)``: wall_s, cpu_s and peak_mb (VmHWM of
    this process, since its start) printed with ``figures``."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def report(self, **figures) -> None:
        status = Path("/proc/self/status").read_text()
        peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
        print(
            json.dumps(
                {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 3), "peak_mb": peak_kb // 1024, **figures}
            )
        )
