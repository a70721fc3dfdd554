"""Gradients of one small tanh network three ways: jax.grad, torch.autograd, central differences.

The network maps inputs X (n, d) through `depth` tanh layers of `width` units to one linear
output; the loss is f(theta) = mean((net(X) - t)^2) / 2. All parameters live in one flat
float64 vector theta so the three gradients can be compared entry by entry.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_DIM, as_float, as_float_array, as_instance, as_int, as_matrix, finite_or_diverged, same_length

__all__ = ["MAX_DEPTH", "Net", "make_net", "grad_jax", "grad_torch", "grad_central_difference", "torch_gradcheck"]

MAX_DEPTH = 1000  # tanh layers; the lesson's net has 3 (a Python loop per layer, and gradients vanish long before)


class Net(NamedTuple):
    sizes: tuple[int, ...]  # layer widths, input first, 1 last

    @property
    def num_params(self) -> int:
        return sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))


def make_net(num_inputs: int, depth: int, width: int) -> Net:
    num_inputs = as_int(num_inputs, "num_inputs", minimum=1, maximum=MAX_DIM)
    depth = as_int(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    width = as_int(width, "width", minimum=1, maximum=MAX_DIM)
    return Net((num_inputs,) + (width,) * depth + (1,))


def _layers(net: Net, theta, xp):
    """Slice theta into (W, b) per layer; works for numpy, jax.numpy and torch (xp = module)."""
    layers, offset = [], 0
    for a, b in zip(net.sizes[:-1], net.sizes[1:]):
        W = xp.reshape(theta[offset: offset + a * b], (a, b))
        offset += a * b
        layers.append((W, theta[offset: offset + b]))
        offset += b
    return layers


def _loss(net: Net, theta, X, t, xp=np):
    """f(theta); `xp` is numpy, jax.numpy or torch (all spell tanh/mean/reshape the same)."""
    h = X
    layers = _layers(net, theta, xp)
    for W, b in layers[:-1]:
        h = xp.tanh(h @ W + b)
    W, b = layers[-1]
    return xp.mean(((h @ W + b)[:, 0] - t) ** 2) / 2


def _check(net: Net, theta, X, t):
    as_instance(net, "net", Net)
    theta = as_float_array(theta, "theta", ndim=1)
    if theta.size != net.num_params:
        raise ValueError(f"theta has {theta.size} entries, the net needs {net.num_params}")
    X, t = as_matrix(X, "X"), as_float_array(t, "t", ndim=1)
    same_length("X", X, "t", t)
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"X has {X.shape[1]} columns, the net takes {net.sizes[0]} inputs")
    return theta, X, t


def grad_jax(net: Net, theta, X, t) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    theta, X, t = _check(net, theta, X, t)
    with jax.enable_x64(True):
        g = jax.jit(jax.grad(lambda th: _loss(net, th, jnp.asarray(X), jnp.asarray(t), jnp)))(jnp.asarray(theta))
        return np.asarray(g)


def _torch_loss_fn(net: Net, X, t):
    """theta -> f(theta) as a torch function of one float64 tensor (what `gradcheck` needs)."""
    import torch

    X_t, t_t = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(t))
    return lambda theta: _loss(net, theta, X_t, t_t, torch)


def grad_torch(net: Net, theta, X, t) -> np.ndarray:
    import torch

    theta, X, t = _check(net, theta, X, t)
    theta_t = torch.tensor(theta, requires_grad=True)
    _torch_loss_fn(net, X, t)(theta_t).backward()
    return theta_t.grad.numpy()


def grad_central_difference(net: Net, theta, X, t, h: float = 1e-6) -> np.ndarray:
    """(f(theta + h e_i) - f(theta - h e_i)) / 2h for every coordinate i, in NumPy."""
    theta, X, t = _check(net, theta, X, t)
    h = as_float(h, "h", low=0.0, low_open=True)
    g = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        g[i] = (_loss(net, theta + step, X, t) - _loss(net, theta - step, X, t)) / (2 * h)
    return finite_or_diverged(g, "the central difference", f"h = {h:g}", verb="overflowed")


def torch_gradcheck(net: Net, theta, X, t) -> bool:
    """`torch.autograd.gradcheck` of f at theta (float64); raises on a mismatch."""
    import torch

    theta, X, t = _check(net, theta, X, t)
    return bool(torch.autograd.gradcheck(_torch_loss_fn(net, X, t), (torch.tensor(theta, requires_grad=True),)))
