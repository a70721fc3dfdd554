"""A course-style MNIST input pipeline: a Dataset that builds every sample on request.

This mirrors what `torchvision.datasets.MNIST` with `ToTensor()` and `Normalize((0.1307,), (0.3081,))`
does per image (uint8 array -> PIL image -> float tensor in [0, 1] -> normalised), read through
`DataLoader(batch_size, shuffle=True, num_workers=0)`. torchvision itself does not import on this
stack, so the per-sample path is re-implemented here with the same operations.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_int, same_length
from impl.l3_optim.mlp import PIXEL_MEAN, PIXEL_STD


def course_dataset(X, y):
    """A torch Dataset doing the torchvision MNIST + ToTensor + Normalize work per sample."""
    import torch
    from PIL import Image

    X, y = np.asarray(X), np.asarray(y)
    if X.dtype != np.uint8 or X.ndim != 3 or X.shape[1:] != (28, 28) or X.shape[0] == 0:
        raise ValueError(f"X must be non-empty uint8 images of shape (n, 28, 28), got {X.dtype} {X.shape}")
    same_length("X", X, "y", y)
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
    import torch

    batch_size = as_int(batch_size, "batch_size", minimum=1)
    seed = as_int(seed, "seed", minimum=0)
    dataset = course_dataset(X, y)
    # The sampler gets its own generator: the DataLoader draws a worker base seed from the
    # generator it is given, which would shift the permutations (the script's shuffle=True).
    sampler = torch.utils.data.RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0,
                                       generator=torch.Generator().manual_seed(seed))


def fast_batches(X, y, *, batch_size: int, seed: int):
    """Endless (images, labels) batches from pre-converted tensors, in `mlp.train`'s order."""
    import torch

    generator = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
    while True:
        for index in torch.randperm(len(X), generator=generator).split(batch_size):
            yield X[index], y[index]


def course_batches(loader):
    """Endless flattened batches from a course-style loader (the script's `x.view(-1, 784)`)."""
    while True:
        for images, labels in loader:
            yield images.view(-1, 784), labels


def train_steps(model, optimizer, batches, num_steps: int) -> list[float]:
    """`num_steps` minibatch steps drawn from the iterator `batches`; returns the losses."""
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(as_int(num_steps, "num_steps", minimum=1)):
        images, labels = next(batches)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
