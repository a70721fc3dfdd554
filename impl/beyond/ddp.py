"""The notes' DistributedDataParallel example, checked where a CPU machine can check it.

- Backends: NCCL is NVIDIA's GPU collective library; a CPU-only torch build has no NCCL at all, so
  `init_process_group("nccl")` cannot start there. Gloo runs collectives over TCP on CPUs.
  `backend_all_reduce` starts `world_size` processes on the loopback interface, each contributing
  rank + 1 to an all-reduce, and reports what each one saw (or the error that stopped it).
- Shuffling: `DistributedSampler(shuffle=True)` seeds its permutation with seed + epoch, and the
  epoch only changes through `sampler.set_epoch(epoch)`; without that call every epoch repeats
  epoch 0's order.
"""
from __future__ import annotations

import datetime
import os
import socket

from impl.checks import as_bool, as_int, as_str

__all__ = ["backend_all_reduce", "sampler_orders"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_worker, args=(world_size, backend, _free_port(), results), nprocs=world_size, join=True)
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
