"""The notes' DistributedDataParallel example, checked where a CPU machine can check it.

- Backends: NCCL is NVIDIA's GPU collective library; a CPU-only torch build has no NCCL at all, so
  `init_process_group("nccl")` cannot start there. Gloo runs collectives over TCP on CPUs.
  `backend_all_reduce` starts `world_size` processes on the loopback interface, each contributing
  rank + 1 to an all-reduce, and reports what each one saw (or the error that stopped it).
- Shuffling: `DistributedSampler(shuffle=True)` seeds its permutation with seed + epoch, and the
  epoch only changes through `sampler.set_epoch(epoch)`; without that call every epoch repeats
  epoch 0's order.
- Zeroing gradients: DDP all-reduces whatever `.grad` holds after `backward`, and autograd adds into
  `.grad`; without `optimizer.zero_grad()` each step applies the running sum of every step's averaged
  gradient so far. `ddp_sgd` trains a float64 linear model under DDP (gloo) both ways on fixed
  batches; `sgd_reference` computes both update rules in NumPy, so the two can be compared exactly.
"""
from __future__ import annotations

import contextlib
import datetime
import os

import numpy as np

from impl.checks import as_bool, as_float, as_int, as_str
from impl.ports import free_port

_FEATURES, _BATCH = 3, 8  # the linear model's inputs and each rank's batch size in `ddp_sgd`

__all__ = ["backend_all_reduce", "sampler_orders", "sgd_batches", "ddp_sgd", "sgd_reference"]


@contextlib.contextmanager
def _no_tracker_left_behind():
    """The spawn start method launches multiprocessing's resource-tracker process, which otherwise lives
    as long as this one: stop it afterwards if this call started it (the caller keeps the children it had)."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker  # the module's singleton; `_stop` is its own shutdown path
    was_running = tracker._fd is not None
    try:
        yield
    finally:
        if not was_running:
            tracker._stop()


def _worker(rank: int, world_size: int, backend: str, port: int, results) -> None:
    import torch
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    try:
        dist.init_process_group(backend, rank=rank, world_size=world_size, timeout=datetime.timedelta(seconds=60))
        value = torch.tensor([float(rank + 1)])
        dist.all_reduce(value)
        results[rank] = ("ok", float(value.item()))
        dist.destroy_process_group()
    except Exception as exc:  # reported to the parent, which decides what it means
        results[rank] = ("error", f"{type(exc).__name__}: {exc}")


def backend_all_reduce(backend: str, world_size: int) -> list[tuple[str, object]]:
    """Per rank, ("ok", all-reduced sum of rank + 1 over the ranks) or ("error", message)."""
    backend = as_str(backend, "backend", choices=("gloo", "nccl"))
    world_size = as_int(world_size, "world_size", minimum=1, maximum=8)
    import torch.multiprocessing as mp

    with _no_tracker_left_behind(), mp.get_context("spawn").Manager() as manager:  # no fork beside threads
        results = manager.dict()
        mp.spawn(_worker, args=(world_size, backend, free_port(), results), nprocs=world_size, join=True)
        return [tuple(results[rank]) for rank in range(world_size)]


def sampler_orders(num_samples: int, num_replicas: int, rank: int, num_epochs: int, set_epoch: bool) -> list[list[int]]:
    """The indices `DistributedSampler(shuffle=True, seed=0)` gives `rank` in each epoch, calling
    `set_epoch(epoch)` before each epoch or not."""
    num_samples = as_int(num_samples, "num_samples", minimum=1, maximum=10**7)
    num_replicas = as_int(num_replicas, "num_replicas", minimum=1, maximum=1024)
    rank = as_int(rank, "rank", minimum=0, maximum=num_replicas - 1)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    set_epoch = as_bool(set_epoch, "set_epoch")
    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(num_samples), num_replicas=num_replicas, rank=rank, shuffle=True, seed=0)
    orders = []
    for epoch in range(num_epochs):
        if set_epoch:
            sampler.set_epoch(epoch)
        orders.append(list(sampler))
    return orders


def sgd_batches(world_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed float64 batches for `ddp_sgd`: X of shape (num_steps, world_size, 8, 3) and y (num_steps,
    world_size, 8, 1), y = X (1, -2, 0.5) + 0.3 + noise, drawn from seed 0 (rank r's step-k batch is [k, r])."""
    world_size = as_int(world_size, "world_size", minimum=1, maximum=8)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10_000)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((num_steps, world_size, _BATCH, _FEATURES))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((num_steps, world_size, _BATCH, 1))
    return X, y


def _sgd_worker(rank: int, world_size: int, port: int, num_steps: int, lr: float, results) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size, timeout=datetime.timedelta(seconds=60))
    try:
        X, y = (torch.from_numpy(a) for a in sgd_batches(world_size, num_steps))
        finals = {}
        for zero_grad in (True, False):
            model = torch.nn.Linear(_FEATURES, 1, dtype=torch.float64)
            with torch.no_grad():  # a fixed start, so no generator is involved
                model.weight.zero_()
                model.bias.zero_()
            ddp_model = DistributedDataParallel(model)
            optimizer = torch.optim.SGD(ddp_model.parameters(), lr=lr)
            for step in range(num_steps):
                if zero_grad:
                    optimizer.zero_grad()
                torch.nn.functional.mse_loss(ddp_model(X[step, rank]), y[step, rank]).backward()
                optimizer.step()
            finals["with_zero_grad" if zero_grad else "without_zero_grad"] = (
                model.weight.detach().flatten().tolist() + model.bias.detach().tolist())
        results[rank] = finals
    finally:
        dist.destroy_process_group()


def ddp_sgd(num_steps: int, lr: float, world_size: int) -> list[dict]:
    """Per rank, the final [w1, w2, w3, b] of SGD (`lr`) under DDP on `sgd_batches`, from zero weights,
    trained once with `optimizer.zero_grad()` before each step and once without (the notes' loop)."""
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10_000)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    world_size = as_int(world_size, "world_size", minimum=1, maximum=8)
    import torch.multiprocessing as mp

    with _no_tracker_left_behind(), mp.get_context("spawn").Manager() as manager:  # no fork beside threads
        results = manager.dict()
        mp.spawn(_sgd_worker, args=(world_size, free_port(), num_steps, lr, results), nprocs=world_size, join=True)
        return [dict(results[rank]) for rank in range(world_size)]


def sgd_reference(num_steps: int, lr: float, world_size: int, accumulate: bool) -> list:
    """The same run in NumPy: each step's gradient is the mean over ranks of d/dtheta mean((X w + b - y)^2)
    on that step's batches; the update uses that gradient, or (`accumulate`) the sum of all so far."""
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10_000)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    world_size = as_int(world_size, "world_size", minimum=1, maximum=8)
    accumulate = as_bool(accumulate, "accumulate")
    X, y = sgd_batches(world_size, num_steps)
    theta, running = np.zeros(_FEATURES + 1), np.zeros(_FEATURES + 1)
    for step in range(num_steps):
        grads = []
        for rank in range(world_size):
            design = np.hstack([X[step, rank], np.ones((_BATCH, 1))])
            residual = design @ theta - y[step, rank, :, 0]
            grads.append(2.0 / _BATCH * design.T @ residual)
        gradient = np.mean(grads, axis=0)
        running = running + gradient if accumulate else gradient
        theta = theta - lr * running
    return theta.tolist()
