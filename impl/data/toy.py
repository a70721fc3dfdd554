"""sklearn's bundled iris and wine tables (UCI), verified by sha256 before use (digits: impl.data.digits).

API:  `iris()`, `wine()` -> Table(X float64 (n, d), y int64 (n,), classes tuple[str]).
"""
from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from impl.data import packaged

__all__ = ["LICENCE", "SHA256", "Table", "iris", "wine"]

LICENCE = "UCI Machine Learning Repository datasets (CC BY 4.0), as bundled by scikit-learn (BSD-3)"
SHA256 = {
    "iris.csv": "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449",
    "wine_data.csv": "10e8a802908b34f86e5da8ce962f3c806694bc98450a18f61851af59f324bede",
}


class Table(NamedTuple):
    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]


def _read(name: str) -> Table:
    data = packaged.verified_bytes("sklearn", f"datasets/data/{name}", SHA256[name])
    header, _, body = data.decode("ascii").partition("\n")
    n, d, *classes = header.strip().split(",")
    table = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
    if table.shape != (int(n), int(d) + 1):
        raise ValueError(f"toy: {name} has shape {table.shape}, header says ({n}, {int(d) + 1})")
    return Table(table[:, :-1].copy(), table[:, -1].astype(np.int64), tuple(classes))


def iris() -> Table:
    return _read("iris.csv")


def wine() -> Table:
    return _read("wine_data.csv")
