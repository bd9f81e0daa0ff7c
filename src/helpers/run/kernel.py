"""The kernel every notebook runs on (imported when a notebook is executed: jupyter_client is not
needed before)."""

from __future__ import annotations

from jupyter_client import AsyncKernelManager
from traitlets import default


class LocalKernel(AsyncKernelManager):
    """The kernel manager of every notebook run: over IPC sockets, since the kernel is local (over
    TCP, the kernel warns that its traffic is not encrypted); and a clean shutdown is a shutdown
    request alone. jupyter_client sends SIGINT before every shutdown, which an ipykernel still
    finishing a message logs as "KeyboardInterrupt caught in kernel"; a kernel that does not stop
    on the request is still killed after the manager's shutdown wait."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    async def _async_interrupt_kernel(self) -> None:
        if not self.shutting_down:  # an explicit interrupt (a cell's timeout) still signals
            await super()._async_interrupt_kernel()
