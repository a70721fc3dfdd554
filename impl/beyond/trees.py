"""Gini impurity and split scores written from their definitions, and the three-event
photon/lepton table of the notes' worked example (two features, two equally good splits)."""
from __future__ import annotations

import numpy as np

from impl.checks import as_float, as_float_array, as_labels, same_length

__all__ = ["gini", "split_gini", "photon_lepton_table"]


def gini(counts) -> float:
    """Gini impurity 1 - sum_k p_k^2 of a node holding `counts[k]` samples of class k."""
    counts = as_float_array(counts, "counts", ndim=1)
    if counts.min() < 0 or counts.sum() <= 0:
        raise ValueError("counts must be >= 0 with a positive total")
    share = counts / counts.sum()
    return float(1.0 - np.sum(share**2))


def split_gini(feature, labels, threshold: float) -> float:
    """The sample-weighted Gini of the two children of `feature <= threshold` (what a split scores;
    the impurity decrease is the parent's Gini minus this)."""
    x = as_float_array(feature, "feature", ndim=1)
    y = as_labels(labels, "labels")
    same_length("feature", x, "labels", y)
    threshold = as_float(threshold, "threshold")
    left = x <= threshold
    total = 0.0
    for side in (left, ~left):
        if side.any():
            total += side.mean() * gini(np.bincount(y[side]))
    return total


def photon_lepton_table() -> tuple[np.ndarray, np.ndarray]:
    """Three events (photon pT, lepton pT in GeV) and their labels (1 = signal), built like the
    notes' example: the signal event is lowest on both features, so a cut between it and the
    others at photon 25 GeV or at lepton 18 GeV separates the classes perfectly."""
    X = np.array([[20.0, 16.0], [30.0, 20.0], [50.0, 24.0]])
    return X, np.array([1, 0, 0])
