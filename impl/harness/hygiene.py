"""What a long pytest process owes the machine it runs on: a clean stop on SIGTERM, memory handed back.

- **SIGTERM tears down.** pytest turns Ctrl-C (SIGINT) into `KeyboardInterrupt` and still finalises
  every fixture; SIGTERM (a `kill`, a CI timeout, `make`'s children killed as a group) ends the process
  with no teardown, so a session fixture's Spark cluster, PostgreSQL server or HTTP server outlived it
  (one Spark master and two workers were found running 80 minutes after a `pkill`). While the session
  runs, SIGTERM is raised as `KeyboardInterrupt` instead; the previous handler comes back afterwards.
- **Memory back to the OS between lessons.** A worker that has finished a lesson keeps the heap its
  arrays grew to; two such workers side by side (`make test`'s layout) hold both. After a lesson's last
  item, a full collection and glibc's `malloc_trim(0)` return what was freed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import signal
import threading
from typing import Any

__all__ = ["SigtermAsInterrupt", "release_memory"]


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
