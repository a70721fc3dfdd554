"""Scale-out on a real Spark standalone cluster: a master and two workers (separate JVMs started
with pyspark's own `spark-class`, on loopback and free ports), one executor with one core each.

The cluster starts once for this module and is stopped (every process, its temporary folder) when
the module ends, also after a failure. The claims compare it with the embedded `local[*]` session.
The worker-loss claim kills a worker, so it runs last.
"""
import threading
import time

import pytest

from impl.harness.bench import compare
from impl.l6_bigdata import cluster, frames, rdd, scaling
from impl.l6_bigdata import spark as spark_session
from specs.l6_bigdata.corpora import zipf_corpus


@pytest.fixture(scope="module")
def standalone(_spark_run):
    """(the running Cluster, a SparkSession connected to it)."""
    reason = cluster.unavailable_reason()
    if reason is not None:
        pytest.skip(f"no Spark standalone cluster can start here: {reason}")
    with cluster.local_cluster(n_workers=2, cores=1, memory="1g", timeout_s=180.0) as running:
        spark_session.stop()
        try:
            yield running, spark_session.session(running.url)
        finally:
            spark_session.stop()


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


def _workloads(spark, t, tmp_path):
    lines = zipf_corpus(t["n_lines"] * 5, 2000, 1.1, 5, 0)
    sales = frames.sales_table(t["n_rows"], 0)
    table = frames.ingest_parquet(spark, sales, tmp_path / "sales.parquet")
    regions = frames.ingest_parquet(spark, frames.regions_table(), tmp_path / "regions.parquet")
    return {"word_count": rdd.word_count(spark, lines, 4), "summary": frames.summary_spark(table, regions),
            "aggregation": scaling.aggregation(spark, t["n_agg_rows"])}


@pytest.mark.cpu
@pytest.mark.slow
def test_standalone(claim, standalone, tmp_path_factory):
    """The same jobs give the same answers on a standalone cluster (spark://127.0.0.1:<port>, a
    master and two one-core workers) as on the embedded local[*] master: the RDD word count of a
    20,000-line corpus exactly, the sales summary (50,000 rows, groupBy/agg/join) with equal keys
    and counts and sums within 1e-9 relative, and the 10^6-row aggregation exactly. Two
    executors register, and the tasks of one job run in both.

    Course: Lesson 6, Building scalable data applications (a cluster; the local master as its stand-in).
    """
    running, remote = standalone
    on_cluster = _workloads(remote, claim.t, tmp_path_factory.mktemp("cluster"))
    executors, processes = _executors(remote), _executor_processes(remote, 8)
    spark_session.stop()
    try:
        on_local = _workloads(spark_session.session("local[*]"), claim.t, tmp_path_factory.mktemp("local"))
    finally:
        spark_session.stop()
        spark_session.session(running.url)  # the module's next claims run on the cluster again
    claim.record(master=running.url, workers=len(running.workers), executors=executors,
                 executor_processes_used=len(processes))
    claim.expect("executors", executors, "==", len(running.workers))
    claim.expect("executors_running_tasks", len(processes), "==", len(running.workers))
    claim.expect("word_count_equal", on_cluster["word_count"] == on_local["word_count"], "==", True)
    a, b = on_cluster["summary"], on_local["summary"]
    claim.expect("summary_keys_and_counts_equal",
                 a[["region", "month", "revenue_count", "products", "orders"]].equals(
                     b[["region", "month", "revenue_count", "products", "orders"]]), "==", True)
    sum_rel = float(((a["revenue_sum"] - b["revenue_sum"]).abs() / b["revenue_sum"].abs()).max())
    claim.expect("summary_sum_rel", sum_rel, "<=", "rel_tol")
    claim.expect("aggregation_equal", on_cluster["aggregation"].equals(on_local["aggregation"]), "==", True)


@pytest.mark.cpu
@pytest.mark.slow
@pytest.mark.perf
def test_scaling(claim, standalone):
    """On the two-worker cluster, the aggregation over spark.range(2e7) split into 2 partitions
    (run by both workers' executors at once) is not slower than the same job in 1 partition (one
    worker's executor does all the work): T2 <= 1.1 T1 by the performance protocol (3 warm-up runs each,
    interleaved repeats, median of 3 quick / 7 full), and both give identical results. The speed-up and the efficiency
    T1/(2 T2) are reported, not asserted: both workers share this host's two vCPUs.

    Course: Lesson 6, Building scalable data applications (resource management: adding workers).
    """
    running, remote = standalone
    remote = spark_session.session(running.url)
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
    result.require_quiet()
    claim.expect("t2_over_t1", result.ratio, "<=", "max_t2_over_t1")


@pytest.mark.cpu
def test_worker_loss(claim, standalone):
    """Killing one of the two workers (SIGKILL to the worker and its executor) while a two-stage
    job runs on both (8 map tasks of 2 s each, then reduceByKey) does not lose the job: it
    completes on the surviving worker with exactly the right per-key sums, the dead worker's
    executor drops out, and the surviving executor computes the lost work again.

    Course: Lesson 6, Building scalable data applications (fault tolerance on a cluster).
    """
    running, remote = standalone
    remote = spark_session.session(running.url)
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
