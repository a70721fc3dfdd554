"""Spark RDD jobs: the MapReduce word count on Spark, task retries, lineage, a job to kill a worker in.

`word_count` runs `impl.l6_bigdata.mapreduce`'s own `mapper` and `add_counts` (or `reducer`)
unchanged: flatMap(mapper) -> reduceByKey(add_counts), which combines map-side as a Hadoop
combiner would, or groupByKey -> map(reducer), the plain streaming reducer.

`flaky_sum` sums numbers with one partition whose first attempt raises (TaskContext's
attemptNumber() == 0): under a master that allows retries (`local[N,F]`, F >= 2, or any cluster)
Spark reruns that task and the sum is right; under `local[N]` (one attempt) the job fails.

`slow_keyed_sum` is a two-stage job (map with a pause per partition -> reduceByKey) long enough to
kill a worker in while it runs; each partition's result also says which executor process computed it.
"""
from __future__ import annotations

import os
import time

from impl.checks import as_bool, as_float, as_instance, as_int, as_seed
from impl.l6_bigdata import mapreduce

__all__ = ["MAX_PARTITIONS", "word_count", "flaky_sum", "lineage_values", "slow_keyed_sum"]

MAX_PARTITIONS = 10_000


def _spark(spark):
    from pyspark.sql import SparkSession

    return as_instance(spark, "spark", SparkSession)


def word_count(spark, lines: list[str], n_partitions: int = 4, grouped: bool = False) -> dict[str, int]:
    """{word: count} of `lines` on Spark, with the MapReduce job's mapper and reducer."""
    spark = _spark(spark)
    lines = mapreduce.split(lines, 1)[0]  # validated as a list of str
    n_partitions = as_int(n_partitions, "n_partitions", minimum=1, maximum=MAX_PARTITIONS)
    grouped = as_bool(grouped, "grouped")
    pairs = spark.sparkContext.parallelize(lines, n_partitions).flatMap(mapreduce.mapper)
    if grouped:
        counts = pairs.groupByKey().map(lambda item: mapreduce.reducer(item[0], item[1]))
    else:
        counts = pairs.reduceByKey(mapreduce.add_counts)
    return dict(counts.collect())


def _fail_first_attempt(failing_partition: int):
    def task(index, values):
        from pyspark import TaskContext

        if index == failing_partition and TaskContext.get().attemptNumber() == 0:
            raise RuntimeError(f"injected failure: partition {index}, first attempt")
        yield sum(values)
    return task


def flaky_sum(spark, values: list[int], n_partitions: int = 4, failing_partition: int = 0) -> int:
    """sum(values) on Spark, where partition `failing_partition` fails on its first attempt."""
    spark = _spark(spark)
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                        for v in values):
        raise TypeError("values must be a list of int")
    n_partitions = as_int(n_partitions, "n_partitions", minimum=1, maximum=MAX_PARTITIONS)
    failing_partition = as_int(failing_partition, "failing_partition", minimum=0, maximum=n_partitions - 1)
    rdd = spark.sparkContext.parallelize(list(values), n_partitions)
    return sum(rdd.mapPartitionsWithIndex(_fail_first_attempt(failing_partition)).collect())


def lineage_values(spark, n: int, seed: int = 0, n_partitions: int = 4) -> tuple[list, list, list]:
    """A derived RDD (seeded pseudo-random keys -> squares summed per key), collected three times:
    cached, again from the cache, and after `unpersist()`, when Spark recomputes it from its lineage."""
    spark = _spark(spark)
    n = as_int(n, "n", minimum=1, maximum=10**8)
    seed = as_seed(seed)
    n_partitions = as_int(n_partitions, "n_partitions", minimum=1, maximum=MAX_PARTITIONS)

    def keyed(index, values):
        import numpy as np

        rng = np.random.default_rng([seed, index])  # per-partition stream: recomputation redraws the same
        for value in values:
            yield int(rng.integers(0, 97)), value * value

    derived = (spark.sparkContext.parallelize(range(n), n_partitions).mapPartitionsWithIndex(keyed)
               .reduceByKey(lambda a, b: a + b).sortByKey())
    derived.cache()
    first = derived.collect()
    cached = derived.collect()
    derived.unpersist(blocking=True)
    return first, cached, derived.collect()


def _slow(pause_s: float):
    def task(index, values):
        time.sleep(pause_s)
        executor = os.getppid()  # the executor's Python daemon: one per executor JVM
        for value in values:
            yield value % 10, (value, executor)
    return task


def slow_keyed_sum(spark, n: int, n_partitions: int = 8, pause_s: float = 1.0) -> dict[int, tuple[int, list[int]]]:
    """{k: (sum of v < n with v % 10 == k, executor processes that mapped them)}, each map task
    pausing `pause_s` first."""
    spark = _spark(spark)
    n = as_int(n, "n", minimum=1, maximum=10**8)
    n_partitions = as_int(n_partitions, "n_partitions", minimum=1, maximum=MAX_PARTITIONS)
    pause_s = as_float(pause_s, "pause_s", low=0.0, high=600.0)
    pairs = spark.sparkContext.parallelize(range(n), n_partitions).mapPartitionsWithIndex(_slow(pause_s))
    reduced = pairs.aggregateByKey((0, frozenset()), lambda acc, item: (acc[0] + item[0], acc[1] | {item[1]}),
                                   lambda a, b: (a[0] + b[0], a[1] | b[1]))
    return {key: (total, sorted(executors)) for key, (total, executors) in reduced.collect()}
