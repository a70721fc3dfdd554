"""The lesson's MNIST network (784-128-10, ReLU) and a fast training loop for it.

Speed comes from doing per-sample work once: images are converted to normalised float32
tensors up front, and each step gathers its batch with one index operation instead of
building it sample by sample. The arithmetic per step is the same as a DataLoader loop's.
"""
from __future__ import annotations

import time
from typing import Callable, NamedTuple

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_bool, as_callable, as_float, as_images, as_instance, as_int, as_labels,
    as_seed, as_str, as_tensor, same_length,
)

__all__ = [
    "PIXEL_MEAN", "PIXEL_STD", "OPTIMIZERS", "Curves", "make_mlp", "to_tensors", "make_optimizer", "evaluate",
    "train",
]

PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # MNIST train pixel mean / SD on the [0, 1] scale
OPTIMIZERS = ("adam", "sgd")


class Curves(NamedTuple):
    """Per-epoch records of one training run (index e = after epoch e + 1)."""
    train_loss: list[float]     # mean minibatch loss during the epoch
    test_accuracy: list[float]  # on the evaluation set after the epoch (empty if none given)
    test_loss: list[float]
    epoch_seconds: list[float]  # training time only, evaluation excluded


def make_mlp(seed: int, hidden: int = 128):
    """Linear(784, hidden) -> ReLU -> Linear(hidden, 10), initialised from `seed` (global RNG untouched)."""
    seed, hidden = as_seed(seed), as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM)
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))


def to_tensors(X, y):
    """uint8 images (n, 28, 28) and labels -> normalised float32 (n, 784) and int64 (n,) tensors."""
    X, y = as_images(X, "X", shape=(28, 28)), as_labels(y, "y", num_classes=10)
    same_length("X", X, "y", y)
    import torch

    images = torch.from_numpy(X.reshape(len(X), 784)).float().div_(255.0).sub_(PIXEL_MEAN).div_(PIXEL_STD)
    return images, torch.from_numpy(y.astype(np.int64))


def make_optimizer(name: str, parameters, lr: float, momentum: float = 0.0):
    """torch.optim.Adam, or SGD (plain unless `momentum` > 0), over `parameters` (an iterable of
    tensors, e.g. `model.parameters()`)."""
    import torch

    name = as_str(name, "name", choices=OPTIMIZERS)
    momentum = as_float(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if name == "adam" and momentum:
        raise ValueError("momentum applies to sgd only; Adam has its betas")
    if isinstance(parameters, (str, bytes, torch.Tensor)) or not hasattr(parameters, "__iter__"):
        raise TypeError(f"parameters must be an iterable of tensors, got {type(parameters).__name__}")
    parameters = list(parameters)
    if not parameters or not all(isinstance(p, torch.Tensor) for p in parameters):
        raise TypeError("parameters must be a non-empty iterable of tensors")
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    return torch.optim.SGD(parameters, lr=lr, momentum=momentum)


def _check_data(model, X, y, X_name: str = "X", y_name: str = "y"):
    """A torch module and its data: finite float (n, d) inputs of the weights' dtype (torch does not mix
    dtypes in a matmul, and casting would silently round the input) and labels 0..9 of the same length."""
    import torch

    as_instance(model, "model", torch.nn.Module)
    weight = next(model.parameters(), None)
    X = as_tensor(X, X_name, ndim=2, floating=True, dtype=None if weight is None else weight.dtype)
    y = as_tensor(y, y_name, ndim=1, floating=False, num_classes=10)
    same_length(X_name, X, y_name, y)
    return model, X, y


def evaluate(model, X, y, batch_size: int = 2000) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of `model` on pre-converted tensors."""
    import torch

    model, X, y = _check_data(model, X, y)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    correct, total_loss = 0, 0.0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            logits = model(X[start: start + batch_size])
            target = y[start: start + batch_size]
            correct += int((logits.argmax(1) == target).sum())
            total_loss += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
    model.train()
    return correct / len(X), total_loss / len(X)


def train(model, optimizer, X, y, *, batch_size: int, num_epochs: int, seed: int,
          X_eval=None, y_eval=None, on_epoch: Callable[[int, Curves], bool] | None = None,
          progress: bool = False) -> Curves:
    """Minibatch training over pre-converted tensors, reshuffled each epoch by a seeded generator.

    The batch order equals a DataLoader's with `shuffle=True, generator=torch.Generator().manual_seed(seed)`
    (both draw `torch.randperm(n)` per epoch). `on_epoch(epoch, curves)` may return True to stop early.
    """
    import torch

    model, X, y = _check_data(model, X, y)
    as_instance(optimizer, "optimizer", torch.optim.Optimizer)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=MAX_STEPS)
    if (X_eval is None) != (y_eval is None):
        raise ValueError("X_eval and y_eval must be given together")
    if X_eval is not None:
        _check_data(model, X_eval, y_eval, "X_eval", "y_eval")
    if on_epoch is not None:
        as_callable(on_epoch, "on_epoch")
    progress = as_bool(progress, "progress")
    generator = torch.Generator().manual_seed(as_seed(seed))
    curves = Curves([], [], [], [])
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = range(num_epochs)
    if progress:
        from tqdm import tqdm

        epochs = tqdm(epochs, desc="epochs", unit="epoch")
    for epoch in epochs:
        start, running, batches = time.perf_counter(), 0.0, 0
        order = torch.randperm(len(X), generator=generator)
        for index in order.to(X.device).split(batch_size):
            loss = loss_fn(model(X[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running += loss.item()
            batches += 1
        if X.is_cuda:
            torch.cuda.synchronize()
        curves.epoch_seconds.append(time.perf_counter() - start)
        curves.train_loss.append(running / batches)
        if X_eval is not None:
            accuracy, test_loss = evaluate(model, X_eval, y_eval)
            curves.test_accuracy.append(accuracy)
            curves.test_loss.append(test_loss)
        if on_epoch is not None and on_epoch(epoch, curves):
            break
    return curves
