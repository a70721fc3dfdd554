"""Data-parallel training with DistributedDataParallel, launched by `torchrun`; and its single-process twin.

The entry point is this module: `torchrun --nproc-per-node 2 -m impl.l6_bigdata.ddp --out DIR`.
torchrun starts the processes and gives each its RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT;
each joins a gloo process group, wraps the same seeded MLP (64-32-10 on the standardised digits)
in DDP and runs plain SGD on a fixed sequence of global batches, taking its own contiguous
1/WORLD_SIZE of every batch. DDP all-reduces the gradients (their mean over ranks), so every
replica takes the step full-batch training would. Each rank writes its flattened parameters after
every step to DIR/rank<r>.npy. More processes or more machines are torchrun arguments only
(`--nproc-per-node`, `--nnodes`, `--node-rank`, `--master-addr`): the code reads nothing else.

`launch` runs torchrun on this machine (loopback, a free port), as one node or as several launchers
that each play a node (`--nnodes N --node-rank k`), and returns the ranks' snapshots;
`train_single` trains the same model on the whole batches in one process.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from impl import paths
from impl.checks import as_float, as_int, as_path, as_str

__all__ = ["DTYPES", "global_batches", "make_model", "train_single", "launch"]

DTYPES = ("float32", "float64")
BATCH = 64
HIDDEN = 32
LR = 0.1
MAX_PROCESSES = 8


def _torch_dtype(dtype: str):
    import torch

    return {"float32": torch.float32, "float64": torch.float64}[as_str(dtype, "dtype", choices=DTYPES)]


def global_batches(steps: int, batch_size: int = BATCH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of shape (steps, batch_size, 64) and (steps, batch_size): standardised digits drawn
    without replacement by a seeded permutation (reshuffled when it runs out)."""
    from impl.data import digits

    steps = as_int(steps, "steps", minimum=1, maximum=100_000)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=digits.N_SAMPLES)
    rng = np.random.default_rng(as_int(seed, "seed", minimum=0))
    X, y = digits.load()
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    per_epoch = len(X) // batch_size
    order = np.concatenate([rng.permutation(len(X))[: per_epoch * batch_size]
                            for _ in range(-(-steps // per_epoch))])[: steps * batch_size]
    return X[order].reshape(steps, batch_size, -1), y[order].reshape(steps, batch_size)


def make_model(seed: int = 0, dtype: str = "float32"):
    """The seeded MLP 64-32-10 (tanh)."""
    import torch

    torch_dtype = _torch_dtype(dtype)
    torch.manual_seed(as_int(seed, "seed", minimum=0))
    model = torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 10))
    return model.to(torch_dtype)


def _flat(model) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()])


def _train(model, X, y, lr: float, shard: slice) -> np.ndarray:
    """SGD over the batches, each step on rows `shard` of the global batch; parameters after each step."""
    import torch

    dtype = next(model.parameters()).dtype
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    snapshots = []
    for step in range(len(X)):
        inputs = torch.as_tensor(X[step][shard], dtype=dtype)
        labels = torch.as_tensor(y[step][shard], dtype=torch.long)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
        snapshots.append(_flat(getattr(model, "module", model)))
    return np.stack(snapshots)


def train_single(steps: int = 20, dtype: str = "float32", seed: int = 0, lr: float = LR) -> np.ndarray:
    """(steps, n_params): the parameters after each full-batch step in this one process."""
    import torch

    steps = as_int(steps, "steps", minimum=1, maximum=100_000)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    model = make_model(seed, dtype)
    X, y = global_batches(steps, BATCH, seed)
    torch.use_deterministic_algorithms(True)
    return _train(model, X, y, lr, slice(None))


def _worker(out: Path, steps: int, dtype: str, seed: int, lr: float) -> None:
    """One torchrun process: join the group, train its shard under DDP, write its snapshots."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    dist.init_process_group("gloo")  # RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from torchrun
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        if BATCH % world:
            raise ValueError(f"the global batch of {BATCH} must split evenly over {world} processes")
        share = BATCH // world
        model = torch.nn.parallel.DistributedDataParallel(make_model(seed, dtype))
        X, y = global_batches(steps, BATCH, seed)
        snapshots = _train(model, X, y, lr, slice(rank * share, (rank + 1) * share))
        np.save(out / f"rank{rank}.npy", snapshots)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def launch(out_dir, nproc: int = 2, steps: int = 20, dtype: str = "float32", seed: int = 0, lr: float = LR,
           timeout_s: float = 300.0, nnodes: int = 1) -> list[np.ndarray]:
    """Run torchrun on loopback, `nnodes` launchers (one per "node", each `--node-rank k`) of `nproc`
    processes each, all meeting at one free port; return each global rank's (steps, n_params) snapshots."""
    from impl.l6_bigdata.cluster import free_port

    out = as_path(out_dir, "out_dir")
    nproc = as_int(nproc, "nproc", minimum=1, maximum=MAX_PROCESSES)
    steps = as_int(steps, "steps", minimum=1, maximum=100_000)
    dtype = as_str(dtype, "dtype", choices=DTYPES)
    seed = as_int(seed, "seed", minimum=0)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=3600.0, low_open=True)
    nnodes = as_int(nnodes, "nnodes", minimum=1, maximum=MAX_PROCESSES)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        p for p in (str(paths.ROOT), os.environ.get("PYTHONPATH", "")) if p))
    nodes = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(nnodes), "--node-rank", str(node),
         "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1", "--master-port", str(port),
         "-m", "impl.l6_bigdata.ddp", "--out", str(out), "--steps", str(steps), "--dtype", dtype,
         "--seed", str(seed), "--lr", repr(lr)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for node in range(nnodes)]
    failures = []
    try:
        for node, launcher in enumerate(nodes):
            _, stderr = launcher.communicate(timeout=timeout_s)
            if launcher.returncode != 0:
                failures.append(f"node {node}: torchrun exited {launcher.returncode}:\n{stderr[-3000:]}")
    finally:
        for launcher in nodes:
            if launcher.poll() is None:
                launcher.kill()
                launcher.wait()
    if failures:
        raise RuntimeError("\n".join(failures))
    return [np.load(out / f"rank{rank}.npy") for rank in range(nnodes * nproc)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="One DDP training process (start it with torchrun).")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dtype", choices=DTYPES, default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=LR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    _worker(args.out, args.steps, args.dtype, args.seed, args.lr)


if __name__ == "__main__":
    main()
