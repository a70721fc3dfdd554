"""Full-batch gradient descent on multinomial logistic regression, once in JAX and once in PyTorch.

Parameters are one (d + 1) x K matrix acting on features with a column of ones appended
(the bias row). The mean softmax cross-entropy has Hessian norm at most
1/2 * lambda_max(X^T X / n), so lr = 1 / that bound makes every step decrease the loss.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_STEPS, as_float, as_int, as_matrix, same_length

__all__ = ["Trajectory", "standardize", "smoothness_lr", "gd_jax", "gd_torch"]


class Trajectory(NamedTuple):
    checkpoints: np.ndarray  # (c,) step numbers at which `params` were saved
    params: np.ndarray       # (c, d + 1, K)
    losses: np.ndarray       # (num_steps + 1,) loss before step 1 .. after the last step


def standardize(X) -> np.ndarray:
    """Drop constant columns, scale the rest to mean 0 / SD 1, and append a column of ones."""
    X = as_matrix(X, "X")
    sd = X.std(axis=0)
    keep = sd > 0
    Z = (X[:, keep] - X[:, keep].mean(axis=0)) / sd[keep]
    return np.hstack([Z, np.ones((X.shape[0], 1))])


def smoothness_lr(X) -> float:
    """1 / L with L = 1/2 lambda_max(X^T X / n), the softmax cross-entropy's curvature bound."""
    X = as_matrix(X, "X")
    return float(1.0 / (0.5 * np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1]))


def _check(X, y, lr, num_steps, every):
    X = as_matrix(X, "X")
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.size == 0 or y.min() < 0:
        raise ValueError(f"y must be a 1-D array of class indices >= 0, got {y.dtype} shape {y.shape}")
    same_length("X", X, "y", y)
    return (X, y.astype(np.int64), as_float(lr, "lr", low=0.0, low_open=True),
            as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS),
            as_int(every, "every", minimum=1, maximum=MAX_STEPS))


def gd_jax(X, y, lr: float, num_steps: int, every: int = 50) -> Trajectory:
    """GD from zero with `jax.jit(jax.grad(loss))`, float64."""
    import jax
    import jax.numpy as jnp

    X, y, lr, num_steps, every = _check(X, y, lr, num_steps, every)
    K = int(y.max()) + 1
    with jax.enable_x64(True):
        def loss(W, X, y):
            logits = X @ W
            return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, y[:, None], 1)[:, 0])

        value_and_grad = jax.jit(jax.value_and_grad(loss))
        X_j, y_j, W = jnp.asarray(X), jnp.asarray(y), jnp.zeros((X.shape[1], K))
        losses, saved, steps = [], [np.asarray(W)], [0]
        for step in range(1, num_steps + 1):
            value, grad = value_and_grad(W, X_j, y_j)
            losses.append(float(value))
            W = W - lr * grad
            if step % every == 0:
                saved.append(np.asarray(W))
                steps.append(step)
        losses.append(float(loss(W, X_j, y_j)))
    return Trajectory(np.array(steps), np.stack(saved), np.array(losses))


def gd_torch(X, y, lr: float, num_steps: int, every: int = 50) -> Trajectory:
    """The same iteration with PyTorch autograd (`loss.backward()`), float64."""
    import torch

    X, y, lr, num_steps, every = _check(X, y, lr, num_steps, every)
    K = int(y.max()) + 1
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    W = torch.zeros((X.shape[1], K), dtype=torch.float64, requires_grad=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses, saved, steps = [], [W.detach().clone().numpy()], [0]
    for step in range(1, num_steps + 1):
        loss = loss_fn(X_t @ W, y_t)
        W.grad = None
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            W -= lr * W.grad
        if step % every == 0:
            saved.append(W.detach().clone().numpy())
            steps.append(step)
    with torch.no_grad():
        losses.append(loss_fn(X_t @ W, y_t).item())
    return Trajectory(np.array(steps), np.stack(saved), np.array(losses))
