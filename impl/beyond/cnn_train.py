"""Training the notes' CNN fast on a CPU, honestly: same network, better engineering.

- Images are converted to one normalised float tensor once, in channels-last memory order (what
  oneDNN's convolutions run fastest on); a batch is one index operation, no per-sample loader.
- Adam with a one-cycle learning-rate schedule (warm-up to `max_lr`, cosine anneal to ~0), which
  reaches a given accuracy in fewer epochs than a constant rate; batch 128 keeps the two cores busy.
- Evaluation runs under `torch.inference_mode` in large chunks.
Steps are timed in windows, so the caller can check the host was quiet while it trained.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from impl.checks import as_float, as_images, as_int, as_labels, as_seed, same_length
from impl.scoring import classifier_accuracy

__all__ = ["TrainResult", "image_tensor", "train_notes_cnn", "accuracy"]

MEAN, STD = 0.1307, 0.3081  # MNIST pixel mean and SD on [0, 1] (checked in D.mnist.pixel_stats)


class TrainResult(NamedTuple):
    model: object
    train_seconds: float            # wall time of the optimisation steps (no evaluation)
    window_seconds: list            # seconds per window of `window_steps` steps (the last may be shorter)
    num_steps: int


def image_tensor(images):
    """uint8 (n, 28, 28) images -> normalised float32 (n, 1, 28, 28) tensor in channels-last order."""
    import torch

    images = as_images(images, "images", shape=(28, 28))
    x = (torch.from_numpy(images).float().div_(255.0).sub_(MEAN).div_(STD)).unsqueeze(1)
    return x.contiguous(memory_format=torch.channels_last)


def train_notes_cnn(images, labels, num_epochs: float, batch_size: int, max_lr: float, seed: int,
                    window_steps: int = 50) -> TrainResult:
    """Train `cnn_shapes.notes_cnn_torch(seed)` for `num_epochs` (fractions allowed) with Adam and a
    one-cycle schedule peaking at `max_lr`; batches shuffled by a generator seeded with `seed`."""
    import torch
    from torch import nn

    from impl.beyond.cnn_shapes import notes_cnn_torch

    labels = as_labels(labels, "labels", num_classes=10)
    images = as_images(images, "images", shape=(28, 28))
    same_length("images", images, "labels", labels)
    num_epochs = as_float(num_epochs, "num_epochs", low=0.0, high=100.0, low_open=True)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=len(images))
    max_lr = as_float(max_lr, "max_lr", low=0.0, high=1.0, low_open=True)
    seed = as_seed(seed)
    window_steps = as_int(window_steps, "window_steps", minimum=1, maximum=10**6)
    X, y = image_tensor(images), torch.from_numpy(np.asarray(labels, dtype=np.int64))
    model = notes_cnn_torch(seed).to(memory_format=torch.channels_last)
    steps_per_epoch = len(X) // batch_size
    num_steps = max(1, int(round(num_epochs * steps_per_epoch)))
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=num_steps, pct_start=0.25)
    generator = torch.Generator().manual_seed(seed)
    windows, step = [], 0
    model.train()
    start = window_start = time.perf_counter()
    while step < num_steps:
        order = torch.randperm(len(X), generator=generator)
        for first in range(0, steps_per_epoch * batch_size, batch_size):
            batch = order[first:first + batch_size]
            loss = nn.functional.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % window_steps == 0 or step == num_steps:
                now = time.perf_counter()
                windows.append(now - window_start)
                window_start = now
            if step == num_steps:
                break
    seconds = time.perf_counter() - start
    model.eval()
    return TrainResult(model, seconds, windows, num_steps)


def accuracy(model, images, labels) -> float:
    """Fraction of uint8 `images` (n, 28, 28) whose arg-max class under `model` is the label
    (`scoring.classifier_accuracy` on the normalised tensor, 2,000 images at a time)."""
    labels = as_labels(labels, "labels", num_classes=10)
    images = as_images(images, "images", shape=(28, 28))
    same_length("images", images, "labels", labels)
    return classifier_accuracy(model, image_tensor(images), labels, batch_size=2000)
