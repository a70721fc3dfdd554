"""Lesson 6's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind. Whatever needs Spark, a cluster or torchrun is a HeavyCase:
its bad calls must be refused before a JVM, a process or a file is touched. Its good Spark values
(a session, tables, a model) are built lazily from the claim's own session and dropped when it ends.
"""
import functools

import numpy as np

from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Choice, Count, Flag, Instance, Labels, Lazy, Matrix, Optional, PathArg, Real, Seed, Text,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l6_bigdata import cluster, ddp, frames, mapreduce, ml, rdd, scaling
from impl.l6_bigdata import spark as spark_session

SALES = frames.sales_table(40, 0)
REGIONS = frames.regions_table()
X = np.arange(40 * 4, dtype=np.float64).reshape(40, 4) % 7
Y = np.arange(40) % 2


@functools.cache
def _spark_objects():
    """The claim's session, a tiny Spark table and an empty fitted pipeline, built when first needed."""
    from pyspark.ml import PipelineModel

    session = spark_session.session()
    return {"spark": session, "table": session.createDataFrame(SALES.astype({"units": "float64"})),
            "regions": session.createDataFrame(REGIONS), "model": PipelineModel(stages=[])}


def sp(name):
    return Lazy(lambda: _spark_objects()[name])


SPARK = Instance(sp("spark"))
CASES = [
    Case(spark_session.configured_master),
    HeavyCase(spark_session.session, Optional(Text("local[2]")), Text("ml-claims")),
    HeavyCase(spark_session.stop),
    HeavyCase(spark_session.launch_jvm),
    HeavyCase(spark_session.borrowed, Optional(Text("local[2]")), Text("ml-claims"), Real(30.0, 0.0, 600.0)),
    Case(mapreduce.mapper, Text("a b, c", nonempty=False)),
    Case(mapreduce.add_counts, Count(1, 0, mapreduce.MAX_COUNT), Count(2, 0, mapreduce.MAX_COUNT)),
    Case(mapreduce.reducer, Text("word"), Instance([1, 2, 3])),
    Case(mapreduce.combine, Instance([("a", 1), ("b", 1), ("a", 1)])),
    Case(mapreduce.partition, Text("word"), Count(3, 1, mapreduce.MAX_TASKS)),
    Case(mapreduce.split, Instance(["a b", "c"]), Count(2, 1, mapreduce.MAX_TASKS)),
    Case(mapreduce.word_count, Instance(["a b", "b c"]), Count(2, 1, mapreduce.MAX_TASKS),
         Count(2, 1, mapreduce.MAX_TASKS), Flag(True)),
    Case(cluster.spark_class),
    Case(cluster.unavailable_reason),
    HeavyCase(cluster.local_cluster, Count(2, 1, 8), Count(1, 1, 64), Text("1g"),
              Real(120.0, 0.0, 3600.0, low_open=True)),
    HeavyCase(rdd.word_count, SPARK, Instance(["a b", "b"]), Count(2, 1, rdd.MAX_PARTITIONS), Flag(False)),
    HeavyCase(rdd.flaky_sum, SPARK, Instance([1, 2, 3]), Count(2, 1, rdd.MAX_PARTITIONS), Count(0, 0, 1)),
    HeavyCase(rdd.lineage_values, SPARK, Count(10, 1, 10**8), Count(0, 0, 2**32 - 1),
              Count(2, 1, rdd.MAX_PARTITIONS)),
    HeavyCase(rdd.slow_keyed_sum, SPARK, Count(10, 1, 10**8), Count(2, 1, rdd.MAX_PARTITIONS), Real(0.0, 0.0, 600.0)),
    Case(frames.sales_table, Count(30, 1, 10**7), Seed()),
    Case(frames.regions_table),
    HeavyCase(frames.write_csv, Instance(SALES), PathArg("/tmp/claims-sweep/sales.csv")),
    HeavyCase(frames.read_csv, SPARK, PathArg("/tmp/claims-sweep/sales.csv"), Flag(False)),
    HeavyCase(frames.ingest_parquet, SPARK, Instance(SALES), PathArg("/tmp/claims-sweep/sales.parquet")),
    Case(frames.summary_pandas, Instance(SALES), Instance(REGIONS)),
    HeavyCase(frames.summary_spark, Instance(sp("table")), Instance(sp("regions"))),
    Case(frames.windows_pandas, Instance(SALES)),
    HeavyCase(frames.windows_spark, Instance(sp("table"))),
    HeavyCase(ml.to_frame, SPARK, Matrix(X, linked=True), Optional(Labels(Y, linked=True))),
    HeavyCase(ml.spark_pipeline, Count(4, 1, 100_000), Real(0.01, 0.0), Count(100, 1, 100_000)),
    HeavyCase(ml.spark_fit, SPARK, Matrix(X, linked=True), Labels(Y, linked=True), Real(0.01, 0.0),
              Count(100, 1, 100_000)),
    HeavyCase(ml.spark_predict, SPARK, Instance(sp("model")), Matrix(X)),
    HeavyCase(ml.spark_predict_proba, SPARK, Instance(sp("model")), Matrix(X)),
    Case(ml.sklearn_fit, Matrix(X, linked=True), Labels(Y, linked=True), Real(0.01, 0.0, low_open=True),
         Count(100, 1, 100_000)),
    Case(ddp.batch_rows, Count(2, 1, 100_000), Count(8, 1, 1797), Seed()),
    Case(ddp.digits),
    Case(ddp.make_model, Seed(), Choice("float32", ddp.DTYPES)),
    Case(ddp.train_single, Count(2, 1, 100_000), Choice("float64", ddp.DTYPES), Seed(), Real(0.1, 0.0, low_open=True)),
    HeavyCase(ddp.launch, PathArg("/tmp/claims-sweep/ddp"), Count(2, 1, ddp.MAX_PROCESSES), Count(2, 1, 100_000),
              Choice("float32", ddp.DTYPES), Seed(), Real(0.1, 0.0, low_open=True),
              Real(300.0, 0.0, 3600.0, low_open=True), Count(1, 1, ddp.MAX_PROCESSES)),
    HeavyCase(scaling.aggregation, SPARK, Count(1000, 1, 10**10), Optional(Count(2, 1, 10_000))),
    Case(scaling.aggregation_pandas, Count(1000, 1, 10**8)),
    Case(scaling.timings, Instance(lambda: None), Count(2, 1, 1000), Count(1, 0, 1000)).answers_vary(
        reason="its answer is a list of wall-clock timings"),
]


# The Spark objects of the table belong to the claim's `spark` session, which ends with it: dropped after.
test_rejects_bad_input = bad_input_claim("impl.l6_bigdata", CASES, subject="Lesson 6", course="Lesson 6",
                                         fixtures=("spark",), after=_spark_objects.cache_clear)
