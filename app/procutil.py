"""Process helpers shared by `serve` (its local worker) and the worker (its job children)."""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Ask Linux to send `signum` to this process when its parent dies, however it dies.

    `finally` blocks do not run when the parent is SIGKILLed (or when uvicorn re-raises SIGTERM
    after its graceful shutdown), so cleanup by the parent alone would leave orphans running.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signum))
    except (OSError, AttributeError):  # not Linux: the parent's own cleanup is all there is
        pass
