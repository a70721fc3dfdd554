"""Adam three ways on one logistic-regression loss: NumPy from scratch, JAX from scratch, torch.

Loss f(w) = mean(softplus(x_i . w) - y_i x_i . w) (binary cross-entropy with logits).
One Adam step with gradient g at step t (counting from 1):
    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
    w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
All three return the whole trajectory (num_steps + 1, d) in float64.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_float, as_float_array, as_instance, as_int, as_matrix, as_rng, same_length,
)

__all__ = ["AdamConfig", "logistic_problem", "logistic_grad", "adam_numpy", "adam_jax", "adam_torch"]


class AdamConfig(NamedTuple):
    lr: float = 1e-2
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


def logistic_problem(n: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features and labels drawn from a logistic model with a random true weight."""
    n, d = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES), as_int(d, "d", minimum=1, maximum=MAX_DIM)
    if n * d > MAX_SAMPLES:
        raise ValueError(f"n * d must be <= {MAX_SAMPLES} (X is dense), got {n} * {d}")
    rng = as_rng(rng, "rng")
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ w_true))).astype(np.float64)
    return X, y


def _check(X, y, w0, config: AdamConfig, num_steps: int):
    X, y = as_matrix(X, "X"), as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    w0 = as_float_array(w0, "w0", ndim=1)
    if w0.shape[0] != X.shape[1]:
        raise ValueError(f"w0 has {w0.shape[0]} entries, X has {X.shape[1]} columns")
    as_instance(config, "config", AdamConfig)
    config = AdamConfig(
        as_float(config.lr, "lr", low=0.0, low_open=True),
        as_float(config.beta1, "beta1", low=0.0, high=1.0, high_open=True),
        as_float(config.beta2, "beta2", low=0.0, high=1.0, high_open=True),
        as_float(config.eps, "eps", low=0.0),
    )
    return X, y, w0, config, as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)


def logistic_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient of the mean binary cross-entropy with logits X w."""
    w = as_float_array(w, "w", ndim=1)
    X, y = as_matrix(X, "X"), as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w has {w.shape[0]} entries, X has {X.shape[1]} columns")
    return _logistic_grad(w, X, y)


def _logistic_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return X.T @ (1.0 / (1.0 + np.exp(-X @ w)) - y) / X.shape[0]


def adam_numpy(X, y, w0, config: AdamConfig = AdamConfig(), num_steps: int = 100) -> np.ndarray:
    """Bias-corrected Adam written out in NumPy."""
    X, y, w, (lr, b1, b2, eps), num_steps = _check(X, y, w0, config, num_steps)
    m, v = np.zeros_like(w), np.zeros_like(w)
    trajectory = [w.copy()]
    for t in range(1, num_steps + 1):
        g = _logistic_grad(w, X, y)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        trajectory.append(w.copy())
    return np.stack(trajectory)


def adam_jax(X, y, w0, config: AdamConfig = AdamConfig(), num_steps: int = 100) -> np.ndarray:
    """The same update in JAX: `jax.grad` of the loss, the loop as one jitted `lax.scan` (x64)."""
    import jax
    import jax.numpy as jnp

    X, y, w0, (lr, b1, b2, eps), num_steps = _check(X, y, w0, config, num_steps)

    def loss(w, X, y):
        z = X @ w
        return jnp.mean(jax.nn.softplus(z) - y * z)

    grad = jax.grad(loss)

    def step(carry, t):
        w, m, v = carry
        g = grad(w, X, y)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + eps)
        return (w, m, v), w

    with jax.enable_x64(True):
        w0_j = jnp.asarray(w0)
        zeros = jnp.zeros_like(w0_j)
        steps = jnp.arange(1, num_steps + 1, dtype=jnp.float64)
        _, path = jax.jit(lambda w: jax.lax.scan(step, (w, zeros, zeros), steps))(w0_j)
        return np.concatenate([w0[None, :], np.asarray(path)])


def adam_torch(X, y, w0, config: AdamConfig = AdamConfig(), num_steps: int = 100) -> np.ndarray:
    """`torch.optim.Adam` (no amsgrad, no weight decay) on the same loss, float64 autograd."""
    import torch

    X, y, w0, (lr, b1, b2, eps), num_steps = _check(X, y, w0, config, num_steps)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=lr, betas=(b1, b2), eps=eps, amsgrad=False, weight_decay=0.0)
    trajectory = [w.detach().clone()]
    for _ in range(num_steps):
        optimizer.zero_grad()
        z = X_t @ w
        torch.mean(torch.nn.functional.softplus(z) - y_t * z).backward()
        optimizer.step()
        trajectory.append(w.detach().clone())
    return torch.stack(trajectory).numpy()
