"""Child processes stopped as a whole tree, and what a budget's overrun reports.

`stop_tree(process)` stops a `subprocess.Popen` and every process it started, including those that put
themselves in sessions of their own (torchrun's workers, a JVM's children): the tree is read from /proc
before any signal, each process gets SIGTERM, and after `grace_s` whatever is left gets SIGKILL.
A caller whose children outlast their budget raises `BudgetExceeded`, ending with `log_tail` of their logs.

`naming(*texts)` finds processes by their command lines: what a tree walk cannot reach (a launcher's workers
that are not its children, one that has not yet written its pid file).

`same_threads_env()` is the environment for a child that must reproduce this process's float results bit for
bit: the same torch and BLAS thread counts (a reduction split over another number of threads rounds otherwise).

Children stay in the caller's process group, so a signal to the group (Ctrl-C, a CI job's timeout)
reaches them as well. A process that detached itself from the tree before the stop (a double fork whose
middle process exited) cannot be found by its parent and is not stopped.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from impl.checks import as_float, as_int, as_path

__all__ = ["BudgetExceeded", "descendants", "naming", "stop_tree", "stop_trees", "log_tail", "same_threads_env"]

TAIL_LINES = 30


class BudgetExceeded(RuntimeError):
    """A command outlasted its budget and was stopped with everything it started; the message says what it
    last wrote."""


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # the command name in (...) may hold spaces or parentheses: split after the last ')'
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return found


def naming(*texts: str) -> list[int]:
    """Every live process but this one whose command line holds each of `texts` within its arguments (a
    zombie's command line is empty, so it never matches), in pid order."""
    if not texts or not all(isinstance(text, str) and text and "\0" not in text for text in texts):
        raise ValueError(f"naming needs one or more non-empty strings without NUL, got {texts!r}")
    wanted = [text.encode() for text in texts]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
                if all(any(text in argument for argument in arguments) for text in wanted):
                    found.append(int(entry.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    """Every living process below `pid` (children, their children, ...), whatever session they are in."""
    pid = as_int(pid, "pid", minimum=1, maximum=1 << 22)
    parents = _parents()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def stop_tree(process: subprocess.Popen, grace_s: float = 5.0) -> list[int]:
    """Stop `process` and all its descendants: SIGTERM to each (and to the process group it leads), SIGKILL
    to those alive after `grace_s`; reap `process`. Returns the pids that needed SIGKILL."""
    return stop_trees([process], grace_s)


def stop_trees(processes: list[subprocess.Popen], grace_s: float = 5.0) -> list[int]:
    """`stop_tree` of several processes at once: one shared grace period, not one each."""
    if not isinstance(processes, (list, tuple)) or not all(isinstance(p, subprocess.Popen) for p in processes):
        raise TypeError(f"processes must be a list of subprocess.Popen, got {processes!r:.80}")
    grace_s = as_float(grace_s, "grace_s", low=0.0, high=600.0)
    running = [process for process in processes if process.poll() is None]  # an exited one's children were
    tree = [pid for process in running for pid in (process.pid, *descendants(process.pid))]  # reparented: unknown
    for pid in tree:  # the tree is read before any signal: orphans keep their pid
        _signal(pid, signal.SIGTERM)
    for process in running:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(process.pid) == process.pid:  # it leads a group (start_new_session): the group too
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(pid) for pid in tree):  # our exited child reads as a zombie
        time.sleep(0.05)
    killed = [pid for pid in tree if _alive(pid)]
    for pid in killed:
        _signal(pid, signal.SIGKILL)
    for process in processes:
        process.wait()
    deadline = time.monotonic() + 10.0  # orphans are reaped by init: wait until they are gone
    while any(_alive(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    return killed


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    path = as_path(path, "path")
    lines = as_int(lines, "lines", minimum=1, maximum=100_000)
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def same_threads_env() -> dict[str, str]:
    """This process's environment, with OMP_NUM_THREADS set to torch's intra-op thread count (when torch is
    loaded) and OPENBLAS_NUM_THREADS / MKL_NUM_THREADS to the BLAS pools' (when NumPy's BLAS is loaded): a child
    started with it computes as this process does now. Seen: a test run that gave each parallel worker one
    thread made a fresh process's predictions differ from its parent's in 282 of 1,000 rows."""
    from threadpoolctl import threadpool_info

    env = dict(os.environ)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_num_threads"):
        env["OMP_NUM_THREADS"] = str(torch.get_num_threads())
    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    if blas:
        env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(min(blas))
    return env
