"""The scaling workload: one Spark SQL aggregation over generated rows, and its timing.

`aggregation(spark, n_rows, n_partitions)` groups `spark.range(n_rows)` (split into `n_partitions`
partitions) on 1,000 keys derived by hashing, with sums, a mean and a count of hash/mod expressions;
the work is CPU-bound in the executors, and only 1,000 rows come back. With one partition a single
core does the map side whatever the master offers; with as many partitions as cores every core does.
`aggregation_pandas` is the same result computed by pandas/NumPy (the reference for small n).
`timings` runs a callable after warm-up and returns the per-run seconds.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from impl.checks import as_callable, as_instance, as_int

__all__ = ["N_KEYS", "aggregation", "aggregation_pandas", "timings"]

N_KEYS = 1000


def aggregation(spark, n_rows: int, n_partitions: int | None = None) -> pd.DataFrame:
    """key, n, total, mean_mod, checksum per key (sorted by key), as pandas."""
    from pyspark.sql import SparkSession, functions as F

    spark = as_instance(spark, "spark", SparkSession)
    n_rows = as_int(n_rows, "n_rows", minimum=1, maximum=10**10)
    if n_partitions is not None:
        n_partitions = as_int(n_partitions, "n_partitions", minimum=1, maximum=10_000)
    rows = spark.range(0, n_rows, 1, n_partitions)
    table = (rows.withColumn("key", F.pmod(F.col("id") * 7919, F.lit(N_KEYS)))
             .withColumn("value", F.pmod(F.col("id") * F.col("id"), F.lit(1_000_003)))
             .groupBy("key")
             .agg(F.count(F.lit(1)).alias("n"), F.sum("value").alias("total"),
                  F.avg(F.pmod("value", F.lit(97))).alias("mean_mod"),
                  F.sum(F.pmod(F.xxhash64("id"), F.lit(1_000_000))).alias("checksum"))
             .orderBy("key"))
    return table.toPandas()


def aggregation_pandas(n_rows: int) -> pd.DataFrame:
    """key, n, total, mean_mod per key by NumPy (no hash checksum: that is Spark's own xxhash64)."""
    n_rows = as_int(n_rows, "n_rows", minimum=1, maximum=10**8)
    ids = np.arange(n_rows, dtype=np.int64)
    frame = pd.DataFrame({"key": (ids * 7919) % N_KEYS, "value": (ids * ids) % 1_000_003})
    frame["mod"] = frame["value"] % 97
    grouped = frame.groupby("key")
    return pd.DataFrame({"n": grouped.size(), "total": grouped["value"].sum(),
                         "mean_mod": grouped["mod"].mean()}).reset_index()


def timings(job: Callable[[], object], repeats: int = 3, warmup: int = 1) -> list[float]:
    """Seconds of `repeats` runs of `job()` after `warmup` untimed ones."""
    job = as_callable(job, "job")
    repeats = as_int(repeats, "repeats", minimum=1, maximum=1000)
    warmup = as_int(warmup, "warmup", minimum=0, maximum=1000)
    for _ in range(warmup):
        job()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return times
