"""The JAX-vs-NumPy workloads of Lesson 1, each as a pair of zero-argument callables.

Every builder returns (jax_fn, numpy_fn) over the same inputs, ready for
`impl.timing.compare`; both sides compute the same result.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from impl.checks import MAX_SAMPLES, as_int, as_rng, as_str
from impl.l1_linalg.mf import _check as _check_factorization

__all__ = ["Pair", "MAX_MATMUL_SIZE", "matmul", "elementwise_chain", "transcendental_chain", "mf_steps"]

Pair = tuple[Callable[[], Any], Callable[[], Any]]
MAX_MATMUL_SIZE = 10**4  # two float32 operands of 400 MB each; the perf claims' largest is 4,096


def _device(kind: str):
    import jax

    return jax.devices(kind)[0]


def matmul(size: int, rng: np.random.Generator, device: str = "cpu") -> Pair:
    """float32 (size x size) @ (size x size): BLAS-bound on both sides."""
    import jax
    import jax.numpy as jnp

    size = as_int(size, "size", minimum=1, maximum=MAX_MATMUL_SIZE)
    rng = as_rng(rng, "rng")
    device = as_str(device, "device", choices=("cpu", "gpu"))
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    dev = _device(device)
    a_j, b_j = jax.device_put(a, dev), jax.device_put(b, dev)
    jitted = jax.jit(jnp.matmul)
    return (lambda: jitted(a_j, b_j)), (lambda: a @ b)


def _cheap_chain(xp, x):
    # Ten cheap elementwise operations: NumPy makes a pass over memory for each,
    # XLA fuses them into one, so this chain is bound by memory traffic.
    y = x * 1.5
    y = y + 0.25
    y = y * y
    y = y - 0.5
    y = xp.abs(y)
    y = xp.sqrt(y)
    y = y * 3.0
    y = xp.minimum(y, 2.0)
    y = y * 0.5
    return y + x


def _transcendental_chain(xp, x):
    # The same length with sin/tanh/exp inside: arithmetic, not memory, dominates.
    y = xp.sin(x * 1.5)
    y = xp.tanh(y + 0.25)
    y = xp.exp(-y * y)
    y = xp.sqrt(xp.abs(y - 0.5))
    y = xp.cos(y * 3.0)
    return y + x


def _chain_pair(chain, n: int, rng: np.random.Generator) -> Pair:
    import jax
    import jax.numpy as jnp

    n = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES)
    rng = as_rng(rng, "rng")
    x = rng.standard_normal(n, dtype=np.float32)
    x_j = jax.device_put(x)
    jitted = jax.jit(lambda v: chain(jnp, v))
    return (lambda: jitted(x_j)), (lambda: chain(np, x))


def elementwise_chain(n: int, rng: np.random.Generator) -> Pair:
    """Ten chained cheap elementwise ops on n float32 values: memory-bound, so fusion matters."""
    return _chain_pair(_cheap_chain, n, rng)


def transcendental_chain(n: int, rng: np.random.Generator) -> Pair:
    """Ten chained ops including sin/tanh/exp/cos: compute-bound, so fusion matters less."""
    return _chain_pair(_transcendental_chain, n, rng)


def mf_steps(A: np.ndarray, W: np.ndarray, H: np.ndarray, lr: float, num_steps: int) -> Pair:
    """`num_steps` matrix-factorization GD steps: one jitted `fori_loop` vs a Python loop (float32)."""
    import jax
    import jax.numpy as jnp

    A, W, H, lr, num_steps = _check_factorization(A, W, H, lr, num_steps)
    A, W, H = (np.asarray(v, dtype=np.float32) for v in (A, W, H))
    lr32 = np.float32(lr)

    def body(_, carry):
        W_, H_ = carry
        R = A_j - W_ @ H_
        return W_ + lr32 * R @ H_.T, H_ + lr32 * W_.T @ R

    A_j, W_j, H_j = (jnp.asarray(v) for v in (A, W, H))
    looped = jax.jit(lambda W_, H_: jax.lax.fori_loop(0, num_steps, body, (W_, H_)))

    def numpy_loop():
        W_, H_ = W, H
        for _ in range(num_steps):
            R = A - W_ @ H_
            W_, H_ = W_ + lr32 * R @ H_.T, H_ + lr32 * W_.T @ R
        return W_, H_

    return (lambda: looped(W_j, H_j)), numpy_loop
