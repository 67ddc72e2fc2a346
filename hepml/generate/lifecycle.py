"""Worker processes of a generation end with it: on SIGTERM, Ctrl-C or ``kill -9`` of the main.

- :func:`die_with_parent` (the workers' initializer): Linux delivers SIGTERM to a worker when the
  process that started it dies, however it dies.
- :func:`sigterm_as_interrupt`: SIGTERM (SLURM's time limit) in the main process takes the path
  of Ctrl-C (finished chunks kept, workers stopped), then exits with status 143.
- :func:`stop_workers`: end the workers still running a chunk (a pool shutdown waits for them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM received: handled as an interruption (exit status 143)."""

    exit_code = 128 + signal.SIGTERM


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to send SIGTERM to this process when its parent dies (Linux only)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the main process stops its workers itself
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(f"received {signal.Signals(signum).name}")


def sigterm_as_interrupt() -> Any:
    """Make SIGTERM raise :class:`Terminated` in the main thread; return the previous handler
    (give it to :func:`restore_sigterm`), or None when not in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def restore_sigterm(previous: Any) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes (chunks in flight are lost, finished ones kept)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    if processes:
        logger.info("stopped %d worker process(es)", len(processes))
