"""Statistical inference: interval coverage, test size and power, chi-square, MLE and OLS."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import stats

from impl.checks import MAX_SAMPLES, as_float, as_float_array, as_instance, as_int, as_matrix, as_rng, same_length

__all__ = [
    "Intervals", "t_intervals", "plugin_z_intervals", "covers", "two_sample_t_pvalues", "chi_square_by_hand",
    "normal_mle", "OLSFit", "ols_closed_form",
]


class Intervals(NamedTuple):
    lo: np.ndarray
    hi: np.ndarray


def _samples(samples: np.ndarray) -> np.ndarray:
    return as_matrix(samples, "samples", min_shape=(1, 2))


def t_intervals(samples: np.ndarray, level: float) -> Intervals:
    """Student-t intervals mean +- t_{(1+level)/2, n-1} s / sqrt(n), one per row of `samples`."""
    samples = _samples(samples)
    level = as_float(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    n = samples.shape[1]
    half = stats.t.ppf((1 + level) / 2, n - 1) * samples.std(axis=1, ddof=1) / math.sqrt(n)
    centre = samples.mean(axis=1)
    return Intervals(centre - half, centre + half)


def plugin_z_intervals(samples: np.ndarray, level: float) -> Intervals:
    """Normal intervals with the sample SD plugged in for sigma: too narrow for small n."""
    samples = _samples(samples)
    level = as_float(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    n = samples.shape[1]
    half = stats.norm.ppf((1 + level) / 2) * samples.std(axis=1, ddof=1) / math.sqrt(n)
    centre = samples.mean(axis=1)
    return Intervals(centre - half, centre + half)


def covers(intervals: Intervals, value: float) -> np.ndarray:
    """Boolean per interval: does it contain `value`?"""
    as_instance(intervals, "intervals", Intervals)
    lo, hi = as_float_array(intervals.lo, "lo", ndim=1), as_float_array(intervals.hi, "hi", ndim=1)
    same_length("lo", lo, "hi", hi)
    value = as_float(value, "value")
    return (lo <= value) & (value <= hi)


def two_sample_t_pvalues(
    n_per_group: int, effect_size: float, simulations: int, rng: np.random.Generator,
) -> np.ndarray:
    """p-values of the pooled two-sample t-test on `simulations` draws of N(0,1) vs N(d,1) groups."""
    n_per_group = as_int(n_per_group, "n_per_group", minimum=2, maximum=MAX_SAMPLES)
    effect_size = as_float(effect_size, "effect_size")
    simulations = as_int(simulations, "simulations", minimum=1, maximum=MAX_SAMPLES)
    if simulations * n_per_group > MAX_SAMPLES:  # both groups are drawn at once
        raise ValueError(f"simulations * n_per_group must be <= {MAX_SAMPLES}, got {simulations} * {n_per_group}")
    rng = as_rng(rng, "rng")
    a = rng.standard_normal((simulations, n_per_group))
    b = rng.standard_normal((simulations, n_per_group)) + effect_size
    return np.asarray(stats.ttest_ind(a, b, axis=1, equal_var=True).pvalue)


def chi_square_by_hand(table: np.ndarray) -> tuple[float, int, float]:
    """Pearson's test of independence written out: (sum (O - E)^2 / E, dof, p-value)."""
    observed = as_matrix(table, "table", min_shape=(2, 2))
    if np.any(observed < 0):
        raise ValueError("table must hold non-negative counts")
    total = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / total
    if np.any(expected == 0):
        raise ValueError("table has an all-zero row or column; expected counts must be positive")
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return statistic, dof, float(stats.chi2.sf(statistic, dof))


def normal_mle(x: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood (mu, sigma) of a normal sample: the mean and the biased (1/n) SD."""
    x = as_float_array(x, "x", ndim=1, min_shape=(2,))
    return float(x.mean()), float(np.sqrt(np.mean((x - x.mean()) ** 2)))


class OLSFit(NamedTuple):
    beta: np.ndarray
    se: np.ndarray
    ci_lo: np.ndarray
    ci_hi: np.ndarray
    sigma2: float  # RSS / (n - p)


def ols_closed_form(X: np.ndarray, y: np.ndarray, level: float = 0.95) -> OLSFit:
    """OLS by the textbook formulas: beta = lstsq, SE = sqrt(diag(sigma2 (X^T X)^-1)), t intervals."""
    X = as_matrix(X, "X")
    y = as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    level = as_float(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    n, p = X.shape
    if n <= p:
        raise ValueError(f"X needs more rows than columns for residual degrees of freedom, got shape {X.shape}")
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    residual = y - X @ beta
    sigma2 = float(residual @ residual / (n - p))
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    half = stats.t.ppf((1 + level) / 2, n - p) * se
    return OLSFit(beta, se, beta - half, beta + half, sigma2)
