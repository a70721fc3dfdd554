"""What a claim may not leave changed: a snapshot of process-wide state, its differences, its restoration.

The plugin takes a snapshot after a claim's wider-scoped fixtures are set up and compares it with
one taken after the claim's own fixtures are torn down. A difference is a leak: the claim's verdict
is an error naming it, and the state is put back so the leak does not change the verdicts after it.

Watched: torch's intra-op threads and deterministic flag, TensorFlow's thread pools and global seed,
the BLAS/OpenMP pools (threadpoolctl), logger levels (optuna and absl among them), environment
variables, the working directory, child processes and listening sockets of this process. A framework
is looked at only if something already imported it. The global generators of `random`, NumPy and
torch are not compared but seeded per claim and restored after it (`seed_generators`).
"""
from __future__ import annotations

import hashlib
import logging
import os
import random
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

# Variables that libraries set for themselves on first import or use (not a spec's doing); never a leak.
_ENV_SET_BY_LIBRARIES = frozenset({
    "PYTEST_CURRENT_TEST",  # pytest's own
    "KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK",  # pymc / OpenMP runtimes on import
    "TF_CPP_MIN_LOG_LEVEL", "TPU_SKIP_MDS_QUERY",  # jax when its CPU backend starts (and TF users)
    "TF2_BEHAVIOR", "TPU_ML_PLATFORM", "TPU_ML_PLATFORM_VERSION", "ENABLE_RUNTIME_UPTIME_TELEMETRY",
    "HDF5_PLUGIN_PATH",  # tensorflow's import
    "_TORCHINDUCTOR_PYOBJECT_TENSOR_DATA_PTR", "TORCHINDUCTOR_CACHE_DIR", "CUDA_MODULE_LOADING",  # torch
    "PYSPARK_GATEWAY_PORT", "PYSPARK_GATEWAY_SECRET", "SPARK_AUTH_SOCKET_TIMEOUT", "SPARK_BUFFER_SIZE",
})
# Search-path variables a library may extend (pytensor puts the folder of the BLAS it links on PATH on
# its first compile): growth by folders inside this Python's prefix or holding shared libraries is
# library set-up, not a leak; any other change to them is.
_SEARCH_PATHS = ("PATH", "LD_LIBRARY_PATH")


def _library_path_growth(name: str, before: str | None, after: str | None) -> bool:
    if name not in _SEARCH_PATHS or after is None:
        return False
    old = (before or "").split(os.pathsep)
    new = after.split(os.pathsep)
    if any(entry not in new for entry in old if entry):
        return False
    return all(entry.startswith(sys.prefix) or _holds_shared_libraries(entry)
               for entry in new if entry and entry not in old)


def _holds_shared_libraries(folder: str) -> bool:
    try:
        return any(entry.name.endswith(".so") or ".so." in entry.name for entry in os.scandir(folder))
    except OSError:
        return False


@dataclass
class Snapshot:
    """Named values (compared for leaks) and the raw states needed to restore them."""

    values: dict[str, Any] = field(default_factory=dict)
    restore: dict[str, Callable[[], None]] = field(default_factory=dict)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _torch(snap: Snapshot) -> None:
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "get_num_threads"):
        return
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    snap.values["torch threads"] = threads
    snap.values["torch deterministic algorithms"] = deterministic
    snap.restore["torch threads"] = lambda: torch.set_num_threads(threads)
    snap.restore["torch deterministic algorithms"] = lambda: torch.use_deterministic_algorithms(
        deterministic, warn_only=warn_only)


def _tensorflow(snap: Snapshot) -> None:
    if "tensorflow" not in sys.modules:
        return
    try:
        from tensorflow.python.eager import context
    except ImportError:  # tensorflow half-imported (an import failed inside it): nothing to watch
        return
    threads = sys.modules["tensorflow"].config.threading
    seed = context.global_seed()
    snap.values["tf intra-op threads"] = threads.get_intra_op_parallelism_threads()
    snap.values["tf inter-op threads"] = threads.get_inter_op_parallelism_threads()
    snap.values["tf global seed"] = seed
    snap.restore["tf global seed"] = lambda: context.set_global_seed(seed)


def _blas(snap: Snapshot) -> None:
    from threadpoolctl import threadpool_info

    # Keyed by library file: a library loaded during the claim brings a new pool, which is no leak.
    snap.values["BLAS/OpenMP thread pools"] = {f"{pool['internal_api']} {pool['filepath']}": pool["num_threads"]
                                              for pool in threadpool_info()}


def seed_generators(label: str) -> Callable[[], None]:
    """Seed Python's, NumPy's and torch's global generators from `label` (a claim id); return the undo.

    As pytest-randomly does: whatever a claim draws from a global generator is the same whichever claims
    ran before it, and the caller's generators come back afterwards. Draws are therefore no leak; a
    claim's explicit seeds are still its own parameters.
    """
    seed = int.from_bytes(hashlib.sha256(label.encode()).digest()[:4], "little")
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch = sys.modules.get("torch")
    torch_state = torch.random.get_rng_state() if torch is not None and hasattr(torch, "random") else None
    random.seed(seed)
    np.random.seed(seed)
    if torch_state is not None:
        torch.manual_seed(seed)

    def undo() -> None:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if torch_state is not None:
            torch.random.set_rng_state(torch_state)

    return undo


def _loggers(snap: Snapshot) -> None:
    manager = logging.Logger.manager
    levels = {"<root>": logging.getLogger().level}
    levels.update({name: logger.level for name, logger in manager.loggerDict.items()
                   if isinstance(logger, logging.Logger)})
    snap.values["logger levels"] = levels

    def restore() -> None:
        for name, level in levels.items():
            (logging.getLogger() if name == "<root>" else logging.getLogger(name)).setLevel(level)

    snap.restore["logger levels"] = restore


def _environment(snap: Snapshot) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in _ENV_SET_BY_LIBRARIES}
    cwd = os.getcwd()
    snap.values["environment variables"] = environ
    snap.values["working directory"] = cwd

    def restore_env() -> None:
        for name in set(os.environ) - set(environ) - _ENV_SET_BY_LIBRARIES:
            del os.environ[name]
        os.environ.update(environ)

    snap.restore["environment variables"] = restore_env
    snap.restore["working directory"] = lambda: os.chdir(cwd)


def _processes(snap: Snapshot) -> None:
    import psutil

    me = psutil.Process()
    children = {}
    for child in me.children(recursive=True):
        try:
            children[child.pid] = " ".join(child.cmdline()[:4])[:120]
        except psutil.Error:  # exited meanwhile
            continue
    snap.values["child processes"] = children
    listening = set()
    for conn in me.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN:
            listening.add(f"{conn.laddr.ip}:{conn.laddr.port}")
    snap.values["listening sockets"] = sorted(listening)

    def stop_new_children() -> None:
        for child in me.children(recursive=True):
            if child.pid not in children:
                try:
                    child.kill()
                except psutil.Error:
                    pass

    snap.restore["child processes"] = stop_new_children


_PARTS = (_torch, _tensorflow, _blas, _loggers, _environment, _processes)


def take() -> Snapshot:
    snap = Snapshot()
    for part in _PARTS:
        part(snap)
    return snap


def _describe(name: str, before: Any, after: Any) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        parts = []
        if name == "logger levels":  # a logger created during the claim (a library's import) is no leak
            added = []
        if name == "environment variables":
            changed = [k for k in changed if not _library_path_growth(k, before[k], after[k])]
            added = [k for k in added if not _library_path_growth(k, None, after[k])]
        if name == "BLAS/OpenMP thread pools":  # only a pool that existed before can be left changed
            added = removed = []
        if name == "child processes":
            return f"{name}: left running {', '.join(f'{pid} ({after[pid]})' for pid in added)}" if added else ""
        if added:
            parts.append("added " + ", ".join(f"{k}={after[k]!r}" for k in added[:5]))
        if removed:
            parts.append("removed " + ", ".join(removed[:5]))
        if changed:
            parts.append("changed " + ", ".join(f"{k}: {before[k]!r} -> {after[k]!r}" for k in changed[:5]))
        return f"{name}: {'; '.join(parts)}" if parts else ""
    if name == "listening sockets":
        new = sorted(set(after) - set(before))
        return f"{name}: left open {', '.join(new)}" if new else ""
    return f"{name}: {before!r} -> {after!r}"


CHILD_EXIT_GRACE_S = 10.0  # a framework stops its helpers asynchronously (a Spark worker kills an executor it was
                          # still launching when the application ended): a child gone within this is no leak


def take_after(before: Snapshot, grace_s: float = CHILD_EXIT_GRACE_S) -> Snapshot:
    """The snapshot to compare with `before`: taken again once the child processes started since `before`
    have had `grace_s` seconds to exit on their own (waited for only when there are any)."""
    import psutil

    after = take()
    new = set(after.values["child processes"]) - set(before.values["child processes"])
    if not new:
        return after
    running = []
    for pid in new:
        try:
            running.append(psutil.Process(pid))
        except psutil.Error:  # already gone
            continue
    psutil.wait_procs(running, timeout=grace_s)
    return take()


def leaks(before: Snapshot, after: Snapshot) -> list[str]:
    """One line per watched item that differs (something watched only after, e.g. a framework the claim
    imported, is compared from its defaults: not at all)."""
    found = []
    for name, value in before.values.items():
        if name in after.values and after.values[name] != value:
            line = _describe(name, value, after.values[name])
            if line:
                found.append(line)
    return found


def restore(before: Snapshot, names: list[str]) -> None:
    """Put back what leaked (the restorable items among `names`' leading words)."""
    for line in names:
        item = line.partition(":")[0]
        undo = before.restore.get(item)
        if undo is not None:
            try:
                undo()
            except Exception:  # restoring is best effort; the leak is already reported
                pass
