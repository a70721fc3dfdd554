"""UCI optical digits as shipped inside scikit-learn (1,797 images of 8x8, 10 classes).

Canonical source: the UCI "Optical Recognition of Handwritten Digits" test set,
bundled by scikit-learn as `sklearn/datasets/data/digits.csv.gz`. The
decompressed bytes are verified before use.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.data import packaged

__all__ = ["CANONICAL_URL", "SHA256_DECOMPRESSED", "N_SAMPLES", "N_FEATURES", "Digits", "load"]

CANONICAL_URL = "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits"
SHA256_DECOMPRESSED = "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
N_SAMPLES, N_FEATURES = 1797, 64


class Digits(NamedTuple):
    X: np.ndarray  # (1797, 64) float64 pixel intensities 0..16
    y: np.ndarray  # (1797,) int64 labels 0..9


def load() -> Digits:
    """Load and verify the bundled digits; a changed file is an error, never used."""
    raw = packaged.verified_bytes("sklearn", "datasets/data/digits.csv.gz", SHA256_DECOMPRESSED, gunzip=True)
    table = np.loadtxt(raw.decode("ascii").splitlines(), delimiter=",")
    if table.shape != (N_SAMPLES, N_FEATURES + 1):
        raise ValueError(f"digits: expected shape {(N_SAMPLES, N_FEATURES + 1)}, got {table.shape}")
    return Digits(table[:, :-1].copy(), table[:, -1].astype(np.int64))
