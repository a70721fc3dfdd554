"""Adversarial examples by the fast gradient sign method (Goodfellow et al., 2015), and adversarial training.

FGSM moves every pixel by eps in the direction that increases the loss, x' = clip(x + eps sign(grad_x L), 0, 1):
the worst case of a linearised loss within an L-infinity ball. Random signs of the same size cost
almost nothing, so the damage comes from the direction, not the size. Adversarial training fits each
batch half on clean and half on FGSM images made on the fly against the current weights.
Pixels are in [0, 1]; the model is an MLP 784-256-10 (ReLU), Adam 1e-3, batch 64.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_bool, as_float, as_images, as_int, as_labels, as_seed, same_length
from impl.scoring import classifier_accuracy

__all__ = ["to_unit_tensors", "train_mlp", "fgsm", "random_sign", "accuracy"]


def to_unit_tensors(images, labels):
    """uint8 (n, 28, 28) images and labels -> float32 (n, 784) pixels in [0, 1] and int64 labels (torch)."""
    import torch

    images = as_images(images, "images", shape=(28, 28))
    labels = as_labels(labels, "labels", num_classes=10)
    same_length("images", images, "labels", labels)
    return torch.from_numpy(images.reshape(len(images), -1)).float() / 255.0, torch.from_numpy(labels.astype(np.int64))


def _check_model(model):
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}")
    return model


def _weights_dtype(model):
    weight = next(model.parameters(), None)
    return None if weight is None else weight.dtype


def _check_xy(X, y, dtype):
    """Finite float (n, 784) inputs of `dtype` (the model's weights': torch does not mix float dtypes in a
    matmul, and a silent cast would round) and labels 0..9 of the same length."""
    from impl.checks import as_tensor

    X = as_tensor(X, "X", ndim=2, floating=True, dtype=dtype)
    y = as_tensor(y, "y", ndim=1, floating=False, num_classes=10)
    same_length("X", X, "y", y)
    return X, y


def fgsm(model, X, y, eps: float):
    """FGSM images for (X, y) against `model`, clipped to [0, 1]."""
    import torch
    from torch import nn

    model = _check_model(model)
    X, y = _check_xy(X, y, _weights_dtype(model))
    eps = as_float(eps, "eps", low=0.0, high=1.0)
    X = X.clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(X), y)
    (grad,) = torch.autograd.grad(loss, X)
    return (X + eps * grad.sign()).clamp_(0.0, 1.0).detach()


def random_sign(X, eps: float, seed: int):
    """X moved by +-eps per pixel with random signs (seeded), clipped to [0, 1]."""
    import torch

    from impl.checks import as_seed, as_tensor

    X = as_tensor(X, "X", ndim=2, floating=True)
    eps = as_float(eps, "eps", low=0.0, high=1.0)
    seed = as_seed(seed)
    signs = torch.randint(0, 2, X.shape, generator=torch.Generator().manual_seed(seed)).float() * 2 - 1
    return (X + eps * signs).clamp_(0.0, 1.0)


def train_mlp(X, y, num_epochs: int, adversarial: bool, eps: float, seed: int):
    """Train an MLP 784-256-10; with `adversarial`, each batch's loss is the mean of the clean loss
    and the loss on its FGSM images (eps), made against the current weights."""
    import torch
    from torch import nn

    X, y = _check_xy(X, y, torch.float32)  # the MLP built below is float32
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    adversarial = as_bool(adversarial, "adversarial")
    eps = as_float(eps, "eps", low=0.0, high=1.0)
    seed = as_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(num_epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), 64):
            xb, yb = X[order[start:start + 64]], y[order[start:start + 64]]
            loss = nn.functional.cross_entropy(model(xb), yb)
            if adversarial:
                loss = 0.5 * loss + 0.5 * nn.functional.cross_entropy(model(fgsm(model, xb, yb, eps)), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def accuracy(model, X, y) -> float:
    """Share of the rows of X whose arg-max class under `model` is y (`scoring.classifier_accuracy`, one batch)."""
    model = _check_model(model)
    X, y = _check_xy(X, y, _weights_dtype(model))
    return classifier_accuracy(model, X, y, batch_size=len(X))
