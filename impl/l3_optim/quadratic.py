"""Gradient descent and momentum on quadratics f(x) = 1/2 x^T A x - b^T x (A symmetric positive definite).

The minimiser is x* = A^{-1} b and the error e_k = x_k - x* of GD with step lr evolves as
e_{k+1} = (I - lr A) e_k, so with eigenvalues in [mu, L] and lr = 1/L it shrinks at least by
(1 - mu/L) per step, and any lr > 2/L makes the top eigen-direction grow.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from impl.checks import MAX_STEPS, as_float, as_float_array, as_int, as_matrix, as_rng, finite_or_diverged

__all__ = [
    "METHODS", "Quadratic", "from_spectrum", "gd_error_norms_jax", "iterations_numpy", "iterations_torch",
]

METHODS = ("gd", "heavy_ball", "nesterov")


class Quadratic(NamedTuple):
    A: np.ndarray
    b: np.ndarray
    x_star: np.ndarray
    eigenvectors: np.ndarray  # columns, in the order of `eigenvalues`
    eigenvalues: np.ndarray


def from_spectrum(eigenvalues, rng: np.random.Generator) -> Quadratic:
    """A = Q diag(eigenvalues) Q^T with a random orthogonal Q, and a random b."""
    eigenvalues = as_float_array(eigenvalues, "eigenvalues", ndim=1)
    if np.any(eigenvalues <= 0):
        raise ValueError(f"eigenvalues must be > 0 (A positive definite), min is {eigenvalues.min()}")
    rng = as_rng(rng, "rng")
    d = eigenvalues.size
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))  # Haar-distributed rotation
    A = (Q * eigenvalues) @ Q.T
    A = (A + A.T) / 2
    b = rng.standard_normal(d)
    return Quadratic(A, b, np.linalg.solve(A, b), Q, eigenvalues)


def _check_problem(A, b, x0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A, b, x0 = as_matrix(A, "A"), as_float_array(b, "b", ndim=1), as_float_array(x0, "x0", ndim=1)
    if A.shape != (x0.size, x0.size) or b.size != x0.size:
        raise ValueError(f"A must be {x0.size}x{x0.size} and b length {x0.size} (x0 has {x0.size}), "
                         f"got A {A.shape}, b {b.shape}")
    return A, b, x0


@functools.lru_cache(maxsize=8)
def _gd_scan(num_steps: int):
    """Jitted GD over `num_steps` (compiled once per step count and shape, reused across A, b, lr)."""
    import jax
    import jax.numpy as jnp

    def run(A, b, x_star, x0, lr):
        grad = jax.grad(lambda x: 0.5 * x @ A @ x - b @ x)

        def step(x, _):
            x = x - lr * grad(x)
            return x, jnp.linalg.norm(x - x_star)

        return jax.lax.scan(step, x0, None, length=num_steps)[1]

    return jax.jit(run)


def gd_error_norms_jax(A, b, x0, lr: float, num_steps: int) -> np.ndarray:
    """||x_k - x*|| for k = 0..num_steps of GD driven by `jax.grad` of f, jitted, float64."""
    import jax

    A, b, x0 = _check_problem(A, b, x0)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)  # XLA aborts the process on a huge scan
    x_star = np.linalg.solve(A, b)
    with jax.enable_x64(True):
        norms = _gd_scan(num_steps)(A, b, x_star, x0, np.float64(lr))
        return finite_or_diverged(np.concatenate([[np.linalg.norm(x0 - x_star)], np.asarray(norms)]),
                                  "gradient descent", f"lr = {lr:g}")


def _check_run(A, b, x0, lr, beta, tol, max_iter):
    A, b, x0 = _check_problem(A, b, x0)
    return (A, b, x0, as_float(lr, "lr", low=0.0, low_open=True),
            as_float(beta, "beta", low=0.0, high=1.0, high_open=True),
            as_float(tol, "tol", low=0.0, low_open=True), as_int(max_iter, "max_iter", minimum=1, maximum=MAX_STEPS))


def iterations_numpy(A, b, x0, lr: float, method: str, beta: float = 0.9, tol: float = 1e-6,
                     max_iter: int = 100_000) -> int:
    """Steps until ||grad f|| <= tol, with PyTorch's SGD conventions written out in NumPy.

    heavy ball: v <- beta v + g, x <- x - lr v;  Nesterov: v <- beta v + g, x <- x - lr (g + beta v).
    Returns max_iter + 1 if it never gets there.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    A, b, x, lr, beta, tol, max_iter = _check_run(A, b, x0, lr, beta, tol, max_iter)
    v = np.zeros_like(x)
    for k in range(max_iter + 1):
        g = A @ x - b
        if np.linalg.norm(g) <= tol:
            return k
        if method == "gd":
            x = x - lr * g
        else:
            v = beta * v + g
            x = x - lr * (g + beta * v if method == "nesterov" else v)
    return max_iter + 1


def iterations_torch(A, b, x0, lr: float, method: str, beta: float = 0.9, tol: float = 1e-6,
                     max_iter: int = 100_000) -> int:
    """The same count with `torch.optim.SGD(momentum=beta, nesterov=...)` and autograd, float64."""
    import torch

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    A, b, x0, lr, beta, tol, max_iter = _check_run(A, b, x0, lr, beta, tol, max_iter)
    A_t, b_t = torch.from_numpy(A), torch.from_numpy(b)
    x = torch.tensor(x0, requires_grad=True)
    momentum = 0.0 if method == "gd" else beta
    optimizer = torch.optim.SGD([x], lr=lr, momentum=momentum, nesterov=method == "nesterov")
    for k in range(max_iter + 1):
        optimizer.zero_grad()
        (0.5 * x @ A_t @ x - b_t @ x).backward()
        if torch.linalg.vector_norm(x.grad).item() <= tol:
            return k
        optimizer.step()
    return max_iter + 1
