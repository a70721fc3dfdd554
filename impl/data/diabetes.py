"""The diabetes regression set as shipped inside scikit-learn; bytes verified before use.

Efron et al. (2004) "Least Angle Regression": 442 patients, 10 baseline variables,
disease progression after one year (`sklearn/datasets/data/diabetes_*.csv.gz`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.data import packaged

__all__ = ["DIABETES_URL", "SHA256", "DIABETES_FEATURES", "Regression", "load"]

DIABETES_URL = "https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html"
SHA256 = {  # of the decompressed bytes
    "diabetes_data_raw.csv.gz": "86badf50b4f9436ddd1e497dc0ae1b93166f8120221ee7dca4634fe849f3be7c",
    "diabetes_target.csv.gz": "244713a551f62a291a354212d8a048adec6cb1244b2bc44e66a0698f5006d26d",
}
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


class Regression(NamedTuple):
    X: np.ndarray  # (n, p) float64, raw units
    y: np.ndarray  # (n,) float64
    feature_names: tuple[str, ...]


def _bundled(name: str) -> str:
    return packaged.verified_bytes("sklearn", f"datasets/data/{name}", SHA256[name], gunzip=True).decode("ascii")


def load() -> Regression:
    """The 442 x 10 diabetes table in raw units and its progression target (source DIABETES_URL)."""
    X = np.loadtxt(_bundled("diabetes_data_raw.csv.gz").splitlines())
    y = np.loadtxt(_bundled("diabetes_target.csv.gz").splitlines())
    if X.shape != (442, 10) or y.shape != (442,):
        raise ValueError(f"diabetes: expected (442, 10) and (442,), got {X.shape} and {y.shape}")
    return Regression(X, y, DIABETES_FEATURES)

