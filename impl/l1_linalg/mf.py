"""Low-rank matrix factorization A ~ W H by full-batch gradient descent, in JAX and NumPy.

Loss f(W, H) = 1/2 ||A - W H||_F^2; one step moves both factors at once:
W <- W + lr (A - W H) H^T,  H <- H + lr W^T (A - W H).
The JAX version runs the whole loop inside one jitted `lax.scan` (float64).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_float, as_int, as_matrix, as_rng, finite_or_diverged

__all__ = ["Problem", "make_problem", "residual_norm", "fit_numpy", "fit_jax", "make_jitted_step"]


class Problem(NamedTuple):
    A: np.ndarray
    W0: np.ndarray
    H0: np.ndarray
    rank: int
    lr: float
    optimum: float  # Eckart-Young: the smallest ||A - W H||_F over rank-`rank` products


def make_problem(
    m: int, n: int, rank: int, noise: float, init_scale: float, rng: np.random.Generator
) -> Problem:
    """A rank-`rank` matrix plus Gaussian noise, a small random init, and lr = 1 / sigma_1^2."""
    m, n = as_int(m, "m", minimum=1, maximum=MAX_DIM), as_int(n, "n", minimum=1, maximum=MAX_DIM)
    if m * n > MAX_SAMPLES:
        raise ValueError(f"m * n must be <= {MAX_SAMPLES} (A is dense), got {m} * {n}")
    rank = as_int(rank, "rank", minimum=1, maximum=min(m, n))
    noise = as_float(noise, "noise", low=0.0)
    init_scale = as_float(init_scale, "init_scale", low=0.0, low_open=True)
    rng = as_rng(rng, "rng")
    A = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n)) + noise * rng.standard_normal((m, n))
    s = np.linalg.svd(A, compute_uv=False)
    W0 = init_scale * rng.standard_normal((m, rank))
    H0 = init_scale * rng.standard_normal((rank, n))
    optimum = finite_or_diverged(np.sqrt(np.sum(s[rank:] ** 2)), "the problem's optimum",
                                 f"noise = {noise:g}, init_scale = {init_scale:g}", verb="overflowed")
    return Problem(A, W0, H0, rank, float(1.0 / s[0] ** 2), float(optimum))


def _check_factors(A, W, H) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A = as_matrix(A, "A")
    W, H = as_matrix(W, "W"), as_matrix(H, "H")
    if W.shape[0] != A.shape[0] or H.shape[1] != A.shape[1] or W.shape[1] != H.shape[0]:
        raise ValueError(f"shapes do not chain: A {A.shape}, W {W.shape}, H {H.shape}")
    return A, W, H


def _check(A: np.ndarray, W: np.ndarray, H: np.ndarray, lr: float, num_steps: int):
    A, W, H = _check_factors(A, W, H)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    return A, W, H, lr, num_steps


def residual_norm(A: np.ndarray, W: np.ndarray, H: np.ndarray) -> float:
    """||A - W H||_F."""
    A, W, H = _check_factors(A, W, H)
    return float(np.linalg.norm(A - W @ H))


def fit_numpy(A, W, H, lr: float, num_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain NumPy loop; returns W, H and the loss after each step."""
    A, W, H, lr, num_steps = _check(A, W, H, lr, num_steps)
    losses = np.empty(num_steps)
    for step in range(num_steps):
        R = A - W @ H
        W, H = W + lr * R @ H.T, H + lr * W.T @ R
        losses[step] = 0.5 * np.sum((A - W @ H) ** 2)
    return W, H, finite_or_diverged(losses, "gradient descent", f"lr = {lr:g}")


def _jax_scan_fit(num_steps: int):
    import jax
    import jax.numpy as jnp

    def step(carry, _):
        W, H, A, lr = carry
        R = A - W @ H
        W, H = W + lr * R @ H.T, H + lr * W.T @ R
        return (W, H, A, lr), 0.5 * jnp.sum((A - W @ H) ** 2)

    @jax.jit
    def run(A, W, H, lr):
        (W, H, _, _), losses = jax.lax.scan(step, (W, H, A, lr), None, length=num_steps)
        return W, H, losses

    return run


def fit_jax(A, W, H, lr: float, num_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same iteration as `fit_numpy`, jitted end to end with `lax.scan`, in float64."""
    import jax

    A, W, H, lr, num_steps = _check(A, W, H, lr, num_steps)
    with jax.enable_x64(True):
        W, H, losses = _jax_scan_fit(num_steps)(A, W, H, np.float64(lr))
        return np.asarray(W), np.asarray(H), finite_or_diverged(np.asarray(losses), "gradient descent", f"lr = {lr:g}")


def make_jitted_step():
    """A jitted single GD step plus a counter of how often JAX traced it.

    The counter is a Python side effect inside the traced function: it runs only
    while tracing, so it counts compilations, not calls.
    """
    import jax

    traces = {"count": 0}

    @jax.jit
    def step(A, W, H, lr):
        traces["count"] += 1
        R = A - W @ H
        return W + lr * R @ H.T, H + lr * W.T @ R

    return step, traces
