"""The GAN value function for one-dimensional Gaussians, and the optimal discriminator.

For data p = N(0, 1) and generator q = N(mu, 1), V(D, G) = E_p[log D] + E_q[log(1 - D)] is maximised
by D*(x) = p(x) / (p(x) + q(x)) = 1 / (1 + exp(mu x - mu^2 / 2)), where V(D*, G) = -log 4 + 2 JSD(p, q)
(Goodfellow et al., 2014). A logistic regression on samples of both is a consistent estimate of D*,
because log D* / (1 - D*) is linear in x here.
"""
from __future__ import annotations

import numpy as np

from impl.checks import MAX_SAMPLES, as_float, as_float_array, as_int, as_rng

__all__ = ["optimal_discriminator", "value_at_optimum", "jensen_shannon", "fit_discriminator"]


def _mu(mu: float) -> float:
    return as_float(mu, "mu", low=-20.0, high=20.0)


def optimal_discriminator(x, mu: float) -> np.ndarray:
    """D*(x) = 1 / (1 + exp(mu x - mu^2 / 2)) for data N(0, 1) against generator N(mu, 1)."""
    x = as_float_array(x, "x", ndim=1)
    mu = _mu(mu)
    return 1.0 / (1.0 + np.exp(mu * x - mu * mu / 2.0))


def _integrate(integrand) -> float:
    from scipy import integrate

    value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13, limit=200)
    return float(value)


def value_at_optimum(mu: float) -> float:
    """V(D*, G) by numerical integration of p log D* + q log(1 - D*)."""
    from scipy.stats import norm

    mu = _mu(mu)

    def integrand(x):
        log_d = -np.logaddexp(0.0, mu * x - mu * mu / 2.0)         # log D*, computed stably
        log_1md = -np.logaddexp(0.0, -(mu * x - mu * mu / 2.0))    # log(1 - D*)
        return norm.pdf(x) * log_d + norm.pdf(x, loc=mu) * log_1md

    return _integrate(integrand)


def jensen_shannon(mu: float) -> float:
    """JSD(N(0, 1), N(mu, 1)) in nats, by numerical integration (independent of the value function)."""
    from scipy.stats import norm

    mu = _mu(mu)

    def integrand(x):
        p, q = norm.pdf(x), norm.pdf(x, loc=mu)
        m = (p + q) / 2.0
        return 0.5 * (p * np.log(p / m) if p > 0 else 0.0) + 0.5 * (q * np.log(q / m) if q > 0 else 0.0)

    return _integrate(integrand)


def fit_discriminator(mu: float, num_samples: int, rng: np.random.Generator):
    """Logistic regression (no penalty) of "came from the data" on `num_samples` draws of each
    distribution; returns the fitted sklearn model (predict_proba(x)[:, 1] estimates D*)."""
    from sklearn.linear_model import LogisticRegression

    mu = _mu(mu)
    n = as_int(num_samples, "num_samples", minimum=2, maximum=MAX_SAMPLES // 2)
    rng = as_rng(rng, "rng")
    x = np.concatenate([rng.normal(0.0, 1.0, n), rng.normal(mu, 1.0, n)])[:, None]
    y = np.concatenate([np.ones(n, dtype=int), np.zeros(n, dtype=int)])
    return LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(x, y)
