"""The lesson's CIFAR-10 CNN and its search space's knobs: depth, width, dropout, optimizer, learning rate.

`depth` blocks of (3x3 conv, ReLU, 2x2 max-pool), the first `width` channels wide and doubling per
block (depth 2, width 16: 16 then 32 channels), then dropout and one linear layer to the 10 classes.
The network takes flattened, per-channel normalised (n, 3072) tensors, so Lesson 3's seeded
training loop (`impl.l3_optim.mlp.train`: one `torch.randperm` per epoch from a seeded generator,
per-epoch evaluation, an `on_epoch` hook that pruning uses) and its `evaluate` serve unchanged.
Dropout draws from torch's global generator, so training runs inside `fork_rng` seeded by `seed`:
the same config and seed give the same weights, and the caller's RNG state is left alone.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from impl.checks import (
    MAX_SAMPLES, MAX_STEPS, as_callable, as_float, as_images, as_int, as_labels, as_seed, as_str, as_tensor,
    same_length,
)

__all__ = ["CHANNEL_MEAN", "CHANNEL_STD", "OPTIMIZERS", "MAX_DEPTH", "MAX_WIDTH", "CnnConfig", "make_cnn",
           "to_tensors", "make_optimizer", "train_cnn"]

CHANNEL_MEAN = (0.4914, 0.4822, 0.4465)  # CIFAR-10 training-set mean per channel (R, G, B), [0, 1] scale
CHANNEL_STD = (0.2470, 0.2435, 0.2616)
OPTIMIZERS = ("sgd_momentum", "adam")    # SGD with momentum 0.9, or Adam with default betas
MOMENTUM = 0.9
MAX_DEPTH = 5    # five 2x2 pools take 32 pixels to 1
MAX_WIDTH = 512


class CnnConfig(NamedTuple):
    """One point of the search space."""
    depth: int        # conv blocks
    width: int        # channels of the first block (doubling per block)
    dropout: float    # before the linear layer, in [0, 1)
    optimizer: str    # one of OPTIMIZERS
    lr: float


def _check_config(config) -> CnnConfig:
    if not isinstance(config, CnnConfig):
        raise TypeError(f"config must be a CnnConfig, got {type(config).__name__}")
    return CnnConfig(
        depth=as_int(config.depth, "depth", minimum=1, maximum=MAX_DEPTH),
        width=as_int(config.width, "width", minimum=1, maximum=MAX_WIDTH),
        dropout=as_float(config.dropout, "dropout", low=0.0, high=1.0, high_open=True),
        optimizer=as_str(config.optimizer, "optimizer", choices=OPTIMIZERS),
        lr=as_float(config.lr, "lr", low=0.0, low_open=True),
    )


def make_cnn(seed: int, depth: int, width: int, dropout: float):
    """The network for (depth, width, dropout), initialised from `seed` (global RNG untouched)."""
    seed = as_seed(seed)
    config = _check_config(CnnConfig(depth, width, dropout, OPTIMIZERS[0], 1.0))
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):  # every layer is initialised inside: from `seed` alone
        torch.manual_seed(seed)
        layers, channels = [nn.Unflatten(1, (3, 32, 32))], 3
        for block in range(config.depth):
            out = config.width * 2**block
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        side = 32 // 2**config.depth
        return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(channels * side * side, 10))


def to_tensors(X, y):
    """uint8 images (n, 3, 32, 32) and labels 0..9 -> per-channel normalised float32 (n, 3072) and int64 (n,)."""
    X, y = as_images(X, "X", shape=(3, 32, 32)), as_labels(y, "y", num_classes=10)
    same_length("X", X, "y", y)
    import torch

    mean = torch.tensor(CHANNEL_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CHANNEL_STD).view(1, 3, 1, 1)
    images = torch.from_numpy(np.ascontiguousarray(X)).float().div_(255.0).sub_(mean).div_(std)
    return images.reshape(len(X), 3 * 32 * 32), torch.from_numpy(y.astype(np.int64))


def make_optimizer(name: str, parameters, lr: float):
    """SGD with momentum 0.9 (`sgd_momentum`) or Adam (`adam`) over `parameters` (an iterable of tensors):
    the lesson's two choices, built by Lesson 3's factory."""
    from impl.l3_optim import mlp

    name = as_str(name, "name", choices=OPTIMIZERS)
    if name == "adam":
        return mlp.make_optimizer("adam", parameters, lr)
    return mlp.make_optimizer("sgd", parameters, lr, momentum=MOMENTUM)


def train_cnn(config: CnnConfig, X, y, X_val, y_val, *, seed: int, num_epochs: int, batch_size: int,
              on_epoch: Callable | None = None):
    """(model, curves): the network of `config` trained on tensors (X, y) from `to_tensors`, with
    validation accuracy after every epoch (`curves.test_accuracy`, Lesson 3's field name).
    `on_epoch(epoch, curves)` runs after each epoch (a pruner's report; it may raise or return True to stop)."""
    config = _check_config(config)
    X, X_val = as_tensor(X, "X", ndim=2, floating=True), as_tensor(X_val, "X_val", ndim=2, floating=True)
    y = as_tensor(y, "y", ndim=1, floating=False, num_classes=10)
    y_val = as_tensor(y_val, "y_val", ndim=1, floating=False, num_classes=10)
    same_length("X", X, "y", y)
    same_length("X_val", X_val, "y_val", y_val)
    seed = as_seed(seed)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=MAX_STEPS)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    if on_epoch is not None:
        as_callable(on_epoch, "on_epoch")
    import torch

    for name, tensor in (("X", X), ("X_val", X_val)):
        if tensor.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{name} must be (n, 3072) tensors from to_tensors, got shape {tuple(tensor.shape)}")
        if tensor.dtype != torch.float32:  # checked here, so the message names this function's argument
            raise TypeError(f"{name} must be a torch.float32 tensor from to_tensors (the network's weights are "
                            f"float32), got {tensor.dtype}")

    from impl.l3_optim import mlp

    model = make_cnn(seed, config.depth, config.width, config.dropout)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks
        curves = mlp.train(model, optimizer, X, y, batch_size=batch_size, num_epochs=num_epochs, seed=seed,
                           X_eval=X_val, y_eval=y_val, on_epoch=on_epoch)
    return model, curves
