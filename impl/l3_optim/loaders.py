"""A course-style MNIST input pipeline: a Dataset that builds every sample on request.

This mirrors what `torchvision.datasets.MNIST` with `ToTensor()` and `Normalize((0.1307,), (0.3081,))`
does per image (uint8 array -> PIL image -> float tensor in [0, 1] -> normalised), read through
`DataLoader(batch_size, shuffle=True, num_workers=0)`. torchvision itself does not import on this
stack, so the per-sample path is re-implemented here with the same operations.
"""
from __future__ import annotations

import numpy as np

from impl.checks import (
    MAX_SAMPLES, MAX_STEPS, as_images, as_instance, as_int, as_labels, as_seed, as_tensor, same_length,
)
from impl.l3_optim.mlp import PIXEL_MEAN, PIXEL_STD

__all__ = ["course_dataset", "course_loader", "fast_batches", "course_batches", "train_steps"]


def course_dataset(X, y):
    """A torch Dataset doing the torchvision MNIST + ToTensor + Normalize work per sample."""
    X, y = as_images(X, "X", shape=(28, 28)), as_labels(y, "y", num_classes=10)
    same_length("X", X, "y", y)
    import torch
    from PIL import Image

    images, labels = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    mean, std = torch.as_tensor([PIXEL_MEAN]), torch.as_tensor([PIXEL_STD])

    class CourseStyleMNIST(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            picture = Image.fromarray(images[i].numpy())                           # torchvision MNIST
            tensor = torch.from_numpy(np.array(picture, np.uint8, copy=True))      # ToTensor
            tensor = tensor.view(28, 28, 1).permute(2, 0, 1).contiguous().to(torch.float32).div(255)
            tensor = tensor.sub_(mean[:, None, None]).div_(std[:, None, None])     # Normalize
            return tensor, int(labels[i])

    return CourseStyleMNIST()


def course_loader(X, y, *, batch_size: int, seed: int):
    """DataLoader over `course_dataset`; its shuffle draws the same permutation as `mlp.train` with `seed`."""
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    seed = as_seed(seed)
    dataset = course_dataset(X, y)
    import torch

    # The sampler gets its own generator: the DataLoader draws a worker base seed from the
    # generator it is given, which would shift the permutations (the script's shuffle=True).
    sampler = torch.utils.data.RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0,
                                       generator=torch.Generator().manual_seed(seed))


def fast_batches(X, y, *, batch_size: int, seed: int):
    """Endless (images, labels) batches from pre-converted tensors, in `mlp.train`'s order.

    Arguments are checked on the call, not on the first `next()`.
    """
    X = as_tensor(X, "X", ndim=2, floating=True)
    y = as_tensor(y, "y", ndim=1, floating=False, num_classes=10)
    same_length("X", X, "y", y)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    return _fast_batches(X, y, batch_size, as_seed(seed))


def _fast_batches(X, y, batch_size: int, seed: int):
    import torch

    generator = torch.Generator().manual_seed(seed)
    while True:
        for index in torch.randperm(len(X), generator=generator).split(batch_size):
            yield X[index], y[index]


def course_batches(loader):
    """Endless flattened batches from a course-style loader (the script's `x.view(-1, 784)`)."""
    import torch

    return _course_batches(as_instance(loader, "loader", torch.utils.data.DataLoader))


def _course_batches(loader):
    while True:
        for images, labels in loader:
            yield images.view(-1, 784), labels


def train_steps(model, optimizer, batches, num_steps: int) -> list[float]:
    """`num_steps` minibatch steps drawn from the iterator `batches`; returns the losses."""
    import torch

    as_instance(model, "model", torch.nn.Module)
    as_instance(optimizer, "optimizer", torch.optim.Optimizer)
    if not hasattr(batches, "__next__"):
        raise TypeError(f"batches must be an iterator of (images, labels), got {type(batches).__name__}")
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(num_steps):
        images, labels = next(batches)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
