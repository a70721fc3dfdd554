"""A Spark ML pipeline and its scikit-learn twin: assemble -> standardise -> multinomial logistic regression.

Both minimise the same objective: mean cross-entropy + (lambda / 2) ||W||^2 on standardised
features (intercepts unpenalised). Spark's `regParam` is lambda; scikit-learn's `C` multiplies the
*summed* loss against (1/2) ||W||^2, so C = 1 / (n lambda) on the same features. They are not quite
the same features: Spark's StandardScaler divides by the sample SD (n - 1), scikit-learn's by the
population SD (n), so Spark's are scikit-learn's times c = sqrt((n - 1) / n); with V = c W the
objective becomes the same on scikit-learn's features with lambda / c^2, i.e. C = (n - 1) / (n^2 lambda).
scikit-learn is run to tol 1e-10 (its default 1e-4 stops ~1e-3 away in probability; Spark's is 1e-9).
`spark_fit` returns the fitted `PipelineModel`; `spark_predict` its predictions and `spark_predict_proba`
its class probabilities, in input row order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from impl.checks import as_float, as_instance, as_int, as_labels, as_matrix, same_length

__all__ = ["to_frame", "spark_pipeline", "spark_fit", "spark_predict", "spark_predict_proba", "sklearn_fit"]

MAX_ITER = 100
SKLEARN_TOL = 1e-10


def _xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = as_matrix(X, "X"), as_labels(y, "y")
    same_length("X", X, "y", y)
    return X, y


def to_frame(spark, X: np.ndarray, y: np.ndarray | None = None):
    """A Spark DataFrame with columns row (input order), f0..f{d-1} and, when `y` is given, label."""
    from pyspark.sql import SparkSession

    spark = as_instance(spark, "spark", SparkSession)
    X = as_matrix(X, "X")
    table = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    table.insert(0, "row", np.arange(len(X), dtype=np.int64))
    if y is not None:
        X, y = _xy(X, y)
        table["label"] = y.astype(np.float64)
    return spark.createDataFrame(table)


def spark_pipeline(n_features: int, reg_param: float = 0.01, max_iter: int = MAX_ITER):
    """VectorAssembler(f0..) -> StandardScaler(mean and SD) -> LogisticRegression(multinomial)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    n_features = as_int(n_features, "n_features", minimum=1, maximum=100_000)
    reg_param = as_float(reg_param, "reg_param", low=0.0)
    max_iter = as_int(max_iter, "max_iter", minimum=1, maximum=100_000)
    return Pipeline(stages=[
        VectorAssembler(inputCols=[f"f{j}" for j in range(n_features)], outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features", withMean=True, withStd=True),
        LogisticRegression(featuresCol="features", labelCol="label", family="multinomial", regParam=reg_param,
                           elasticNetParam=0.0, maxIter=max_iter, tol=1e-9),
    ])


def spark_fit(spark, X: np.ndarray, y: np.ndarray, reg_param: float = 0.01, max_iter: int = MAX_ITER):
    """The fitted PipelineModel."""
    X, y = _xy(X, y)
    pipeline = spark_pipeline(X.shape[1], reg_param, max_iter)
    return pipeline.fit(to_frame(spark, X, y))


def spark_predict(spark, model, X: np.ndarray) -> np.ndarray:
    """Predicted labels (int64) for the rows of `X`, in order."""
    from pyspark.ml import PipelineModel

    model = as_instance(model, "model", PipelineModel)
    rows = model.transform(to_frame(spark, X)).select("row", "prediction").toPandas()
    return rows.sort_values("row")["prediction"].to_numpy().astype(np.int64)


def spark_predict_proba(spark, model, X: np.ndarray) -> np.ndarray:
    """(n_rows, n_classes) class probabilities for the rows of `X`, in order."""
    from pyspark.ml import PipelineModel

    model = as_instance(model, "model", PipelineModel)
    rows = model.transform(to_frame(spark, X)).select("row", "probability").toPandas().sort_values("row")
    return np.stack([vector.toArray() for vector in rows["probability"]]).astype(np.float64)


def sklearn_fit(X: np.ndarray, y: np.ndarray, reg_param: float = 0.01, max_iter: int = 1000):
    """StandardScaler -> LogisticRegression(C = (n - 1) / (n^2 reg_param), tol 1e-10), fitted: Spark's objective."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _xy(X, y)
    reg_param = as_float(reg_param, "reg_param", low=0.0, low_open=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1, maximum=100_000)
    n = len(X)
    if n < 2:
        raise ValueError(f"X needs at least 2 rows (a sample SD), got {n}")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=(n - 1) / (n * n * reg_param), max_iter=max_iter,
                                                               tol=SKLEARN_TOL))
    return model.fit(X, y)
