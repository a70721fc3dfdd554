"""One training step of the same digits MLP in JAX (jit) and PyTorch (eager, or torch.compile).

Both start from identical float32 weights (drawn in NumPy) and take plain SGD steps on the same
batches, so their losses can be compared step for step and their step times fairly timed.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_bool, as_callable, as_float, as_float_array, as_instance, as_int, as_labels,
    as_matrix, as_rng, same_length,
)

__all__ = ["Workload", "make_workload", "jax_trainer", "torch_trainer", "losses"]


class Workload(NamedTuple):
    X: np.ndarray        # (n, d) float32 features
    y: np.ndarray        # (n,) int64 labels
    batches: np.ndarray  # (num_steps, batch_size) row indices, fixed in advance
    params: list         # [W1, b1, W2, b2] float32 initial weights
    lr: float


def make_workload(X, y, *, hidden: int, batch_size: int, num_steps: int, lr: float,
                  rng: np.random.Generator) -> Workload:
    """He-style init for d-hidden-10 and a shuffled batch schedule, all from `rng`."""
    X = as_matrix(X, "X").astype(np.float32)
    y = as_labels(y, "y", num_classes=10).astype(np.int64)  # the net has 10 outputs
    same_length("X", X, "y", y)
    hidden = as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=len(X))
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    if num_steps * batch_size > MAX_SAMPLES:  # the batch schedule is drawn up front
        raise ValueError(f"num_steps * batch_size must be <= {MAX_SAMPLES}, got {num_steps} * {batch_size}")
    rng = as_rng(rng, "rng")
    d = X.shape[1]
    params = [
        (rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d)).astype(np.float32), np.zeros(hidden, np.float32),
        (rng.standard_normal((hidden, 10)) * np.sqrt(1.0 / hidden)).astype(np.float32), np.zeros(10, np.float32),
    ]
    batches = np.stack([rng.choice(len(X), batch_size, replace=False) for _ in range(num_steps)])
    return Workload(X, y, batches, params, lr)


def _checked(work: Any) -> Workload:
    """A Workload passed in, its fields checked as `make_workload` checks its arguments: a NaN feature, weight
    or learning rate, or a batch index outside X, is refused by the field's name. Returned unchanged."""
    as_instance(work, "work", Workload)
    X = as_matrix(work.X, "X")
    same_length("X", X, "y", as_labels(work.y, "y", num_classes=10))
    as_float(work.lr, "lr", low=0.0, low_open=True)
    batches = np.asarray(work.batches)
    if (batches.ndim != 2 or batches.size == 0 or not np.issubdtype(batches.dtype, np.integer)
            or batches.min() < 0 or batches.max() >= len(X)):
        raise ValueError(f"batches must be a non-empty (num_steps, batch_size) array of row indices of X, "
                         f"got {batches.dtype} of shape {batches.shape}")
    if not isinstance(work.params, (list, tuple)) or len(work.params) != 4:
        raise TypeError("params must be the list [W1, b1, W2, b2]")
    for value, ndim in zip(work.params, (2, 1, 2, 1)):
        as_float_array(value, "params", ndim=ndim)
    return work


def jax_trainer(work: Workload) -> tuple[Callable[[int], float], Callable[[], None]]:
    """(step(k) -> loss before the step on batch k, reset()) with a jitted value_and_grad + update."""
    work = _checked(work)
    import jax
    import jax.numpy as jnp

    def loss(params, X, y):
        W1, b1, W2, b2 = params
        logits = jax.nn.relu(X @ W1 + b1) @ W2 + b2
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, y[:, None], 1)[:, 0])

    @jax.jit
    def update(params, X, y):
        value, grads = jax.value_and_grad(loss)(params, X, y)
        return [p - work.lr * g for p, g in zip(params, grads)], value

    X_batches = jnp.asarray(work.X[work.batches])
    y_batches = jnp.asarray(work.y[work.batches].astype(np.int32))
    state = {}

    def reset():
        state["params"] = [jnp.asarray(p) for p in work.params]

    def step(k: int):
        state["params"], value = update(state["params"], X_batches[k], y_batches[k])
        return value

    reset()
    return step, reset


def torch_trainer(work: Workload, compiled: bool = False) -> tuple[Callable[[int], object], Callable[[], None]]:
    """The same step in PyTorch eager mode (or through `torch.compile` of the loss function)."""
    work = _checked(work)
    compiled = as_bool(compiled, "compiled")
    import torch

    X_batches = torch.from_numpy(work.X[work.batches])
    y_batches = torch.from_numpy(work.y[work.batches])
    params = [torch.tensor(p, requires_grad=True) for p in work.params]

    def loss_fn(X, y, W1, b1, W2, b2):
        logits = torch.relu(X @ W1 + b1) @ W2 + b2
        return torch.nn.functional.cross_entropy(logits, y)

    forward = torch.compile(loss_fn) if compiled else loss_fn

    def reset():
        with torch.no_grad():
            for p, init in zip(params, work.params):
                p.copy_(torch.from_numpy(init))

    def step(k: int):
        value = forward(X_batches[k], y_batches[k], *params)
        grads = torch.autograd.grad(value, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(work.lr * g)
        return value.detach()

    return step, reset


def losses(step: Callable[[int], object], reset: Callable[[], None], num_steps: int) -> np.ndarray:
    """Reset to the initial weights and return the loss before each of `num_steps` steps."""
    step, reset = as_callable(step, "step"), as_callable(reset, "reset")
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    reset()
    return np.array([float(step(k)) for k in range(num_steps)])
