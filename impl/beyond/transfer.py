"""Transfer learning with few labels: a CNN pretrained on digits 0-4 helps classify digits 5-9 from 50 images.

This stands in for the notes' hub-pretrained ResNet-50 / BERT (not downloadable offline). The
backbone is the notes' CNN's two conv blocks (up to the 1,600-wide flatten); the new head is a fresh
dense 1600 -> 64 (ReLU) -> 5, the same layers the from-scratch network has on top of its convs. (The
backbone's own 64-unit dense layer, tuned to digits 0-4, transfers worse: with it frozen, measured
head accuracy 0.60-0.67 against 0.80-0.88 from scratch.)
- `pretrain`: the whole network on images of the source classes (Adam 1e-3, batch 64).
- `fine_tune_head`: freeze the backbone (requires_grad False) and train only a new head.
- `from_scratch`: the same architecture, every weight trained, on the same few images.
Few-shot training runs full-batch Adam for a fixed number of steps; classes are relabelled 0..4.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_images, as_int, as_labels, same_length

__all__ = ["pretrain", "fine_tune_head", "from_scratch", "accuracy"]


def _data(images, labels):
    import torch

    from impl.beyond.cnn_train import image_tensor

    images = as_images(images, "images", shape=(28, 28))
    labels = as_labels(labels, "labels", num_classes=5)
    same_length("images", images, "labels", labels)
    return image_tensor(images), torch.from_numpy(labels.astype(np.int64))


_HEAD = 7  # notes_cnn_torch: conv, relu, pool, conv, relu, pool, flatten | dense, relu, dense


def _network(seed: int, num_classes: int):
    from torch import nn

    from impl.beyond.cnn_shapes import notes_cnn_torch

    net = notes_cnn_torch(seed)
    net[-1] = nn.Linear(64, num_classes)  # the notes' CNN with a num_classes head (its init seeded below)
    return net


def _fit(model, parameters, X, y, num_epochs: int, batch_size: int, seed: int) -> None:
    import torch
    from torch import nn

    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(num_epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
            optimizer.step()
    model.eval()


def pretrain(images, labels, num_epochs: int, seed: int):
    """The notes' CNN (5-way head) trained on the source images; labels 0..4."""
    import torch

    X, y = _data(images, labels)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    seed = as_int(seed, "seed", minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _network(seed, 5)
    _fit(model, model.parameters(), X, y, num_epochs, 64, seed)
    return model


def fine_tune_head(pretrained, images, labels, num_steps: int, seed: int):
    """A copy of `pretrained` whose conv backbone is frozen and whose dense head (1600 -> 64 -> 5) is
    new, trained for `num_steps` full-batch steps on the few labelled images. The frozen backbone's
    features are computed once (no dropout or batch norm, so that equals running it every step)."""
    import copy

    import torch
    from torch import nn

    if not isinstance(pretrained, nn.Sequential):
        raise TypeError(f"pretrained must be a torch nn.Sequential, got {type(pretrained).__name__}")
    X, y = _data(images, labels)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**5)
    seed = as_int(seed, "seed", minimum=0)
    model = copy.deepcopy(pretrained)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    backbone = model[:_HEAD]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = nn.Sequential(nn.Linear(5 * 5 * 64, 64), nn.ReLU(), nn.Linear(64, 5))
    with torch.no_grad():
        features = backbone(X)
    _fit(head, head.parameters(), features, y, num_steps, len(X), seed)
    return nn.Sequential(*backbone, *head).eval()


def from_scratch(images, labels, num_steps: int, seed: int):
    """The same architecture, all weights trained from a fresh init for `num_steps` full-batch steps."""
    import torch

    X, y = _data(images, labels)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**5)
    seed = as_int(seed, "seed", minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _network(seed, 5)
    _fit(model, model.parameters(), X, y, num_steps, len(X), seed)
    return model


def accuracy(model, images, labels) -> float:
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}")
    X, y = _data(images, labels)
    model.eval()
    with torch.inference_mode():
        return float((model(X).argmax(1) == y).float().mean())
