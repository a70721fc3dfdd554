"""sklearn's bundled iris and wine tables (UCI), verified by sha256 before use (digits: impl.data.digits).

API:  `iris()`, `wine()` -> Table(X float64 (n, d), y int64 (n,), classes tuple[str]).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

import numpy as np

from impl.data.fetch import ChecksumError, sha256_hex

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
    import sklearn

    path = Path(sklearn.__file__).parent / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"toy: {path} not found (is scikit-learn installed?)")
    data = path.read_bytes()
    if sha256_hex(data) != SHA256[name]:
        raise ChecksumError(f"toy: {path} has sha256 {sha256_hex(data)}, expected {SHA256[name]}")
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
