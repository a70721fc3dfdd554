"""The diabetes regression set as shipped inside scikit-learn; bytes verified before use.

Efron et al. (2004) "Least Angle Regression": 442 patients, 10 baseline variables,
disease progression after one year (`sklearn/datasets/data/diabetes_*.csv.gz`).
(Lesson 2's mixture example uses iris from the shared loader `impl.data.toy`.)
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

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
    import sklearn

    path = Path(sklearn.__file__).parent / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{name}: {path} not found (is scikit-learn installed?)")
    raw = path.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(f"{name}: {path} has sha256 {digest}, expected {SHA256[name]}")
    return raw.decode("ascii")


def load_diabetes() -> Regression:
    """The 442 x 10 diabetes table in raw units and its progression target (source DIABETES_URL)."""
    X = np.loadtxt(_bundled("diabetes_data_raw.csv.gz").splitlines())
    y = np.loadtxt(_bundled("diabetes_target.csv.gz").splitlines())
    if X.shape != (442, 10) or y.shape != (442,):
        raise ValueError(f"diabetes: expected (442, 10) and (442,), got {X.shape} and {y.shape}")
    return Regression(X, y, DIABETES_FEATURES)

