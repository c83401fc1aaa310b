"""One BLAS thread for the small matrix products of the extractor, however many threads ask."""

from __future__ import annotations

import threading
from functools import cache
from types import TracebackType
from typing import Any

from threadpoolctl import OpenBLASController, ThreadpoolController


class OneBlasThread:
    """A block in which numpy's matrix products use one thread (re-entrant, thread-safe).

    The extractor's products are small (a call's segments against a few hundred prototypes or
    model weights): a second BLAS thread only waits for work, spinning, and on a busy 2-core
    machine that cost 0.9 CPU-s of prototype similarities over the 44 demo calls, 0.05 s on
    one thread. The limit is process-wide, so it is counted: the first block in sets it, the
    last one out restores what was there (two overlapping blocks restoring in turn would leave
    the process on one thread). A rebuild's large products running meanwhile use one thread
    too: slower for that while, same results. threadpoolctl lets only the thread that set
    OpenBLAS's limit change it again; here the lock orders the changes, so each one hands
    that control back and the last thread out, whichever it is, can restore.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._limiter: Any = None  # threadpoolctl's limiter, while a block runs

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._limiter = _controller().limit(limits=1, user_api="blas")
                OpenBLASController.clear_controlling_thread(force=True)
            self._users += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                OpenBLASController.clear_controlling_thread(force=True)
                self._limiter = None


@cache
def _controller() -> ThreadpoolController:
    """The loaded BLAS libraries, found once (a scan of the process's shared objects)."""
    return ThreadpoolController()


one_blas_thread = OneBlasThread()
