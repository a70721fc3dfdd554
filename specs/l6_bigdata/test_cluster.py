"""Scale-out on a real Spark standalone cluster: a master and two workers (separate JVMs started
with pyspark's own `spark-class`, on loopback and free ports), one executor with one core each.

The cluster starts once for this module and is stopped (every process, its temporary folder) when
the module ends, also after a failure. Each claim connects an application of its own (two executors
start for it and end with it). The claims compare the cluster with the embedded `local[*]` session and
the aggregation with pandas. The worker-loss claim kills a worker, so it has a cluster of its own.
"""
import contextlib
import threading
import time

import numpy as np
import pandas as pd
import pytest

from impl.timing import compare
from impl.l6_bigdata import cluster, frames, rdd, scaling
from impl.l6_bigdata import spark as spark_session
from specs.l6_bigdata.corpora import zipf_corpus


REGISTER_TIMEOUT_S = 120.0  # for a new application's executors to register (a few seconds on a quiet host)


@pytest.fixture(scope="module")
def standalone(_spark_jvm):
    """The running Cluster (a master and two one-core workers), for the module's claims."""
    with _started_cluster() as running:
        yield running


@pytest.fixture
def remote(standalone):
    """A session connected to the cluster, the claim's own: its executors end with the claim."""
    with _connected(standalone) as session:
        yield session


@pytest.fixture
def own_cluster(_spark_jvm):
    """(a Cluster of the claim's own, a session on it): for a claim that kills a worker, so that the
    module's cluster stays whole whatever order the claims run in."""
    with _started_cluster() as running, _connected(running) as session:
        yield running, session


@contextlib.contextmanager
def _started_cluster():
    reason = cluster.unavailable_reason()
    if reason is not None:
        pytest.skip(f"no Spark standalone cluster can start here: {reason}")
    with cluster.local_cluster(n_workers=2, cores=1, memory="1g", timeout_s=180.0) as running:
        yield running


@contextlib.contextmanager
def _connected(running):
    with spark_session.borrowed(running.url) as session:
        deadline = time.monotonic() + REGISTER_TIMEOUT_S
        while _executors(session) < len(running.alive_workers()) and time.monotonic() < deadline:
            time.sleep(0.2)  # the workers launch the application's executors after it connects
        yield session


def _executors(spark) -> int:
    """Executors registered with the driver (the driver's own block manager not counted)."""
    return spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1


def _executor_processes(spark, n_partitions: int) -> set[int]:
    """The executor processes that ran the tasks of a small job (each task reports its daemon's parent)."""
    def where(_index, _values):
        import os
        import time as clock

        clock.sleep(0.5)  # long enough that one executor cannot take every task before the other starts
        yield os.getppid()
    return set(spark.sparkContext.parallelize(range(n_partitions), n_partitions).mapPartitionsWithIndex(where)
               .collect())


def _against_pandas(table: pd.DataFrame, reference: pd.DataFrame) -> tuple[int, float]:
    """(cells of key, n and total that differ, largest relative difference of mean_mod): a Spark
    aggregation against pandas' (both sorted by key; a missing or extra key counts every cell)."""
    columns = ["key", "n", "total"]
    if len(table) != len(reference):
        return max(len(table), len(reference)) * len(columns), float("inf")
    differing = int((table[columns].to_numpy(np.int64) != reference[columns].to_numpy(np.int64)).sum())
    mean_rel = float(np.max(np.abs(table["mean_mod"].to_numpy() - reference["mean_mod"].to_numpy())
                            / np.abs(reference["mean_mod"].to_numpy())))
    return differing, mean_rel


def _workloads(spark, t, tmp_path):
    lines = zipf_corpus(t["n_lines"] * 5, 2000, 1.1, 5, 0)
    sales = frames.sales_table(t["n_rows"], 0)
    table = frames.ingest_parquet(spark, sales, tmp_path / "sales.parquet")
    regions = frames.ingest_parquet(spark, frames.regions_table(), tmp_path / "regions.parquet")
    return {"word_count": rdd.word_count(spark, lines, 4), "summary": frames.summary_spark(table, regions),
            "aggregation": scaling.aggregation(spark, t["n_agg_rows"])}


@pytest.mark.cpu
@pytest.mark.slow
def test_standalone(claim, standalone, remote, tmp_path_factory):
    """The same jobs give the same answers on a standalone cluster (spark://127.0.0.1:<port>, a
    master and two one-core workers) as on the embedded local[*] master: the RDD word count of a
    20,000-line corpus exactly, the sales summary (50,000 rows, groupBy/agg/join) with equal keys
    and counts and sums within 1e-9 relative, and the 10^6-row aggregation exactly; and that
    aggregation equals pandas' own (row counts and sums exactly, means within 1e-9 relative). Two
    executors register, and the tasks of one job run in both.

    Course: Lesson 6, Building scalable data applications (a cluster; the local master as its stand-in).
    """
    on_cluster = _workloads(remote, claim.t, tmp_path_factory.mktemp("cluster"))
    executors, processes = _executors(remote), _executor_processes(remote, 8)
    with spark_session.borrowed("local[*]") as local:  # stops the cluster's application first
        on_local = _workloads(local, claim.t, tmp_path_factory.mktemp("local"))
    by_pandas = scaling.aggregation_pandas(claim.t["n_agg_rows"])
    claim.record(master=standalone.url, workers=len(standalone.workers), executors=executors,
                 executor_processes_used=len(processes), aggregation_keys=len(by_pandas))
    claim.expect("executors", executors, "==", len(standalone.workers))
    claim.expect("executors_running_tasks", len(processes), "==", len(standalone.workers))
    claim.expect("word_count_equal", on_cluster["word_count"] == on_local["word_count"], "==", True)
    a, b = on_cluster["summary"], on_local["summary"]
    claim.expect("summary_keys_and_counts_equal",
                 a[["region", "month", "revenue_count", "products", "orders"]].equals(
                     b[["region", "month", "revenue_count", "products", "orders"]]), "==", True)
    sum_rel = float(((a["revenue_sum"] - b["revenue_sum"]).abs() / b["revenue_sum"].abs()).max())
    claim.expect("summary_sum_rel", sum_rel, "<=", "rel_tol")
    claim.expect("aggregation_equal", on_cluster["aggregation"].equals(on_local["aggregation"]), "==", True)
    for where, table in (("cluster", on_cluster["aggregation"]), ("local", on_local["aggregation"])):
        differing, mean_rel = _against_pandas(table, by_pandas)
        claim.expect(f"aggregation_{where}_vs_pandas_cells_differing", differing, "==", 0)
        claim.expect(f"aggregation_{where}_vs_pandas_mean_rel", mean_rel, "<=", "rel_tol")


@pytest.mark.cpu
@pytest.mark.slow
@pytest.mark.perf
def test_scaling(claim, remote):
    """On the two-worker cluster, the aggregation over spark.range(2e7) split into 2 partitions
    (run by both workers' executors at once) is not slower than the same job in 1 partition (one
    worker's executor does all the work): T2 <= 1.1 T1 by the performance protocol (3 warm-up runs each,
    interleaved repeats, median of 7, judged on the ratio's 95% interval), and both give identical results.
    The speed-up and the efficiency
    T1/(2 T2) are reported, not asserted: both workers share this host's two vCPUs.

    Course: Lesson 6, Building scalable data applications (resource management: adding workers).
    """
    n_rows = claim.t["n_rows"]
    one = scaling.aggregation(remote, n_rows, 1)
    two = scaling.aggregation(remote, n_rows, 2)
    result = compare(lambda: scaling.aggregation(remote, n_rows, 1), lambda: scaling.aggregation(remote, n_rows, 2),
                     name_a="1 worker", name_b="2 workers", repeats=claim.t["repeats"], warmup=claim.t["warmup"],
                     min_time=0.05)
    speedup = 1.0 / result.ratio
    claim.record(seconds_1_worker=result.times_a, seconds_2_workers=result.times_b, speedup=speedup,
                 efficiency=speedup / 2, cv=result.cv, attempts=result.attempts)
    claim.plot("Standalone cluster: aggregation over 2e7 rows, median seconds", ["1 worker", "2 workers"],
               {"seconds": [result.median_a, result.median_b]}, xlabel="workers used", ylabel="s", kind="bar")
    claim.expect("results_equal", one.equals(two), "==", True)
    result.judge(claim, "t2_over_t1", "<=", "max_t2_over_t1")


@pytest.mark.cpu
def test_worker_loss(claim, own_cluster):
    """Killing one of the two workers (SIGKILL to the worker and its executor) while a two-stage
    job runs on both (8 map tasks of 2 s each, then reduceByKey) does not lose the job: it
    completes on the surviving worker with exactly the right per-key sums, the dead worker's
    executor drops out, and the surviving executor computes the lost work again.

    Course: Lesson 6, Building scalable data applications (fault tolerance on a cluster).
    """
    running, remote = own_cluster
    t = claim.t
    n, tracker = t["n_values"], remote.sparkContext.statusTracker()
    executors_before = _executors(remote)
    outcome: dict = {}

    def job():
        try:
            outcome["result"] = rdd.slow_keyed_sum(remote, n, t["n_partitions"], t["pause_s"])
        except Exception as exc:  # reported by the checks below, not swallowed
            outcome["error"] = exc

    runner = threading.Thread(target=job, daemon=True)
    started = time.monotonic()
    runner.start()
    deadline = started + t["timeout_s"]
    while time.monotonic() < deadline:  # until both executors are busy with map tasks
        stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
        if sum(s.numActiveTasks for s in stages if s) >= 2:
            break
        time.sleep(0.1)
    killed_at = time.monotonic() - started
    running.kill_worker(1)
    runner.join(t["timeout_s"])
    elapsed = time.monotonic() - started
    expected = {k: sum(range(k, n, 10)) for k in range(10)}
    result = outcome.get("result", {})
    survivors = set().union(*(set(executors) for _, executors in result.values())) if result else set()
    time.sleep(1.0)
    claim.record(killed_after_s=killed_at, finished_after_s=elapsed, executors_before=executors_before,
                 executors_after=_executors(remote), error=repr(outcome.get("error")),
                 executor_processes_in_result=len(survivors))
    claim.expect("job_finished", not runner.is_alive(), "==", True)
    claim.expect("job_raised", "error" in outcome, "==", False)
    claim.expect("keys_wrong", sum(result.get(k, (None,))[0] != v for k, v in expected.items()), "==", 0)
    claim.expect("workers_alive", len(running.alive_workers()), "==", 1)
    claim.expect("executors_before", executors_before, "==", 2)
    claim.expect("executors_after", _executors(remote), "==", 1)
    claim.expect("executor_processes_in_result", len(survivors), "==", 1)
