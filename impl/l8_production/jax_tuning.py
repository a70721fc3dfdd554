"""Optuna with JAX: an objective that compiles its training loop once for the whole study.

`jax.jit` traces a function again for every new value of a Python-level constant it closes over
(or of a `static_argnums` argument): an objective that builds `lambda p: loss(p, lr=trial_lr)`
pays one trace and one XLA compile per trial. Passing the trial's lr and L2 strength as traced
arrays (`jnp.float32(lr)`) keeps one trace for every trial, since only shapes and dtypes key the
cache. `TraceCounter` counts traces: its increment is Python code in the traced function's body,
which runs while JAX traces and never when a compiled version runs.

The model is multinomial logistic (softmax) regression on the sklearn digits (pixels / 16),
trained by full-batch gradient descent with an L2 penalty for a fixed number of steps (`lax.fori_loop`).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from impl.checks import MAX_STEPS, as_bool, as_float, as_int, as_seed
from impl.isolation import optuna_quiet
from impl.scoring import top1_accuracy

__all__ = ["MAX_TRIALS", "TraceCounter", "digits_split", "make_trainer", "tune", "accuracy"]

MAX_TRIALS = 10_000
NUM_CLASSES = 10


class TraceCounter:
    """How many times the functions that call `hit()` while being traced were traced."""

    def __init__(self):
        self.count = 0

    def hit(self) -> None:
        self.count += 1


def digits_split(seed: int = 0, n_val: int = 450) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_val, y_val): the 1,797 digits scaled to [0, 1], a stratified validation draw."""
    from impl.data import digits, splits

    seed = as_seed(seed)
    n_val = as_int(n_val, "n_val", minimum=10, maximum=1000)
    data = digits.load()
    val, train = splits.stratified_disjoint(data.y, (n_val, len(data.y) - n_val), seed)
    X = (data.X / 16.0).astype(np.float32)
    return X[train], data.y[train], X[val], data.y[val]


def make_trainer(num_steps: int, counter: TraceCounter, *, traced_hparams: bool = True):
    """A function (X, y, lr, l2) -> weights (d + 1, 10) training softmax regression by `num_steps` of
    gradient descent from zero. With `traced_hparams` one jitted function takes lr and l2 as traced
    float32 scalars; without, each call jits a new function closing over them as Python floats."""
    import jax
    import jax.numpy as jnp

    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    if not isinstance(counter, TraceCounter):
        raise TypeError(f"counter must be a TraceCounter, got {type(counter).__name__}")
    traced_hparams = as_bool(traced_hparams, "traced_hparams")

    def fit(X, y, lr, l2):
        counter.hit()  # Python side effect: runs only while tracing
        Xb = jnp.concatenate([X, jnp.ones((X.shape[0], 1), X.dtype)], axis=1)
        onehot = jax.nn.one_hot(y, NUM_CLASSES, dtype=X.dtype)

        def loss(w):
            logits = Xb @ w
            penalty = 0.5 * l2 * jnp.sum(w[:-1] ** 2)
            return -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(logits), axis=1)) + penalty

        grad = jax.grad(loss)
        w0 = jnp.zeros((Xb.shape[1], NUM_CLASSES), X.dtype)
        return jax.lax.fori_loop(0, num_steps, lambda _, w: w - lr * grad(w), w0)

    if traced_hparams:
        compiled = jax.jit(fit)
        return lambda X, y, lr, l2: compiled(X, y, jnp.float32(lr), jnp.float32(l2))
    return lambda X, y, lr, l2: jax.jit(lambda X_, y_: fit(X_, y_, float(lr), float(l2)))(X, y)


def accuracy(weights, X, y) -> float:
    """Share of rows of X whose softmax-regression prediction (weights (d + 1, 10)) equals y."""
    from impl.checks import as_float_array, as_labels, same_length

    weights = as_float_array(weights, "weights", ndim=2)
    X = as_float_array(X, "X", ndim=2)
    y = as_labels(y, "y", num_classes=NUM_CLASSES)
    same_length("X", X, "y", y)
    if weights.shape != (X.shape[1] + 1, NUM_CLASSES):
        raise ValueError(f"weights must have shape {(X.shape[1] + 1, NUM_CLASSES)}, got {weights.shape}")
    return top1_accuracy(X @ weights[:-1] + weights[-1], y)


def _range(value, name: str) -> tuple[float, float]:
    """A (low, high) pair with 0 < low < high."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {value!r}")
    low = as_float(value[0], name, low=0.0, low_open=True)
    return low, as_float(value[1], name, low=low, low_open=True)


def tune(n_trials: int, seed: int, *, traced_hparams: bool = True, num_steps: int = 1000,
         lr_range: tuple[float, float] = (1e-2, 10.0), l2_range: tuple[float, float] = (1e-6, 1e-1)) -> dict[str, Any]:
    """A TPE study (seeded) over lr and L2 (both log-uniform) maximising validation accuracy. Returns the
    study, the trace count, the best value and the wall time of the whole study (compilation included)."""
    import jax.numpy as jnp
    import optuna

    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seed = as_seed(seed)
    (lr_lo, lr_hi), (l2_lo, l2_hi) = _range(lr_range, "lr_range"), _range(l2_range, "l2_range")
    counter = TraceCounter()
    trainer = make_trainer(num_steps, counter, traced_hparams=traced_hparams)
    X, y, X_val, y_val = digits_split(seed)
    X, y = jnp.asarray(X), jnp.asarray(y)

    def objective(trial) -> float:
        weights = trainer(X, y, trial.suggest_float("lr", lr_lo, lr_hi, log=True),
                          trial.suggest_float("l2", l2_lo, l2_hi, log=True))
        return accuracy(np.asarray(weights), X_val, y_val)

    start = time.perf_counter()
    with optuna_quiet():
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return {"study": study, "traces": counter.count, "best_value": study.best_value,
            "best_params": study.best_params, "wall_s": time.perf_counter() - start}
