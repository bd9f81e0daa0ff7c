"""The kernel every notebook runs on (imported when a notebook is executed: jupyter_client is not
needed before)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager
from traitlets import default

# numpy picks AVX-512 or AVX2 code for exp, log and the like at run time, and OpenBLAS its kernels
# by CPU (SkylakeX on an Intel AVX-512 Xeon, Haswell on the machines that stored the outputs): the
# paths differ in the last bit, enough to move a fitted parameter's fourth decimal (notebook 21's
# Gamma-Gamma q, 2.3815 or 2.3814) and its CLV intervals by 0.2%. Every kernel takes numpy's AVX2 path and OpenBLAS's
# Haswell kernels (any x86-64 CPU with AVX2), so stored outputs are the same on every such machine.
# (numpy only warns, with an ImportWarning hidden by default, of names a machine or build lacks.)
SAME_MATH_EVERYWHERE = {"NPY_DISABLE_CPU_FEATURES": "AVX512_SPR AVX512_ICL X86_V4", "OPENBLAS_CORETYPE": "Haswell"}
_CTRL_C = threading.Event()  # set by ``killed_on_ctrl_c``'s handler
_RUNNING: dict[int, LocalKernel] = {}  # thread id -> the kernel the notebook executed from that thread runs on
_THREADS: dict[str, str] = {}  # the thread limits of the kernels started now (``threads_each``)
THREAD_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # OpenMP (scikit-learn's trees), BLAS


@contextmanager
def threads_each(count: int) -> Iterator[None]:
    """While the block runs, every kernel started runs its OpenMP and BLAS code on at most ``count``
    threads: kernels side by side on two cores, each with its library's default of one thread per
    core, ran a warm notebook 30 next to 40 in 23 s instead of 9 s (threads waiting on a busy core spin)."""
    _THREADS.update(dict.fromkeys(THREAD_LIMITS, str(count)))
    try:
        yield
    finally:
        _THREADS.clear()


def kernel_pid(thread: int) -> int | None:
    """Process id of the kernel the notebook executed from ``thread`` runs on; None before it starts
    and after it stops."""
    kernel = _RUNNING.get(thread)
    return getattr(kernel.provisioner, "pid", None) if kernel else None


def kill_running_kernels() -> None:
    """Kill every running kernel with its process group (the model workers it started): a Ctrl-C,
    or a notebook failed while others ran beside it. Their notebooks' clients then stop with
    "Kernel died"."""
    for kernel in list(_RUNNING.values()):
        group = getattr(kernel.provisioner, "pgid", None)
        if group:
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


@contextmanager
def killed_on_ctrl_c() -> Iterator[None]:
    """While the block runs, a Ctrl-C (SIGINT) still raises KeyboardInterrupt, and the kernels are then
    killed at shutdown instead of asked to stop: a shutdown request in the middle of a cell closes the
    kernel's sockets while the cell runs on, and the kernel then prints a ZMQError traceback that
    means nothing to the user. Outside the main thread, or when SIGINT is ignored, nothing changes."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        _CTRL_C.set()
        previous(signum, frame)

    _CTRL_C.clear()
    signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class LocalKernel(AsyncKernelManager):
    """The kernel manager of every notebook run: over IPC sockets, since the kernel is local (over
    TCP, the kernel warns that its traffic is not encrypted); and a clean shutdown is a shutdown
    request alone. jupyter_client sends SIGINT before every shutdown, which an ipykernel still
    finishing a message logs as "KeyboardInterrupt caught in kernel"; a kernel that does not stop
    on the request is still killed after the manager's shutdown wait. The kernel starts with
    ``SAME_MATH_EVERYWHERE`` in its environment. Its sockets lie in a private temporary folder,
    removed at shutdown: jupyter_client's default, ``kernel-ipc-N`` in the working directory (the
    repository), with N the first free number, made two runs at once take the same socket. After a
    Ctrl-C under ``killed_on_ctrl_c`` the kernel and its worker processes are killed at once. A
    running kernel is known by the thread that executes its notebook (``kernel_pid``)."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        return str(Path(tempfile.mkdtemp(prefix="playbook-kernel-")) / "kernel")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        if not restart and _RUNNING.get(threading.get_ident()) is self:
            del _RUNNING[threading.get_ident()]
        await super()._async_cleanup_resources(restart)
        folder = Path(self.ip).parent  # the sockets' folder, ours alone
        if not restart and folder.exists():
            shutil.rmtree(folder)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["env"] = {**kw.get("env", os.environ), **SAME_MATH_EVERYWHERE, **_THREADS}
        await super()._async_launch_kernel(kernel_cmd, **kw)
        _RUNNING[threading.get_ident()] = self

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:  # type: ignore[override]  # async, as AsyncKernelManager's own
        await super().shutdown_kernel(now=now or _CTRL_C.is_set(), restart=restart)

    async def _async_interrupt_kernel(self) -> None:
        if not self.shutting_down:  # an explicit interrupt (a cell's timeout) still signals
            await super()._async_interrupt_kernel()
