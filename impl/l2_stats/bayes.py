"""Bayesian linear regression: PyMC NUTS, ArviZ diagnostics, the closed-form conjugate posterior.

PyMC/ArviZ are imported inside the functions (PyTensor compiles C on first use and
caches it under ~/.pytensor, so later runs skip the compile).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from impl.checks import MAX_SAMPLES, as_float, as_float_array, as_int, as_matrix, as_rng, as_seed, as_str, same_length

__all__ = [
    "linear_data", "standardize", "fit_pymc", "Summary", "summarize", "posterior_draws", "conjugate_posterior",
    "MAX_DRAWS", "MAX_CHAINS",
]

MAX_DRAWS = 10**6  # NUTS draws (or tuning steps) per chain, all kept in memory; the lesson takes 1,000
MAX_CHAINS = 64    # chains (and worker processes); the lesson runs 2


def linear_data(
    n: int, intercept: float, slope: float, noise_sd: float, rng: np.random.Generator, x_half_range: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Design [1, x] with x evenly spaced on [-x_half_range, x_half_range], and y = a + b x + N(0, noise_sd^2).

    A fixed design makes the posterior SD a function of n alone, so the 1/sqrt(n)
    shrinkage is not blurred by the spread of randomly drawn x.
    """
    n = as_int(n, "n", minimum=3, maximum=MAX_SAMPLES)
    intercept, slope = as_float(intercept, "intercept"), as_float(slope, "slope")
    noise_sd = as_float(noise_sd, "noise_sd", low=0.0, low_open=True)
    x_half_range = as_float(x_half_range, "x_half_range", low=0.0, low_open=True)
    rng = as_rng(rng, "rng")
    x = np.linspace(-x_half_range, x_half_range, n)
    X = np.column_stack([np.ones(n), x])
    return X, intercept + slope * x + noise_sd * rng.standard_normal(n)


def standardize(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns of X and y scaled to mean 0, SD 1, with an intercept column prepended to X."""
    X = as_matrix(X, "X", min_shape=(2, 1))
    y = as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    sd = X.std(axis=0)
    if np.any(sd == 0) or y.std() == 0:
        raise ValueError("X and y must not contain constant columns")
    Z = (X - X.mean(axis=0)) / sd
    return np.column_stack([np.ones(len(y)), Z]), (y - y.mean()) / y.std()


def fit_pymc(
    X: np.ndarray, y: np.ndarray, *, coef_prior_sd: float, sigma: float | None = None,
    sigma_prior_sd: float = 5.0, draws: int = 1000, tune: int = 1000, chains: int = 2, seed: int = 0,
    cores: int = 1,
) -> Any:
    """NUTS posterior of y ~ N(X beta, sigma^2), beta ~ N(0, coef_prior_sd^2).

    sigma=None puts a HalfNormal(sigma_prior_sd) prior on sigma; a number fixes it.
    Returns ArviZ InferenceData with `beta` (and `sigma`).
    """
    X = as_matrix(X, "X")
    y = as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    coef_prior_sd = as_float(coef_prior_sd, "coef_prior_sd", low=0.0, low_open=True)
    sigma_prior_sd = as_float(sigma_prior_sd, "sigma_prior_sd", low=0.0, low_open=True)
    if sigma is not None:
        sigma = as_float(sigma, "sigma", low=0.0, low_open=True)
    draws = as_int(draws, "draws", minimum=1, maximum=MAX_DRAWS)
    tune = as_int(tune, "tune", minimum=0, maximum=MAX_DRAWS)
    chains = as_int(chains, "chains", minimum=1, maximum=MAX_CHAINS)
    cores = as_int(cores, "cores", minimum=1, maximum=MAX_CHAINS)
    seed = as_seed(seed)  # the range PyMC's random_seed takes
    import pymc as pm

    with pm.Model():
        beta = pm.Normal("beta", 0.0, coef_prior_sd, shape=X.shape[1])
        noise = pm.HalfNormal("sigma", sigma_prior_sd) if sigma is None else sigma
        pm.Normal("y", pm.math.dot(X, beta), noise, observed=y)
        return pm.sample(
            draws=draws, tune=tune, chains=chains, cores=cores, random_seed=seed,
            progressbar=False, compute_convergence_checks=False,
        )


class Summary(NamedTuple):
    names: list[str]  # beta[0], beta[1], ..., sigma
    mean: np.ndarray
    sd: np.ndarray
    hdi_lo: np.ndarray
    hdi_hi: np.ndarray
    r_hat: np.ndarray
    ess_bulk: np.ndarray
    divergences: int


def summarize(idata: Any, hdi_prob: float = 0.94) -> Summary:
    """ArviZ summary of every posterior variable: mean, SD, HDI, rank-normalized R-hat, bulk ESS."""
    hdi_prob = as_float(hdi_prob, "hdi_prob", low=0.0, high=1.0, low_open=True, high_open=True)
    if not hasattr(idata, "posterior"):
        raise TypeError(f"idata must be ArviZ InferenceData with a posterior, got {type(idata).__name__}")
    import arviz as az

    table = az.summary(idata, hdi_prob=hdi_prob, round_to="none")
    lo_col, hi_col = [c for c in table.columns if c.startswith("hdi_")]
    column = lambda name: table[name].to_numpy(dtype=float)  # noqa: E731
    divergences = int(idata.sample_stats["diverging"].sum()) if hasattr(idata, "sample_stats") else 0
    return Summary(list(table.index), column("mean"), column("sd"), column(lo_col), column(hi_col),
                   column("r_hat"), column("ess_bulk"), divergences)


def posterior_draws(idata: Any, name: str) -> np.ndarray:
    """All draws of one variable, chains stacked: shape (chains * draws, ...)."""
    if not hasattr(idata, "posterior"):
        raise TypeError(f"idata must be ArviZ InferenceData with a posterior, got {type(idata).__name__}")
    name = as_str(name, "name")
    if name not in idata.posterior.data_vars:
        raise ValueError(f"name must be a posterior variable, one of {sorted(idata.posterior.data_vars)}, got {name!r}")
    values = np.asarray(idata.posterior[name])
    return values.reshape(-1, *values.shape[2:])


def conjugate_posterior(X: np.ndarray, y: np.ndarray, sigma: float, prior_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact posterior of beta for known sigma and beta ~ N(0, prior_sd^2 I): (mean, covariance).

    Sigma_post = (X^T X / sigma^2 + I / prior_sd^2)^-1, mean = Sigma_post X^T y / sigma^2.
    """
    X = as_matrix(X, "X")
    y = as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    sigma = as_float(sigma, "sigma", low=0.0, low_open=True)
    prior_sd = as_float(prior_sd, "prior_sd", low=0.0, low_open=True)
    with np.errstate(over="ignore"):  # a huge sigma (prior_sd) squares to inf: the data (the prior) then carry no weight
        sigma2, prior_var = np.float64(sigma) ** 2, np.float64(prior_sd) ** 2
    precision = X.T @ X / sigma2 + np.eye(X.shape[1]) / prior_var
    cov = np.linalg.inv(precision)
    return cov @ X.T @ y / sigma2, cov
