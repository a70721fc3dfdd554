"""Training arithmetic: batches per epoch, how many weight updates an epoch makes, and how the
variance of a minibatch gradient shrinks with the batch size."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from impl.checks import MAX_SAMPLES, MAX_STEPS, as_bool, as_float_array, as_int, as_matrix, as_rng, as_seed, same_length

__all__ = ["batches_per_epoch", "count_updates", "minibatch_gradient_variance"]


def batches_per_epoch(num_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """ceil(N / B) batches, or floor(N / B) when the last, short batch is dropped."""
    num_samples = as_int(num_samples, "num_samples", minimum=1, maximum=MAX_SAMPLES)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    drop_last = as_bool(drop_last, "drop_last")
    return num_samples // batch_size if drop_last else math.ceil(num_samples / batch_size)


class Updates(NamedTuple):
    loader_length: int          # len(DataLoader)
    steps_per_epoch: list[int]  # optimizer.step() calls counted by a hook, per epoch
    changes_per_epoch: list[int]  # steps after which the weights actually differ


def count_updates(num_samples: int, batch_size: int, num_epochs: int, *, drop_last: bool = False, seed: int = 0) -> Updates:
    """Train a linear model with SGD over a torch DataLoader (random data) for `num_epochs` standard
    epochs (one `optimizer.step()` per batch) and count the steps and the weight changes per epoch."""
    num_samples = as_int(num_samples, "num_samples", minimum=1, maximum=10**6)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=10**6)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    drop_last = as_bool(drop_last, "drop_last")
    seed = as_seed(seed)
    import torch

    generator = torch.Generator().manual_seed(seed)
    X, y = torch.randn(num_samples, 4, generator=generator), torch.randn(num_samples, 1, generator=generator)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch_size,
                                         shuffle=True, drop_last=drop_last, generator=generator)
    with torch.random.fork_rng(devices=[]):  # seeded init; the caller's generator is left as it was
        torch.manual_seed(seed)
        model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    steps = [0]
    optimizer.register_step_post_hook(lambda *_: steps.__setitem__(0, steps[0] + 1))
    steps_per_epoch, changes_per_epoch = [], []
    for _ in range(num_epochs):
        steps[0], changes = 0, 0
        for xb, yb in loader:
            before = model.weight.detach().clone()
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(xb), yb).backward()
            optimizer.step()
            changes += int(not torch.equal(before, model.weight))
        steps_per_epoch.append(steps[0])
        changes_per_epoch.append(changes)
    return Updates(len(loader), steps_per_epoch, changes_per_epoch)


def minibatch_gradient_variance(X, y, w, batch_size: int, num_draws: int, rng) -> float:
    """Total variance (trace of the covariance) of the logistic-regression loss gradient at `w`
    over `num_draws` minibatches of `batch_size` rows drawn without replacement."""
    X, y, w = as_matrix(X, "X"), as_float_array(y, "y", ndim=1), as_float_array(w, "w", ndim=1)
    same_length("X", X, "y", y)
    if X.shape[1] != len(w):
        raise ValueError(f"w must have {X.shape[1]} entries (one per column of X), got {len(w)}")
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=len(y))
    num_draws = as_int(num_draws, "num_draws", minimum=2, maximum=MAX_STEPS)
    rng = as_rng(rng, "rng")
    per_sample = X * (1 / (1 + np.exp(-(X @ w))) - y)[:, None]  # gradient of each sample's log-loss
    draws = np.array([per_sample[rng.choice(len(y), batch_size, replace=False)].mean(axis=0) for _ in range(num_draws)])
    return float(draws.var(axis=0, ddof=1).sum())
