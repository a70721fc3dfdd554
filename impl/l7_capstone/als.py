"""Spark ML's ALS on the same MovieLens split, through the project's one SparkSession
(`impl.l6_bigdata.spark.session()`).

ALS factorises the rating matrix without bias terms (r_ui ~ x_u . y_i), alternating
regularised least squares for the user and item factors; `coldStartStrategy='drop'` drops
predictions for users or items unseen in training (none here: the split already dropped them).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_STEPS, as_float, as_int, as_seed
from impl.l7_capstone.recsys import Triples, as_triples

__all__ = ["AlsFit", "fit_als"]


class AlsFit(NamedTuple):
    predicted: np.ndarray      # Spark's predictions for the test rows it kept, in the order of `rows`
    rows: np.ndarray           # indices into the test triples (all of them unless ALS dropped some)
    user_factors: np.ndarray   # (n_users, rank), row = user index; zero rows for users absent from train
    item_factors: np.ndarray   # (n_items, rank)
    master: str                # the session's master, e.g. local[*]


def _frame(spark, data: Triples, with_row: bool):
    import pandas as pd

    columns = {"user": data.user.astype(np.int32), "item": data.item.astype(np.int32),
               "rating": data.rating.astype(np.float32)}
    if with_row:
        columns["row"] = np.arange(data.rating.size, dtype=np.int64)
    return spark.createDataFrame(pd.DataFrame(columns))


def _factors(frame, n: int, rank: int) -> np.ndarray:
    table = frame.toPandas()
    factors = np.zeros((n, rank))
    factors[table["id"].to_numpy()] = np.stack(table["features"].to_numpy())
    return factors


def fit_als(train: Triples, test: Triples, *, rank: int, max_iter: int, reg_param: float, seed: int,
            n_users: int, n_items: int) -> AlsFit:
    """`ALS(rank, maxIter, regParam, coldStartStrategy='drop', seed)` fitted on `train`, predicting `test`."""
    train = as_triples(train, "train")
    test = as_triples(test, "test")
    rank = as_int(rank, "rank", minimum=1, maximum=1024)
    max_iter = as_int(max_iter, "max_iter", minimum=1, maximum=MAX_STEPS)
    reg_param = as_float(reg_param, "reg_param", low=0.0)
    seed = as_seed(seed)
    n_users = as_int(n_users, "n_users", minimum=1, maximum=10**6)
    n_items = as_int(n_items, "n_items", minimum=1, maximum=10**6)
    from pyspark.ml.recommendation import ALS

    from impl.l6_bigdata import spark

    session = spark.session()
    als = ALS(rank=rank, maxIter=max_iter, regParam=reg_param, coldStartStrategy="drop", seed=seed,
              userCol="user", itemCol="item", ratingCol="rating")
    model = als.fit(_frame(session, train, with_row=False))
    predicted = model.transform(_frame(session, test, with_row=True)).select("row", "prediction").toPandas()
    predicted = predicted.sort_values("row")
    return AlsFit(predicted["prediction"].to_numpy(np.float64), predicted["row"].to_numpy(np.int64),
                  _factors(model.userFactors, n_users, rank), _factors(model.itemFactors, n_items, rank),
                  session.sparkContext.master)
