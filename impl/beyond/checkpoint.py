"""Checkpoint and resume: a run stopped after some epochs and resumed in a fresh process continues
exactly as if it had never stopped, provided the checkpoint holds everything the next step reads.

That is the model's weights, the optimizer's state (Adam's moment estimates and step count) and
the random generator that shuffles the batches. The training here is a digits MLP (64-32-10, Adam
1e-3, batch 64) in float32 with deterministic algorithms, so "exactly" means bitwise.

Run as `python -m impl.beyond.checkpoint <seed> <epochs> <checkpoint in or -> <checkpoint out> <keep optimizer 0|1>`:
that is the fresh process.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from impl.checks import as_bool, as_int, as_path, as_seed
from impl.isolation import torch_state

__all__ = ["train", "train_in_fresh_process"]


def _digits():
    import torch

    from impl.data import digits

    data = digits.load()
    X = (data.X - data.X.mean(axis=0)) / (data.X.std(axis=0) + 1e-8)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(data.y)


def train(seed: int, num_epochs: int, checkpoint_in: Path | None, checkpoint_out: Path, keep_optimizer: bool) -> None:
    """Train `num_epochs` more epochs, starting from `checkpoint_in` (None: fresh weights from `seed`),
    and save weights, optimizer state and shuffling-generator state to `checkpoint_out`. With
    `keep_optimizer` False the saved checkpoint leaves the optimizer state out."""
    import torch
    from torch import nn

    seed = as_seed(seed)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    checkpoint_in = None if checkpoint_in is None else as_path(checkpoint_in, "checkpoint_in")
    checkpoint_out = as_path(checkpoint_out, "checkpoint_out")
    keep_optimizer = as_bool(keep_optimizer, "keep_optimizer")
    with torch_state(deterministic=True):  # restored on exit: the caller's process keeps its setting
        X, y = _digits()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(seed)
        if checkpoint_in is not None:
            state = torch.load(checkpoint_in, weights_only=True)
            model.load_state_dict(state["model"])
            if "optimizer" in state:
                optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"])
        for _ in range(num_epochs):
            order = torch.randperm(len(X), generator=generator)
            for start in range(0, len(X), 64):
                batch = order[start:start + 64]
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
                optimizer.step()
    state = {"model": model.state_dict(), "generator": generator.get_state()}
    if keep_optimizer:
        state["optimizer"] = optimizer.state_dict()
    torch.save(state, checkpoint_out)


def train_in_fresh_process(seed: int, num_epochs: int, checkpoint_in: Path | None, checkpoint_out: Path,
                           keep_optimizer: bool) -> None:
    """`train` run in a new Python process (nothing shared with this one but the checkpoint file and the torch and
    BLAS thread counts, `processes.same_threads_env`, so its arithmetic rounds as this process's would)."""
    seed = as_seed(seed)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    checkpoint_in = None if checkpoint_in is None else as_path(checkpoint_in, "checkpoint_in")
    checkpoint_out = as_path(checkpoint_out, "checkpoint_out")
    keep_optimizer = as_bool(keep_optimizer, "keep_optimizer")
    from impl import paths, processes

    subprocess.run([sys.executable, "-m", "impl.beyond.checkpoint", str(seed), str(num_epochs),
                    "-" if checkpoint_in is None else str(checkpoint_in), str(checkpoint_out), str(int(keep_optimizer))],
                   check=True, cwd=paths.ROOT, timeout=600, env=processes.same_threads_env())


if __name__ == "__main__":
    _seed, _epochs, _in, _out, _keep = sys.argv[1:]
    train(int(_seed), int(_epochs), None if _in == "-" else Path(_in), Path(_out), _keep == "1")
