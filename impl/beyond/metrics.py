"""Binary classification metrics written from their definitions: the references the specs hold
scikit-learn to (confusion counts as label vectors, AUC as a rank statistic, cost-optimal
thresholds, calibration error, precision at a recall floor)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_SAMPLES, as_float, as_float_array, as_int, as_labels, same_length

__all__ = [
    "labels_from_confusion", "mann_whitney_auc", "best_threshold", "expected_calibration_error",
    "precision_at_recall",
]


def _binary(y_true, scores, name_scores: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    y = as_labels(y_true, "y_true", num_classes=2)
    s = as_float_array(scores, name_scores, ndim=1)
    same_length("y_true", y, name_scores, s)
    if y.min() == y.max():
        raise ValueError("y_true must hold both classes (0 and 1)")
    return y.astype(np.int64), s


def labels_from_confusion(tp: int, fp: int, fn: int, tn: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) label vectors holding exactly these confusion counts, positives first."""
    counts = [as_int(v, name, minimum=0, maximum=MAX_SAMPLES) for v, name in
              ((tp, "tp"), (fp, "fp"), (fn, "fn"), (tn, "tn"))]
    if sum(counts) == 0 or sum(counts) > MAX_SAMPLES:
        raise ValueError(f"tp + fp + fn + tn must be in 1..{MAX_SAMPLES}, got {sum(counts)}")
    pairs = ((1, 1), (0, 1), (1, 0), (0, 0))  # (truth, prediction) of tp, fp, fn, tn
    y_true = np.concatenate([np.full(c, t) for c, (t, _) in zip(counts, pairs)]).astype(np.int64)
    y_pred = np.concatenate([np.full(c, p) for c, (_, p) in zip(counts, pairs)]).astype(np.int64)
    return y_true, y_pred


def mann_whitney_auc(y_true, scores) -> float:
    """ROC AUC as the Mann-Whitney statistic U / (n+ n-): the share of (positive, negative) pairs
    the scores order correctly, ties counting one half (midranks)."""
    from scipy.stats import rankdata

    y, s = _binary(y_true, scores)
    ranks = rankdata(s)  # average ranks: a tie contributes 1/2 to U
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def best_threshold(y_true, scores, thresholds, *, gain_tp: float, cost_fp: float, cost_fn: float) -> float:
    """The threshold t of the grid (predict positive when score >= t) maximising
    gain_tp * TP - cost_fp * FP - cost_fn * FN; the lowest such t on a tie."""
    y, s = _binary(y_true, scores)
    grid = as_float_array(thresholds, "thresholds", ndim=1)
    gain_tp = as_float(gain_tp, "gain_tp", low=0.0)
    cost_fp = as_float(cost_fp, "cost_fp", low=0.0)
    cost_fn = as_float(cost_fn, "cost_fn", low=0.0)
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    tp = len(pos) - np.searchsorted(pos, grid, side="left")  # scores >= t
    fp = len(neg) - np.searchsorted(neg, grid, side="left")
    fn = len(pos) - tp
    value = gain_tp * tp - cost_fp * fp - cost_fn * fn
    return float(grid[int(np.argmax(value))])


def expected_calibration_error(y_true, probabilities, num_bins: int = 10) -> float:
    """ECE over `num_bins` equal-width bins of [0, 1]: sum over bins of (bin share) x |mean label - mean probability|."""
    y, p = _binary(y_true, probabilities, "probabilities")
    num_bins = as_int(num_bins, "num_bins", minimum=1, maximum=10**6)
    if p.min() < 0 or p.max() > 1:
        raise ValueError("probabilities must lie in [0, 1]")
    bins = np.minimum((p * num_bins).astype(np.int64), num_bins - 1)
    # per bin, |sum of labels - sum of probabilities| = count x |mean label - mean probability|
    gap = np.abs(np.bincount(bins, y, num_bins) - np.bincount(bins, p, num_bins))
    return float(gap.sum() / len(y))


class PrecisionAtRecall(NamedTuple):
    precision: float
    recall: float
    threshold: float


def precision_at_recall(y_true, scores, min_recall: float) -> PrecisionAtRecall:
    """The highest precision among thresholds whose recall is >= min_recall, from scikit-learn's
    `precision_recall_curve` (the API for this; `precision_score` takes no recall target)."""
    from sklearn.metrics import precision_recall_curve

    y, s = _binary(y_true, scores)
    min_recall = as_float(min_recall, "min_recall", low=0.0, high=1.0)
    precision, recall, thresholds = precision_recall_curve(y, s)
    ok = np.flatnonzero(recall[:-1] >= min_recall)  # the last point (recall 0) has no threshold
    best = ok[np.argmax(precision[ok])]
    return PrecisionAtRecall(float(precision[best]), float(recall[best]), float(thresholds[best]))
