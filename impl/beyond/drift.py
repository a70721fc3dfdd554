"""Data-drift statistics: population stability index, KL divergence, the two-sample KS test, and the
augmented Dickey-Fuller test for a unit root (is a series stationary, or only its differences?).

PSI = sum_i (q_i - p_i) ln(q_i / p_i) over bins is the symmetrised KL divergence KL(p||q) + KL(q||p),
so it is >= 0, symmetric, and 0 exactly when the binned distributions are equal; KL alone is not
symmetric. Bins are the reference sample's quantiles, so each holds 1/num_bins of it.
"""
from __future__ import annotations

import numpy as np

from impl.checks import MAX_SAMPLES, as_float, as_float_array, as_int, as_rng

__all__ = ["binned_fractions", "psi", "kl_divergence", "ks_detection_rate", "adf_rejection_rate"]

_FLOOR = 1e-6  # an empty bin would make log(0); this is the usual floor in PSI monitoring tools


def _distribution(p, name: str) -> np.ndarray:
    p = as_float_array(p, name, ndim=1)
    if np.any(p < 0) or not np.isclose(p.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"{name} must be non-negative and sum to 1, got sum {p.sum()}")
    return np.maximum(p, _FLOOR)


def binned_fractions(reference, current, num_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of `reference` and `current` in the `num_bins` quantile bins of `reference`."""
    reference = as_float_array(reference, "reference", ndim=1)
    current = as_float_array(current, "current", ndim=1)
    num_bins = as_int(num_bins, "num_bins", minimum=2, maximum=len(reference))
    inner = np.quantile(reference, np.linspace(0, 1, num_bins + 1)[1:-1])
    count = lambda sample: np.bincount(np.searchsorted(inner, sample, side="right"), minlength=num_bins)
    return count(reference) / len(reference), count(current) / len(current)


def psi(p, q) -> float:
    """Population stability index of two binned distributions (empty bins floored at 1e-6)."""
    p, q = _distribution(p, "p"), _distribution(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same bins, got {p.shape} and {q.shape}")
    return float(np.sum((q - p) * np.log(q / p)))


def kl_divergence(p, q) -> float:
    """KL(p || q) of two binned distributions (empty bins floored at 1e-6)."""
    p, q = _distribution(p, "p"), _distribution(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same bins, got {p.shape} and {q.shape}")
    return float(np.sum(p * np.log(p / q)))


def ks_detection_rate(shift: float, num_samples: int, num_runs: int, alpha: float, rng: np.random.Generator) -> float:
    """Fraction of `num_runs` two-sample KS tests (N(0, 1) vs N(shift, 1), `num_samples` each) with p < alpha."""
    from scipy.stats import ks_2samp

    shift = as_float(shift, "shift", low=-100.0, high=100.0)
    n = as_int(num_samples, "num_samples", minimum=2, maximum=MAX_SAMPLES // 2)
    runs = as_int(num_runs, "num_runs", minimum=1, maximum=MAX_SAMPLES // (2 * n))
    alpha = as_float(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    rng = as_rng(rng, "rng")
    a, b = rng.standard_normal((runs, n)), rng.standard_normal((runs, n)) + shift
    return float(np.mean(ks_2samp(a, b, axis=1).pvalue < alpha))


def adf_rejection_rate(series, alpha: float) -> float:
    """Fraction of the rows of `series` for which the ADF test (constant, one lagged difference) rejects a unit root at alpha."""
    from statsmodels.tsa.stattools import adfuller

    series = as_float_array(series, "series", ndim=2, min_shape=(1, 20))
    alpha = as_float(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    return float(np.mean([adfuller(row, maxlag=1, autolag=None, result_object=False)[1] < alpha for row in series]))
