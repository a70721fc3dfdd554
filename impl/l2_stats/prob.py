"""Probability: distribution identities, the central limit theorem, Bayes' rule."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import integrate, stats

from impl.checks import MAX_SAMPLES, as_float, as_float_array, as_instance, as_int, as_rng, finite_or_diverged

__all__ = [
    "binomial_pmf_total", "poisson_pmf_total", "normal_pdf_integral", "moments", "sample_mean_z",
    "exponential_means", "standardized_exponential_means", "ks_distance_to_normal", "Test",
    "posterior_ill_given_positive", "simulate_ill_given_positive", "MAX_TOTAL_DRAWS", "MAX_LAM",
]

_MAX_CHUNK_ELEMENTS = 4_000_000  # draws held in memory at once (32 MB of float64)
MAX_TOTAL_DRAWS = 10**10  # n * replicates: about two minutes of drawing; the CLT claim's largest is 1.6 * 10^8
MAX_LAM = 1e6  # the Poisson pmf is summed over ~lam terms; the lesson's rates are <= 50


# -- distribution identities ------------------------------------------------------
def binomial_pmf_total(n: int, p: float) -> float:
    """Sum of the Binomial(n, p) pmf over its whole support 0..n (should be 1)."""
    n = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES)
    p = as_float(p, "p", low=0.0, high=1.0, low_open=True, high_open=True)
    return float(math.fsum(stats.binom.pmf(np.arange(n + 1), n, p)))


def poisson_pmf_total(lam: float, tail: float = 1e-15) -> float:
    """Sum of the Poisson(lam) pmf from 0 up to its (1 - tail) quantile (should be 1 - O(tail))."""
    lam = as_float(lam, "lam", low=0.0, high=MAX_LAM, low_open=True)
    tail = as_float(tail, "tail", low=0.0, high=1.0, low_open=True, high_open=True)
    upper = int(stats.poisson.isf(tail, lam))
    return float(math.fsum(stats.poisson.pmf(np.arange(upper + 1), lam)))


def normal_pdf_integral(mu: float, sigma: float, half_width_sds: float = 12.0) -> float:
    """Integral of the N(mu, sigma^2) density over mu +- half_width_sds * sigma by adaptive quadrature.

    Quadrature over the whole real line can step over a narrow peak far from 0; outside
    12 SD the density holds 3.6e-33 of the mass, far below any tolerance used here.
    """
    mu = as_float(mu, "mu")
    sigma = as_float(sigma, "sigma", low=0.0, low_open=True)
    half_width_sds = as_float(half_width_sds, "half_width_sds", low=0.0, low_open=True)
    lo, hi = mu - half_width_sds * sigma, mu + half_width_sds * sigma
    value, _ = integrate.quad(stats.norm(mu, sigma).pdf, lo, hi, points=[mu], epsabs=1e-14, epsrel=1e-13, limit=200)
    return float(value)


def moments(family: str, **params: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """((scipy mean, scipy variance), (closed-form mean, closed-form variance)) of a family.

    family: "binomial" (n, p), "poisson" (lam) or "normal" (mu, sigma).
    """
    if family == "binomial":
        n = as_int(params.get("n"), "n", minimum=1, maximum=MAX_SAMPLES)
        p = as_float(params.get("p"), "p", low=0.0, high=1.0)
        scipy_mv, closed = stats.binom.stats(n, p, moments="mv"), (n * p, n * p * (1 - p))
    elif family == "poisson":
        lam = as_float(params.get("lam"), "lam", low=0.0, low_open=True)
        scipy_mv, closed = stats.poisson.stats(lam, moments="mv"), (lam, lam)
    elif family == "normal":
        mu = as_float(params.get("mu"), "mu")
        sigma = as_float(params.get("sigma"), "sigma", low=0.0, low_open=True)
        with np.errstate(over="ignore"):
            variance = np.float64(sigma) * sigma
        finite_or_diverged(variance, "the variance", f"sigma = {sigma:g}", verb="overflowed")
        scipy_mv, closed = stats.norm.stats(mu, sigma, moments="mv"), (mu, sigma**2)
    else:
        raise ValueError(f"family must be binomial, poisson or normal, got {family!r}")
    return (float(scipy_mv[0]), float(scipy_mv[1])), (float(closed[0]), float(closed[1]))


def sample_mean_z(draws: np.ndarray, mean: float, variance: float) -> float:
    """(sample mean - true mean) / standard error: about N(0, 1) for a correct sampler."""
    draws = as_float_array(draws, "draws", ndim=1, min_shape=(2,))
    mean = as_float(mean, "mean")
    variance = as_float(variance, "variance", low=0.0, low_open=True)
    return float((draws.mean() - mean) / math.sqrt(variance / draws.size))


# -- the central limit theorem ----------------------------------------------------
def exponential_means(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """`replicates` sample means, each of n Exponential(1) draws (drawn in memory-bounded chunks)."""
    n = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES)
    replicates = as_int(replicates, "replicates", minimum=2, maximum=MAX_SAMPLES)
    if n * replicates > MAX_TOTAL_DRAWS:
        raise ValueError(f"n * replicates must be <= {MAX_TOTAL_DRAWS} draws, got {n} * {replicates}")
    rng = as_rng(rng, "rng")
    rows = max(1, _MAX_CHUNK_ELEMENTS // n)
    chunks = [rng.exponential(size=(min(rows, replicates - start), n)).mean(axis=1)
              for start in range(0, replicates, rows)]
    return np.concatenate(chunks)


def standardized_exponential_means(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """sqrt(n) (mean - 1): by the CLT close to N(0, 1) for large n (Exponential(1) has mean = SD = 1)."""
    n = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES)
    return math.sqrt(n) * (exponential_means(n, replicates, rng) - 1.0)


def ks_distance_to_normal(z: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance sup |F_n - Phi| between a sample and N(0, 1)."""
    z = as_float_array(z, "z", ndim=1, min_shape=(2,))
    return float(stats.kstest(z, "norm").statistic)


# -- Bayes' rule -------------------------------------------------------------------
class Test(NamedTuple):
    prevalence: float
    sensitivity: float  # P(positive | ill)
    specificity: float  # P(negative | healthy)


def _check_test(test: Test) -> Test:
    as_instance(test, "test", Test)
    return Test(*(as_float(getattr(test, name), name, low=0.0, high=1.0) for name in Test._fields))


def posterior_ill_given_positive(test: Test) -> float:
    """Bayes' rule: P(ill | +) = P(+ | ill) P(ill) / P(+)."""
    prevalence, sensitivity, specificity = _check_test(test)
    true_pos = sensitivity * prevalence
    false_pos = (1.0 - specificity) * (1.0 - prevalence)
    if true_pos + false_pos == 0.0:
        raise ValueError("test: P(positive) is 0, the posterior is undefined")
    return true_pos / (true_pos + false_pos)


def simulate_ill_given_positive(test: Test, people: int, rng: np.random.Generator) -> tuple[float, int]:
    """Simulate a population: (share of the positives who are ill, number of positives)."""
    prevalence, sensitivity, specificity = _check_test(test)
    people = as_int(people, "people", minimum=1, maximum=MAX_SAMPLES)
    rng = as_rng(rng, "rng")
    ill = rng.random(people) < prevalence
    positive = np.where(ill, rng.random(people) < sensitivity, rng.random(people) >= specificity)
    positives = int(positive.sum())
    if positives == 0:
        raise ValueError(f"people: no positives among {people} simulated people at this test's prevalence, "
                         "sensitivity and specificity; simulate more people")
    return float(np.sum(ill & positive) / positives), positives
