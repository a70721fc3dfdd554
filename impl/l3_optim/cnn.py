"""A small MNIST CNN (two 3x3 conv layers, max-pool, 128-unit dense layer) for the GPU-vs-CPU epoch timing.

Takes the same flattened, normalised (n, 784) tensors as the MLP.
"""
from __future__ import annotations

from impl.checks import as_seed

__all__ = ["make_cnn"]


def make_cnn(seed: int):
    import torch
    from torch import nn

    seed = as_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Linear(128, 10),
        )
