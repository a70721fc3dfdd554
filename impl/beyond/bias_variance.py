"""The bias-variance decomposition measured on a fixed design: polynomial (Chebyshev) least squares
refitted on many training sets that share the inputs and differ only in their noise."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_DIM, as_float, as_int, as_rng, finite_or_diverged

__all__ = ["decompose"]


class Decomposition(NamedTuple):
    bias2: float            # mean over the inputs of (E f_hat(x) - f(x))^2
    variance: float         # mean over the inputs of Var f_hat(x) across training sets
    expected_error: float   # Monte-Carlo mean of (y_new - f_hat(x))^2 with fresh noise at the same inputs
    train_error: float      # mean of (y_train - f_hat(x))^2: how far fits are from their own targets


def decompose(degree: int, *, n: int, noise: float, num_replicates: int, rng) -> Decomposition:
    """Fit a degree-`degree` Chebyshev polynomial by least squares to `num_replicates` training sets
    y = sin(2 pi x) + N(0, noise^2) on n equispaced x in [0, 1], and measure each term."""
    n = as_int(n, "n", minimum=2, maximum=MAX_DIM)
    degree = as_int(degree, "degree", minimum=0, maximum=n - 1)
    noise = as_float(noise, "noise", low=0.0)
    num_replicates = as_int(num_replicates, "num_replicates", minimum=2, maximum=10**6)
    rng = as_rng(rng, "rng")
    x = np.linspace(0.0, 1.0, n)
    truth = np.sin(2 * np.pi * x)
    design = np.polynomial.chebyshev.chebvander(2 * x - 1, degree)
    y = truth[:, None] + noise * rng.standard_normal((n, num_replicates))
    fits = design @ np.linalg.lstsq(design, y, rcond=None)[0]  # every replicate at once: n x replicates
    y_new = truth[:, None] + noise * rng.standard_normal((n, num_replicates))
    with np.errstate(over="ignore", invalid="ignore"):  # a huge noise squares to inf: refused below, by name
        terms = [np.mean((fits.mean(axis=1) - truth) ** 2), np.mean(fits.var(axis=1)), np.mean((y_new - fits) ** 2),
                 np.mean((y - fits) ** 2)]
    bias2, variance, expected_error, train_error = (float(term) for term in finite_or_diverged(
        np.array(terms), "the decomposition's terms", f"noise = {noise:g}", verb="overflowed"))
    return Decomposition(bias2=bias2, variance=variance, expected_error=expected_error, train_error=train_error)
