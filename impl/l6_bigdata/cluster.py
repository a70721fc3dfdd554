"""A real Spark standalone cluster on loopback: one master and N workers, as separate JVMs.

`local_cluster(n_workers)` starts them from the installed pyspark with its own launcher,
`<pyspark>/bin/spark-class org.apache.spark.deploy.master.Master` and `... worker.Worker
spark://127.0.0.1:<port>` (Spark's `sbin/start-*.sh` do the same), on free ports bound to
127.0.0.1, each worker with `cores` cores, `memory` of RAM and its own work folder in a temporary
directory. It waits until the master's log reports every worker registered, yields a `Cluster`
(its `url` is what `spark.session(master=...)` takes), and on leaving stops every process (SIGTERM,
then SIGKILL) and deletes the folder, also when the block raised. `Cluster.kill_worker(k)` kills
worker k outright (SIGKILL: no goodbye to the master), the way a machine dies mid-job.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from impl.checks import as_float, as_int, as_str
from impl.ports import free_port

__all__ = ["spark_class", "unavailable_reason", "Cluster", "local_cluster"]

HOST = "127.0.0.1"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
MAX_WORKERS = 8  # a 2-core box: more JVMs than this is a mistake, not a lesson
_REGISTERED = re.compile(r"Registering worker (\S+):(\d+)")
_MEMORY = re.compile(r"[1-9]\d*[mg]")


def spark_class() -> Path | None:
    """The installed pyspark's `bin/spark-class` launcher, or None without pyspark."""
    try:
        import pyspark
    except ImportError:
        return None
    path = Path(pyspark.__file__).parent / "bin" / "spark-class"
    return path if os.access(path, os.X_OK) else None


def unavailable_reason() -> str | None:
    """None when a cluster can start here, else why not (a skip reason): no java, no spark-class."""
    if spark_class() is None:
        return "pyspark's bin/spark-class is missing (pyspark not installed?)"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK)):
        return "no `java` on PATH and no JAVA_HOME: Spark needs a JVM (Java 17)"
    return None


@dataclass
class Cluster:
    """A running standalone cluster: its master URL, processes and log files."""

    url: str
    folder: Path
    master: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def master_log(self) -> Path:
        return self.folder / "master.log"

    def registered_workers(self) -> int:
        """Workers the master has registered so far (from its log)."""
        if not self.master_log.exists():
            return 0
        return len(_REGISTERED.findall(self.master_log.read_text(errors="replace")))

    def alive_workers(self) -> list[int]:
        return [k for k, worker in enumerate(self.workers) if worker.poll() is None]

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker `index` (and the executors it launched: its whole process group)."""
        index = as_int(index, "index", minimum=0, maximum=max(len(self.workers) - 1, 0))
        _kill_group(self.workers[index], signal.SIGKILL)
        self.workers[index].wait(timeout=30)


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    with open(log, "wb") as sink:  # the child keeps its own descriptor
        return subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _logs(cluster: Cluster) -> str:
    """The last lines of the master's and every started worker's log, with the workers' exit codes."""
    parts = [f"--- master log (tail):\n{cluster.master_log.read_text(errors='replace')[-2000:]}"]
    for k, worker in enumerate(cluster.workers):
        log = cluster.folder / f"worker{k}.log"
        text = log.read_text(errors="replace")[-1500:] if log.is_file() else "(no log)"
        parts.append(f"--- worker {k} (exit code {worker.poll()}, None = running) log (tail):\n{text}")
    return "\n".join(parts)


def _wait(condition, timeout_s: float, what: str, cluster: Cluster) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if cluster.master.poll() is not None:
            raise RuntimeError(f"Spark master exited ({cluster.master.returncode}) while waiting for {what}:\n"
                               + _logs(cluster))
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not seen within {timeout_s} s; the cluster is stopped.\n" + _logs(cluster))
        time.sleep(0.2)


def local_cluster(n_workers: int = 2, cores: int = 1, memory: str = "1g",
                  timeout_s: float = 120.0) -> contextlib.AbstractContextManager[Cluster]:
    """A master and `n_workers` workers on loopback for a `with` block, which gets the `Cluster`;
    leaving the block stops them all. Arguments are checked here; nothing starts before the block."""
    n_workers = as_int(n_workers, "n_workers", minimum=1, maximum=MAX_WORKERS)
    cores = as_int(cores, "cores", minimum=1, maximum=64)
    memory = as_str(memory, "memory")
    if not _MEMORY.fullmatch(memory):
        raise ValueError(f"memory must look like 512m or 1g, got {memory!r}")
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=3600.0, low_open=True)
    return _running(n_workers, cores, memory, timeout_s)


@contextlib.contextmanager
def _running(n_workers: int, cores: int, memory: str, timeout_s: float) -> Iterator[Cluster]:
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"cannot start a Spark cluster: {reason}")
    launcher = str(spark_class())
    folder = Path(tempfile.mkdtemp(prefix="claims-spark-"))
    env = dict(os.environ, SPARK_LOCAL_IP=HOST, SPARK_LOG_DIR=str(folder), SPARK_WORKER_DIR=str(folder / "work"),
               SPARK_LOCAL_DIRS=str(folder / "local"))
    port = free_port()
    master = _start([launcher, MASTER_CLASS, "--host", HOST, "--port", str(port), "--webui-port", str(free_port())],
                    folder / "master.log", env)
    cluster = Cluster(url=f"spark://{HOST}:{port}", folder=folder, master=master)
    try:
        _wait(lambda: "I have been elected leader" in cluster.master_log.read_text(errors="replace"),
              timeout_s, "the master to start", cluster)
        for k in range(n_workers):
            work = folder / f"worker{k}"
            work.mkdir()
            cluster.workers.append(_start(
                [launcher, WORKER_CLASS, "--host", HOST, "--cores", str(cores), "--memory", memory,
                 "--webui-port", str(free_port()), "--work-dir", str(work), cluster.url],
                folder / f"worker{k}.log", env))
        _wait(lambda: cluster.registered_workers() >= n_workers, timeout_s, f"{n_workers} workers to register",
              cluster)
        yield cluster
    finally:
        for process in [*cluster.workers, master]:
            _kill_group(process, signal.SIGTERM)
        for process in [*cluster.workers, master]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _kill_group(process, signal.SIGKILL)
                process.wait(timeout=15)
        shutil.rmtree(folder, ignore_errors=True)
