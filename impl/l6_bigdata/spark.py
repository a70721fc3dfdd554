"""The process's one SparkSession, the setting that picks its master, and sessions lent for a block.

`CLAIMS_SPARK_MASTER` selects the master: `local[*]` (the embedded default: one JVM, one thread per
core), `local[N]`, `local[N,F]` (N threads, each task tried up to F times) or `spark://host:port`
(a standalone cluster, such as the one `cluster.local_cluster()` starts on loopback). `session()`
builds the session on first use with the course's settings (UI off, 4 shuffle partitions, driver
bound to 127.0.0.1) and returns the same object afterwards; `stop()` ends it, so that a spec which
needs another master (scaling, retries) can stop it, use its own, and leave the next caller a fresh one.
Starting the JVM costs about 10 s; a new context in the running JVM costs ~0.1 s (plus ~0.7 s for its
first Python task). So a test run starts the JVM once (`launch_jvm()`, before any claim) and each claim
borrows a context for itself (`borrowed(master)`): on leaving, the context is stopped and the processes
it started (its Python workers, a standalone cluster's executors) are gone, so a claim leaves no process,
socket or environment variable behind. Callers should ask `session()` each time rather than keep the
object for long: another claim may have stopped it to switch masters.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time

from impl import paths
from impl.checks import as_float, as_str

__all__ = ["MASTER_ENV", "DEFAULT_MASTER", "SETTINGS", "configured_master", "session", "stop", "launch_jvm",
           "borrowed"]

MASTER_ENV = "CLAIMS_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
# spark.ui.enabled: no web UI port to collide on while six jobs share a box; 4 shuffle partitions
# instead of 200 (a 2-core machine and tables of 10^5 rows: 200 near-empty tasks would cost seconds);
# the driver listens on loopback only (nothing here is reachable from outside, nor needs to be).
SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # toPandas via Arrow: 200k rows in ~1 s, not ~8 s
    "spark.python.worker.reuse": "true",
    "spark.ui.showConsoleProgress": "false",
}
_MASTER = re.compile(r"local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|spark://[\w.\-]+:\d{1,5}")
_LOCK = threading.Lock()
_SESSION = None  # the cached SparkSession
_SESSION_MASTER: str | None = None


def _valid_master(value, name: str) -> str:
    value = as_str(value, name)
    if not _MASTER.fullmatch(value):
        raise ValueError(f"{name} must be local, local[N], local[*], local[N,F] or spark://host:port, got {value!r}")
    return value


def configured_master() -> str:
    """The configured master: $CLAIMS_SPARK_MASTER, else `local[*]` (checked either way)."""
    return _valid_master(os.environ.get(MASTER_ENV) or DEFAULT_MASTER, MASTER_ENV)


def session(master: str | None = None, app_name: str = "ml-claims"):
    """The process's SparkSession, created on first call with `SETTINGS`.

    `master=None` uses `configured_master()`. Asking for another master than the running session's is an
    error (Spark keeps one context per JVM): call `stop()` first.
    """
    global _SESSION, _SESSION_MASTER
    wanted = configured_master() if master is None else _valid_master(master, "master")
    app_name = as_str(app_name, "app_name")
    with _LOCK:
        if _SESSION is not None and _SESSION.sparkContext._jsc is not None:
            if wanted != _SESSION_MASTER:
                raise ValueError(f"master {wanted!r} asked for, but a session on {_SESSION_MASTER!r} is "
                                 "running: call stop() first")
            return _SESSION
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.master(wanted).appName(app_name)
        for key, value in {**SETTINGS, **_python_settings()}.items():
            builder = builder.config(key, value)
        with _local_ip_for_jvm():
            _SESSION, _SESSION_MASTER = builder.getOrCreate(), wanted
        _SESSION.sparkContext.setLogLevel("ERROR")
        return _SESSION


@contextlib.contextmanager
def _local_ip_for_jvm():
    """SPARK_LOCAL_IP=127.0.0.1 (unless set) for a JVM launched inside, which copies os.environ when it
    starts: Spark binds its services to loopback whatever the host name resolves to. Ours is put back."""
    if "SPARK_LOCAL_IP" in os.environ:
        yield
        return
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    try:
        yield
    finally:
        os.environ.pop("SPARK_LOCAL_IP", None)


def _python_settings() -> dict[str, str]:
    """Executors run this interpreter with the project importable, wherever their work folder is
    (a standalone worker starts them in its own folder), so tasks can call impl functions."""
    path = os.pathsep.join(p for p in (str(paths.ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {"spark.pyspark.python": sys.executable, "spark.pyspark.driver.python": sys.executable,
            "spark.executorEnv.PYTHONPATH": path}


def stop() -> None:
    """Stop the cached session (if any) and its JVM context; the next `session()` starts afresh."""
    global _SESSION, _SESSION_MASTER
    with _LOCK:
        if _SESSION is not None:
            _SESSION.stop()
        _SESSION, _SESSION_MASTER = None, None


def launch_jvm() -> None:
    """Start the JVM that this process's sessions run in (~10 s, once), keeping no context: call it
    before the claims (a session-scoped fixture), so that no claim is the one that started it."""
    session()
    stop()


# What a context starts and stopping it ends: Python workers, and a standalone cluster's executors.
_CONTEXT_PROCESSES = ("pyspark.daemon", "pyspark.worker", "CoarseGrainedExecutorBackend")


def _context_processes() -> dict[int, object]:
    import psutil

    found = {}
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any(marker in " ".join(process.cmdline()) for marker in _CONTEXT_PROCESSES):
                found[process.pid] = process
    return found


def borrowed(master: str | None = None, app_name: str = "ml-claims", settle_s: float = 30.0):
    """A context manager lending a session on `master` (None: `configured_master()`) for a `with` block.

    Any running session is stopped first. On leaving, the session is stopped and the Python workers and
    executors it started are waited for (`settle_s` at most; those still alive then are killed)."""
    if master is not None:
        _valid_master(master, "master")
    app_name = as_str(app_name, "app_name")
    settle_s = as_float(settle_s, "settle_s", low=0.0, high=600.0)
    return _borrowed(master, app_name, settle_s)


@contextlib.contextmanager
def _borrowed(master: str | None, app_name: str, settle_s: float):
    stop()
    before = set(_context_processes())
    try:
        yield session(master, app_name)
    finally:
        stop()
        deadline = time.monotonic() + settle_s
        left = {pid: p for pid, p in _context_processes().items() if pid not in before}
        while left and time.monotonic() < deadline:  # a cluster's worker ends its executors after the app
            time.sleep(0.1)
            left = {pid: p for pid, p in left.items() if _alive(p)}
        for process in left.values():
            with contextlib.suppress(Exception):
                process.kill()


def _alive(process) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
