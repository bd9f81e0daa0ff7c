"""Peak memory of processes, as this machine's kernel records it: for the runner's per-notebook
figure and the benchmarks. Linux ``VmHWM`` is each process's own high-water mark; ru_maxrss is
not (a process started from a large parent starts at the parent's size)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psutil

GONE = (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError)  # ended while being read


class PeakMemory:
    """Peak resident memory (bytes) of the processes this process starts while the block runs and
    their descendants: a notebook's kernel and whatever it starts (a Spark JVM). Sampled every
    ``interval`` seconds as the sum over the process tree, and never below a process's own
    high-water mark (Linux ``VmHWM``), so a kernel's peak between two samples is not missed. Given
    ``root`` (the pid of one process, None while it is not running), only that process and its
    descendants count: one notebook's kernel while others run beside it."""

    def __init__(self, interval: float = 0.5, root: Callable[[], int | None] | None = None):
        self.interval, self.peak, self._root = interval, 0, root
        self._before: set[int] = set()
        self._cmdline = psutil.Process().cmdline()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._before = {process.pid for process in psutil.Process().children(recursive=True)}
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval):
                return

    def _processes(self) -> list[psutil.Process]:
        if self._root is None:
            return psutil.Process().children(recursive=True)
        pid = self._root()
        try:
            root = psutil.Process(pid) if pid else None
            return [root, *root.children(recursive=True)] if root else []
        except GONE:
            return []

    def _sample(self) -> None:
        total = 0
        for process in self._processes():
            if process.pid in self._before:
                continue
            try:
                if process.cmdline() == self._cmdline:
                    continue  # forked and not yet running its program: its pages are this process's
                total += process.memory_info().rss
                self.peak = max(self.peak, _high_water_mark(process))
            except GONE:
                continue  # the process ended between listing and reading: its memory is gone
        self.peak = max(self.peak, total)


def tree_peak(pid: int | None = None) -> int:
    """Peak resident memory (bytes) of a process (default: this one) plus its live descendants, the
    sum of each one's own high-water mark. Unlike ru_maxrss, which a process started from a large
    parent inherits (Linux copies the parent's at fork), it is the process's own."""
    root = psutil.Process(pid)
    total = 0
    for process in (root, *root.children(recursive=True)):
        try:
            total += _high_water_mark(process)
        except GONE:
            continue
    return total


def _high_water_mark(process: psutil.Process) -> int:
    """A process's peak resident memory in bytes (Linux ``VmHWM``); its current one where /proc is absent."""
    if not Path("/proc").is_dir():
        return process.memory_info().rss
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return process.memory_info().rss
