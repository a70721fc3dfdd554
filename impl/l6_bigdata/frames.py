"""Spark DataFrames against pandas: a sales table, its ingestion, an aggregation with a join, windows.

`sales_table(n_rows, seed)` is a synthetic order table (order_id, date in 2024, region, product,
units, price) with about 1% nulls in units and in price. `regions_table()` is the region dimension.
Each pipeline exists twice, once in Spark and once in pandas, written independently:

* `summary_*`: drop product p00, revenue = units * price (null when either is), month of the date,
  per (region, month): sum, mean and count of revenue, distinct products and rows, joined with the
  region table; sorted by region and month.
* `windows_*`: over orders with a revenue, ordered by (date, order_id) within region: the running
  revenue, the mean of the last 7 orders (null until 7 exist, as pandas' rolling(7)); and each
  order's rank by units (descending, ties get the lowest rank) within its month.

Ingestion: `write_csv` writes the table with a header, `read_csv` reads it back with `SCHEMA`
(or with inferSchema), `ingest_parquet` writes it with pyarrow and reads it in Spark.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from impl.checks import as_bool, as_instance, as_int, as_path, as_seed

__all__ = ["REGIONS", "SCHEMA", "sales_table", "regions_table", "write_csv", "read_csv", "ingest_parquet",
           "summary_pandas", "summary_spark", "windows_pandas", "windows_spark"]

REGIONS = ("north", "south", "east", "west", "central")
SCHEMA = "order_id LONG, date DATE, region STRING, product STRING, units INT, price DOUBLE"
NULL_SHARE = 0.01
SUMMARY_KEYS = ["region", "month"]


def sales_table(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """`n_rows` orders in 2024 with ~1% nulls in units (Int32) and price (float64), sorted by order_id."""
    n_rows = as_int(n_rows, "n_rows", minimum=1, maximum=10**7)
    rng = np.random.default_rng(as_seed(seed))
    days = rng.integers(0, 366, n_rows)
    units = pd.array(rng.integers(1, 20, n_rows), dtype="Int32")
    units[rng.random(n_rows) < NULL_SHARE] = pd.NA
    price = np.round(rng.lognormal(3.0, 0.5, n_rows), 2)
    price[rng.random(n_rows) < NULL_SHARE] = np.nan
    return pd.DataFrame({
        "order_id": np.arange(n_rows, dtype=np.int64),
        "date": [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in days],
        "region": np.asarray(REGIONS, dtype=object)[rng.integers(0, len(REGIONS), n_rows)],
        "product": [f"p{k:02d}" for k in rng.integers(0, 50, n_rows)],
        "units": units, "price": price,
    })


def regions_table() -> pd.DataFrame:
    """The region dimension: manager and yearly target per region."""
    return pd.DataFrame({"region": list(REGIONS), "manager": ["ada", "bo", "cy", "di", "ed"],
                         "target": [1.0e6, 1.2e6, 0.8e6, 1.1e6, 0.9e6]})


def _frame(frame, name: str = "sales") -> pd.DataFrame:
    frame = as_instance(frame, name, pd.DataFrame)
    if frame.empty:
        raise ValueError(f"{name} must not be empty")
    return frame


def _spark(spark):
    from pyspark.sql import SparkSession

    return as_instance(spark, "spark", SparkSession)


def write_csv(sales: pd.DataFrame, path) -> None:
    """The table as one CSV file with a header; nulls as empty fields."""
    _frame(sales).to_csv(as_path(path, "path"), index=False)


def read_csv(spark, path, infer_schema: bool = False):
    """A Spark DataFrame from a CSV with a header: typed by `SCHEMA`, or by Spark's inferSchema."""
    spark, path, infer_schema = _spark(spark), as_path(path, "path"), as_bool(infer_schema, "infer_schema")
    reader = spark.read.option("header", True)
    reader = reader.option("inferSchema", True) if infer_schema else reader.schema(SCHEMA)
    return reader.csv(str(path))


def ingest_parquet(spark, frame: pd.DataFrame, path):
    """Write `frame` as Parquet with pyarrow (nulls kept), read it back as a Spark DataFrame."""
    spark, frame, path = _spark(spark), _frame(frame, "frame"), as_path(path, "path")
    frame.to_parquet(path, index=False, engine="pyarrow")
    return spark.read.parquet(str(path))


def summary_pandas(sales: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    sales, regions = _frame(sales), _frame(regions, "regions")
    kept = sales[sales["product"] != "p00"]
    revenue = kept["units"].astype("float64") * kept["price"]
    kept = kept.assign(revenue=revenue, month=pd.to_datetime(kept["date"]).dt.month)
    grouped = kept.groupby(SUMMARY_KEYS)
    table = pd.DataFrame({
        "revenue_sum": grouped["revenue"].sum(min_count=1), "revenue_mean": grouped["revenue"].mean(),
        "revenue_count": grouped["revenue"].count(), "products": grouped["product"].nunique(),
        "orders": grouped.size(),
    }).reset_index()
    return table.merge(regions, on="region", how="inner").sort_values(SUMMARY_KEYS, ignore_index=True)


def summary_spark(sales, regions) -> pd.DataFrame:
    """The same summary from Spark DataFrames, collected to pandas."""
    from pyspark.sql import DataFrame, functions as F

    sales, regions = as_instance(sales, "sales", DataFrame), as_instance(regions, "regions", DataFrame)
    table = (sales.filter(F.col("product") != "p00")
             .withColumn("revenue", F.col("units").cast("double") * F.col("price"))
             .withColumn("month", F.month("date"))
             .groupBy(*SUMMARY_KEYS)
             .agg(F.sum("revenue").alias("revenue_sum"), F.avg("revenue").alias("revenue_mean"),
                  F.count("revenue").alias("revenue_count"), F.countDistinct("product").alias("products"),
                  F.count(F.lit(1)).alias("orders"))
             .join(regions, on="region", how="inner")
             .orderBy(*SUMMARY_KEYS))
    return table.toPandas()


def _with_revenue(sales: pd.DataFrame) -> pd.DataFrame:
    revenue = sales["units"].astype("float64") * sales["price"]
    return sales.assign(revenue=revenue)[revenue.notna()]


def windows_pandas(sales: pd.DataFrame) -> pd.DataFrame:
    """order_id, running_revenue, moving_avg_7, units_rank; sorted by order_id."""
    orders = _with_revenue(_frame(sales)).sort_values(["region", "date", "order_id"])
    by_region = orders.groupby("region")["revenue"]
    orders = orders.assign(
        running_revenue=by_region.cumsum(),
        moving_avg_7=by_region.transform(lambda s: s.rolling(7).mean()),
        units_rank=orders.groupby(pd.to_datetime(orders["date"]).dt.month)["units"]
        .rank(method="min", ascending=False).astype("int64"),
    )
    columns = ["order_id", "running_revenue", "moving_avg_7", "units_rank"]
    return orders[columns].sort_values("order_id", ignore_index=True)


def windows_spark(sales) -> pd.DataFrame:
    from pyspark.sql import DataFrame, Window, functions as F

    sales = as_instance(sales, "sales", DataFrame)
    orders = (sales.withColumn("revenue", F.col("units").cast("double") * F.col("price"))
              .filter(F.col("revenue").isNotNull()))
    ordered = Window.partitionBy("region").orderBy("date", "order_id")
    running = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    last7 = ordered.rowsBetween(-6, Window.currentRow)
    by_month = Window.partitionBy(F.month("date")).orderBy(F.col("units").desc())
    table = orders.select(
        "order_id",
        F.sum("revenue").over(running).alias("running_revenue"),
        F.when(F.count(F.lit(1)).over(last7) == 7, F.avg("revenue").over(last7)).alias("moving_avg_7"),
        F.rank().over(by_month).cast("long").alias("units_rank"),
    ).orderBy("order_id")
    return table.toPandas()
