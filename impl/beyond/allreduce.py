"""Distributed-training arithmetic, simulated exactly on one machine.

- Ring all-reduce: each of N workers splits its vector into N chunks; N - 1 reduce-scatter steps
  (pass a chunk to the right neighbour, who adds its own) leave worker i with the full sum of one
  chunk, and N - 1 all-gather steps pass the finished chunks round. Each worker sends
  2 (N - 1) L / N elements, independent of N for large N; a parameter server receives N L.
- Stale gradients: asynchronous SGD applies gradients computed tau steps ago. On a quadratic each
  eigen-mode follows x_{t+1} = x_t - h x_{t-tau} (h = lr * eigenvalue), which is stable exactly
  when 0 < h < 2 sin(pi / (2 (2 tau + 1))) (the classical delay-difference bound).
- Stragglers: a synchronous step waits for the slowest of N workers; with i.i.d. Exp(1) compute
  times that is E[max] = H_N (the harmonic number), and waiting for the fastest N - 1 saves 1.
"""
from __future__ import annotations

import math

import numpy as np

from impl.checks import MAX_SAMPLES, MAX_STEPS, as_float, as_float_array, as_int, as_rng

__all__ = ["ring_allreduce", "parameter_server_mean", "delay_stability_edge", "stale_gradient_descent",
           "sync_step_time"]


def _worker_arrays(arrays) -> np.ndarray:
    """(N, L) worker vectors, N >= 2 and L >= N; integers keep their dtype (exact sums), others become float64."""
    if arrays is None or isinstance(arrays, (str, bytes)):
        raise TypeError(f"arrays must be N equal-length worker vectors, got {type(arrays).__name__}")
    try:
        raw = np.asarray(arrays)
    except ValueError as exc:  # ragged vectors
        raise ValueError(f"arrays must be equal-length worker vectors: {exc}") from exc
    dtype = raw.dtype if np.issubdtype(raw.dtype, np.integer) else np.float64
    stacked = as_float_array(raw, "arrays", ndim=2, min_shape=(2, 1), dtype=dtype)
    if stacked.shape[1] < stacked.shape[0]:
        raise ValueError(f"arrays must have length L >= the number of workers N, got N = {stacked.shape[0]}, "
                         f"L = {stacked.shape[1]}")
    return stacked


def ring_allreduce(arrays) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a ring all-reduce over `arrays` (one equal-length vector per worker).

    Returns (what every worker holds afterwards, shape (N, L); elements each worker sent, shape (N,)).
    Integer inputs stay integers, so the sum is exact.
    """
    data = _worker_arrays(arrays).copy()
    n = len(data)
    bounds = np.linspace(0, data.shape[1], n + 1).round().astype(int)
    chunk = [slice(bounds[c], bounds[c + 1]) for c in range(n)]
    sent = np.zeros(n, dtype=np.int64)
    for step in range(n - 1):  # reduce-scatter: worker i passes chunk (i - step) mod n to worker i + 1
        outgoing = [data[i, chunk[(i - step) % n]].copy() for i in range(n)]
        for i in range(n):
            data[(i + 1) % n, chunk[(i - step) % n]] += outgoing[i]
            sent[i] += outgoing[i].size
    for step in range(n - 1):  # all-gather: worker i owns chunk (i + 1) mod n in full and passes finished chunks on
        outgoing = [data[i, chunk[(i + 1 - step) % n]].copy() for i in range(n)]
        for i in range(n):
            data[(i + 1) % n, chunk[(i + 1 - step) % n]] = outgoing[i]
            sent[i] += outgoing[i].size
    return data, sent


def parameter_server_mean(arrays) -> tuple[np.ndarray, int]:
    """A parameter server's average of the workers' vectors, and the elements it received (N L)."""
    data = _worker_arrays(arrays)
    return data.sum(axis=0) / len(data), int(data.size)


def delay_stability_edge(tau: int) -> float:
    """The largest stable h = lr * eigenvalue for x_{t+1} = x_t - h x_{t - tau}: 2 sin(pi / (2 (2 tau + 1)))."""
    tau = as_int(tau, "tau", minimum=0, maximum=10**6)
    return 2.0 * math.sin(math.pi / (2 * (2 * tau + 1)))


def stale_gradient_descent(eigenvalues, lr: float, tau: int, num_steps: int) -> np.ndarray:
    """Gradient descent on f(x) = sum_i eigenvalue_i x_i^2 / 2 from x = 1 (every mode), each step using
    the gradient at the iterate tau steps back (the start before step 0). Returns ||x_t|| for t = 0..num_steps."""
    lam = as_float_array(eigenvalues, "eigenvalues", ndim=1)
    if np.any(lam <= 0):
        raise ValueError("eigenvalues must be > 0")
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    tau = as_int(tau, "tau", minimum=0, maximum=10**4)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS // max(1, len(lam)))
    history = [np.ones_like(lam)] * (tau + 1)
    norms = [float(np.linalg.norm(history[-1]))]
    for _ in range(num_steps):
        x = history[-1] - lr * lam * history[0]
        history = history[1:] + [x]
        if not np.all(np.abs(x) < 1e150):  # diverged: stop before the norm overflows
            norms.append(math.inf)
            break
        norms.append(float(np.linalg.norm(x)))
    return np.asarray(norms)


def sync_step_time(num_workers: int, num_waited: int, num_rounds: int, rng: np.random.Generator) -> float:
    """Mean step time of synchronous rounds that wait for the fastest `num_waited` of `num_workers`
    workers with i.i.d. Exp(1) compute times (num_waited = num_workers: wait for every one)."""
    n = as_int(num_workers, "num_workers", minimum=1, maximum=10**4)
    k = as_int(num_waited, "num_waited", minimum=1, maximum=n)
    rounds = as_int(num_rounds, "num_rounds", minimum=1, maximum=MAX_SAMPLES // n)
    rng = as_rng(rng, "rng")
    times = np.sort(rng.exponential(1.0, (rounds, n)), axis=1)
    return float(times[:, k - 1].mean())
