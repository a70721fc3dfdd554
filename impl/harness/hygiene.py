"""What a long pytest process owes the machine it runs on: a clean stop on SIGTERM, memory handed back.

- **SIGTERM tears down.** pytest turns Ctrl-C (SIGINT) into `KeyboardInterrupt` and still finalises
  every fixture; SIGTERM (a `kill`, a CI timeout, `make`'s children killed as a group) ends the process
  with no teardown, so a session fixture's Spark cluster, PostgreSQL server or HTTP server outlived it
  (one Spark master and two workers were found running 80 minutes after a `pkill`). While the session
  runs, SIGTERM is raised as `KeyboardInterrupt` instead; the previous handler comes back afterwards.
- **Memory back to the OS between lessons.** A worker that has finished a lesson keeps the heap its
  arrays grew to; two such workers side by side (`make test`'s layout) hold both. After a lesson's last
  item, a full collection and glibc's `malloc_trim(0)` return what was freed.
- **Each worker computes on its share of the cores.** torch's OpenMP pool and the BLAS pool size
  themselves to every core and busy-wait after each call; two workers doing so on two cores take turns
  spinning. Measured on a 2-core AVX2 EPYC: `B.autoencoder.pca_anomaly` took 23 s alone, 209 s beside one
  process running torch on 2 threads, and 34 s on 1 thread beside the same process (890 s inside a
  parallel `make test`). So under `-n N --lesson-dist` each worker runs torch and BLAS on cores // N
  threads (`CoreShare`) until the perf claims, which run alone on the last worker, get the pools back.
  A claim that pins threads itself still does (the state check restores the share after it).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import signal
import threading
from typing import Any

__all__ = ["SigtermAsInterrupt", "release_memory", "CoreShare"]


class SigtermAsInterrupt:
    """Install with `install()`, put back with `restore()`; does nothing outside the main thread."""

    def __init__(self) -> None:
        self.previous: Any = None
        self.installed = False

    @staticmethod
    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}: stopping, fixtures tear down")

    def install(self) -> None:
        if self.installed or threading.current_thread() is not threading.main_thread():
            return
        self.previous = signal.signal(signal.SIGTERM, self._raise)
        self.installed = True

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGTERM, self.previous if self.previous is not None else signal.SIG_DFL)
            self.installed = False


def _libc_trim() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


_TRIM = _libc_trim()


def release_memory() -> bool:
    """Collect every generation, then hand freed heap pages back (glibc only). True when trimmed."""
    gc.collect()
    if _TRIM is None:
        return False
    return bool(_TRIM(0))


class CoreShare:
    """torch's and the BLAS pools' threads cut to this worker's share of the cores, and given back."""

    def __init__(self) -> None:
        self.saved_torch: int | None = None
        self.blas: Any = None

    @property
    def taken(self) -> bool:
        return self.saved_torch is not None

    def take(self, workers: int) -> int:
        """Cut the pools to max(1, usable cores // workers) threads (never up); returns that share."""
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        import torch
        from threadpoolctl import threadpool_limits

        share = max(1, len(os.sched_getaffinity(0)) // workers)
        if not self.taken:
            self.saved_torch = torch.get_num_threads()
            torch.set_num_threads(min(share, self.saved_torch))
            self.blas = threadpool_limits(limits=share, user_api="blas")
        return share

    def give_back(self) -> None:
        """The pools as they were before `take` (nothing when nothing was taken)."""
        if not self.taken:
            return
        import torch

        self.blas.restore_original_limits()  # first: torch's own setting below must be the last word
        torch.set_num_threads(self.saved_torch)
        self.saved_torch, self.blas = None, None
