"""Learning rate: too large diverges, too small stalls; decaying it removes SGD's noise floor.

`range_test` trains a small digits MLP with plain SGD at one learning rate and reports the
full-data loss before and after; its mini-batches come from `minibatches`, epoch by epoch. `streaming_least_squares` runs batch-1 SGD on fresh
samples of y = x . w* + noise, with the learning-rate sequence taken from torch's schedulers.
"""
from __future__ import annotations

import math

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_float, as_float_array, as_int, as_labels, as_learning_rate, as_matrix, as_rng,
    as_seed, as_str, finite_or_diverged, same_length,
)

__all__ = ["SCHEDULES", "minibatches", "range_test", "schedule", "streaming_least_squares"]

SCHEDULES = ("constant", "inverse_time", "cosine")


def minibatches(n: int, batch_size: int, num_steps: int, seed: int) -> list[np.ndarray]:
    """Row indices for `num_steps` SGD steps over `n` samples, epoch by epoch: each epoch is a fresh
    permutation of range(n) (NumPy, seeded) cut into n // batch_size batches of `batch_size`, the
    remainder left out of that epoch, so no sample repeats within an epoch. With batch_size >= n every
    step sees all n samples (full batch)."""
    n = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    seed = as_seed(seed)
    rng = np.random.default_rng(seed)
    size = min(batch_size, n)
    per_epoch = n // size
    batches: list[np.ndarray] = []
    while len(batches) < num_steps:
        order = rng.permutation(n)
        batches += [order[i * size:(i + 1) * size] for i in range(min(per_epoch, num_steps - len(batches)))]
    return batches


def range_test(X, y, lr: float, *, num_steps: int = 100, batch_size: int = 64, hidden: int = 64,
               seed: int = 0) -> tuple[float, float]:
    """(initial, final) full-data cross-entropy of an MLP d-hidden-10 after `num_steps` SGD steps."""
    X = as_matrix(X, "X")
    y = as_labels(y, "y", num_classes=10)  # the MLP has 10 outputs
    same_length("X", X, "y", y)
    lr = as_learning_rate(lr)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    hidden = as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM)
    seed = as_seed(seed)
    import torch

    X_t, y_t = torch.from_numpy(X).float(), torch.from_numpy(y.astype(np.int64))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    with torch.no_grad():
        initial = loss_fn(model(X_t), y_t).item()
    for rows in minibatches(len(X), batch_size, num_steps, seed):
        index = torch.from_numpy(rows)
        loss = loss_fn(model(X_t[index]), y_t[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        final = loss_fn(model(X_t), y_t).item()
    return initial, final


def schedule(name: str, lr: float, num_steps: int) -> np.ndarray:
    """Per-step learning rates from torch: constant, LambdaLR 1/(1 + lr t), CosineAnnealingLR to 0."""
    name = as_str(name, "name", choices=SCHEDULES)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    import torch

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    if name == "constant":
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0)
    elif name == "inverse_time":  # lr_t = 1 / (1/lr + t): the 1/(mu t) rate for unit curvature
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 / (1.0 + lr * t))
    else:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_steps, eta_min=0.0)
    rates = np.empty(num_steps)
    for step in range(num_steps):
        rates[step] = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
    return rates


def streaming_least_squares(rates, *, dim: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Excess risk ||w_t - w*||^2 after each batch-1 SGD step (x ~ N(0, I), so it is E[loss] - sigma^2)."""
    rates = as_float_array(rates, "rates", ndim=1)
    if np.any(rates < 0):
        raise ValueError("rates must be learning rates >= 0")
    dim = as_int(dim, "dim", minimum=1, maximum=MAX_DIM)
    if rates.size * dim > MAX_SAMPLES:  # one fresh x per step, drawn up front
        raise ValueError(f"rates.size * dim must be <= {MAX_SAMPLES}, got {rates.size} * {dim}")
    noise = as_float(noise, "noise", low=0.0)
    rng = as_rng(rng, "rng")
    w_star = rng.standard_normal(dim) / math.sqrt(dim)
    xs = rng.standard_normal((rates.size, dim))
    ys = xs @ w_star + noise * rng.standard_normal(rates.size)
    w = np.zeros(dim)
    excess = np.empty(rates.size)
    for t, (x, target, lr) in enumerate(zip(xs, ys, rates)):
        w -= lr * (x @ w - target) * x
        excess[t] = np.sum((w - w_star) ** 2)
    return finite_or_diverged(excess, "SGD", f"noise = {noise:g} and learning rates up to {rates.max():g}")
