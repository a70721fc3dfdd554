"""UCI optical digits as shipped inside scikit-learn (1,797 images of 8x8, 10 classes).

Canonical source: the UCI "Optical Recognition of Handwritten Digits" test set,
bundled by scikit-learn as `sklearn/datasets/data/digits.csv.gz`. The
decompressed bytes are verified before use.
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

CANONICAL_URL = "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits"
SHA256_DECOMPRESSED = "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
N_SAMPLES, N_FEATURES = 1797, 64


class Digits(NamedTuple):
    X: np.ndarray  # (1797, 64) float64 pixel intensities 0..16
    y: np.ndarray  # (1797,) int64 labels 0..9


def bundled_path() -> Path:
    import sklearn

    return Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"


def load() -> Digits:
    """Load and verify the bundled digits; a changed file is an error, never used."""
    path = bundled_path()
    if not path.is_file():
        raise FileNotFoundError(f"digits: {path} not found (is scikit-learn installed?); source {CANONICAL_URL}")
    raw = gzip.decompress(path.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256_DECOMPRESSED:
        raise ValueError(f"digits: {path} has sha256 {digest}, expected {SHA256_DECOMPRESSED}")
    table = np.loadtxt(raw.decode("ascii").splitlines(), delimiter=",")
    if table.shape != (N_SAMPLES, N_FEATURES + 1):
        raise ValueError(f"digits: expected shape {(N_SAMPLES, N_FEATURES + 1)}, got {table.shape}")
    return Digits(table[:, :-1].copy(), table[:, -1].astype(np.int64))
