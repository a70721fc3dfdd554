"""Lesson 5's networks in PyTorch, their data and a small training loop.

Pretrained ResNet/MobileNet weights and COCO cannot be had offline, so the lesson trains small models
from scratch on real MNIST (the `mnist5k` split: a stratified 4,000-image training subset and a
1,000-image test subset of the official test set; `mnist_validation` adds 1,000 other images of the official
training set, for choosing recipes and showing convergence without the test set):

- `ResNetCNN`: a small ResNet-style CNN, conv stem + max-pool, then two residual blocks (the second
  strided, with a 1x1 projection shortcut), global average pooling and a linear classifier;
  widths (32, 96) give about 118k parameters. BatchNorm everywhere, so the conversions must fold it.
- `make_mlp`: a ReLU MLP 784-h1-...-10.

Inputs are pixels scaled to [0, 1] (no mean shift: a quantized input then keeps zero exactly),
NCHW float32 for torch. `to_nhwc` gives the same images for Keras and TFLite.
"""
from __future__ import annotations

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_STEPS, as_bool, as_callable, as_float_array, as_images, as_instance, as_int, as_learning_rate,
    as_labels, as_path, as_seed, as_str, same_length,
)
from impl.data import mnist5k as data_mnist5k

__all__ = [
    "TRAIN_SIZE", "TEST_SIZE", "VALIDATION_SIZE", "SCHEDULES", "mnist5k", "mnist_validation", "to_nchw", "to_nhwc",
    "make_cnn", "make_mlp", "count_params", "cnn_widths", "load_state", "train", "predict_logits", "log_loss",
]

TRAIN_SIZE, TEST_SIZE = data_mnist5k.TRAIN_SIZE, data_mnist5k.TEST_SIZE  # the catalog's mnist5k: 4k/1k
VALIDATION_SIZE = 1000
SCHEDULES = ("constant", "cosine")


def mnist5k(split_seed: int = 0):
    """(X_train, y_train, X_test, y_test): `impl.data.mnist5k.train_test(split_seed)`, uint8 (n, 28, 28) images
    and int64 labels (the draw Lessons 7 and 8 train on too)."""
    train, test = data_mnist5k.train_test(split_seed)
    return train.X, train.y, test.X, test.y


def mnist_validation(split_seed: int = 0, n: int = VALIDATION_SIZE):
    """(X_val, y_val): `n` official training images outside mnist5k's 4,000 (`impl.data.mnist5k.held_out`, the
    same images as Lesson 8's validation split)."""
    n = as_int(n, "n", minimum=1, maximum=10_000)
    (val,) = data_mnist5k.held_out(split_seed, (n,))
    return val.X, val.y


def to_nchw(X) -> np.ndarray:
    """uint8 images (n, 28, 28) -> float32 (n, 1, 28, 28) in [0, 1]."""
    X = as_images(X, "X", shape=(28, 28))
    return (X.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def to_nhwc(X) -> np.ndarray:
    """uint8 images (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1]."""
    X = as_images(X, "X", shape=(28, 28))
    return (X.astype(np.float32) / np.float32(255.0))[:, :, :, None]


def _torch():
    import torch

    return torch


def make_cnn(seed: int, widths: tuple[int, int] = (32, 96)):
    """The ResNet-style CNN (see the module docstring), initialised from `seed`."""
    seed = as_seed(seed)
    if not isinstance(widths, (tuple, list)) or len(widths) != 2:
        raise TypeError(f"widths must be a pair of ints, got {widths!r}")
    w1, w2 = (as_int(w, "widths", minimum=1, maximum=1024) for w in widths)
    torch = _torch()
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.proj = None
            if stride != 1 or c_in != c_out:
                self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (x if self.proj is None else self.proj(x)))

    class ResNetCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, w1, 3, 1, 1, bias=False), nn.BatchNorm2d(w1), nn.ReLU(),
                                      nn.MaxPool2d(2))
            self.block1, self.block2 = Residual(w1, w1, 1), Residual(w1, w2, 2)
            self.head = nn.Linear(w2, 10)

        def forward(self, x):
            x = self.block2(self.block1(self.stem(x)))
            return self.head(x.mean(dim=(2, 3)))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ResNetCNN()


def make_mlp(seed: int, hidden: tuple[int, ...] = (256,)):
    """Flatten -> Linear(784, h1) -> ReLU -> ... -> Linear(h_last, 10), initialised from `seed`."""
    seed = as_seed(seed)
    if not isinstance(hidden, (tuple, list)) or not hidden:
        raise TypeError(f"hidden must be a non-empty tuple of widths, got {hidden!r}")
    widths = [784, *(as_int(h, "hidden", minimum=1, maximum=MAX_DIM) for h in hidden), 10]
    torch = _torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # before the layers are built: their constructors draw the initial weights
        layers: list = [torch.nn.Flatten()]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [torch.nn.Linear(a, b)] + ([torch.nn.ReLU()] if i < len(widths) - 2 else [])
        return torch.nn.Sequential(*layers)


def count_params(model) -> int:
    """Number of trainable parameters of a torch module."""
    as_instance(model, "model", _torch().nn.Module)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def cnn_widths(model) -> tuple[int, int]:
    """The (w1, w2) widths of a `make_cnn` network."""
    as_instance(model, "model", _torch().nn.Module)
    if not all(hasattr(model, name) for name in ("stem", "block1", "block2", "head")):
        raise ValueError("model must be a models.make_cnn network")
    return model.stem[0].out_channels, model.block2.conv1.out_channels


def load_state(path):
    """The network saved by `train_models` at `path` (a `make_cnn` or `make_mlp` state_dict), in eval mode."""
    path = as_path(path, "path")
    if not path.is_file():
        raise ValueError(f"path {path} is not a file")
    torch = _torch()
    state = torch.load(path, map_location="cpu", weights_only=True)
    if "stem.0.weight" in state:
        net = make_cnn(0, (state["stem.0.weight"].shape[0], state["block2.conv1.weight"].shape[0]))
    else:
        linear = sorted(key for key in state if key.endswith(".weight"))
        net = make_mlp(0, tuple(state[key].shape[0] for key in sorted(linear, key=lambda k: int(k.split(".")[0]))[:-1]))
    net.load_state_dict(state)
    return net.eval()


def _images(X) -> np.ndarray:
    """float32 images (n, 1, 28, 28), finite; float32 because the networks' weights are (a float64 or a
    list, which NumPy reads as float64, is refused rather than rounded). A reversed view comes back copied."""
    X = np.asarray(X) if not isinstance(X, (str, bytes)) and X is not None else X
    if not isinstance(X, np.ndarray) or X.dtype != np.float32 or X.ndim != 4 or X.shape[1:] != (1, 28, 28):
        raise TypeError("X must be float32 images (n, 1, 28, 28) (models.to_nchw)")
    if X.shape[0] == 0 or not np.all(np.isfinite(X)):
        raise ValueError("X must be non-empty and finite")
    return as_float_array(X, "X", ndim=4, dtype=np.float32)  # checked above; copies a negatively strided view


def _data(X, y):
    X, y = _images(X), as_labels(y, "y", num_classes=10)
    same_length("X", X, "y", y)
    return X, y


def train(model, X, y, *, epochs: int, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
          progress: bool = False, schedule: str = "constant", on_epoch=None):
    """Adam on cross-entropy, shuffled minibatches from `seed`; returns the mean loss of each epoch.

    `X` is float32 (n, 1, 28, 28) from `to_nchw`. `schedule` "cosine" decays the learning rate from `lr`
    to 0 over all steps (so the last epochs settle instead of jumping around the minimum). `on_epoch`,
    if given, is called as `on_epoch(epoch, mean_loss)` after each epoch with the model in eval mode
    (a validation curve). The model is trained in place and left in eval mode.
    """
    torch = _torch()
    as_instance(model, "model", torch.nn.Module)
    X, y = _data(X, y)
    epochs = as_int(epochs, "epochs", minimum=1, maximum=MAX_STEPS)
    lr = as_learning_rate(lr)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_DIM)
    seed = as_seed(seed)
    progress = as_bool(progress, "progress")
    schedule = as_str(schedule, "schedule", choices=SCHEDULES)
    if on_epoch is not None:
        as_callable(on_epoch, "on_epoch")
    from tqdm import tqdm

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(Xt) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if schedule == "cosine" else None
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in tqdm(range(epochs), desc="epochs", disable=not progress, leave=False):
        model.train()
        order, total = torch.randperm(len(Xt), generator=generator), 0.0
        for start in range(0, len(Xt), batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
        losses.append(total / len(Xt))
        model.eval()
        if on_epoch is not None:
            on_epoch(epoch + 1, losses[-1])
    return losses


def predict_logits(model, X) -> np.ndarray:
    """Logits of a torch module in eval mode for float32 images (n, 1, 28, 28), in batches of 500."""
    torch = _torch()
    as_instance(model, "model", torch.nn.Module)
    X = _images(X)
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(X[i:i + 500])).numpy() for i in range(0, len(X), 500)])


def log_loss(logits, y) -> float:
    """Mean cross-entropy of logits (n, 10) against labels, in float64."""
    logits = as_float_array(logits, "logits", ndim=2).astype(np.float64)
    if logits.shape[1] != 10:
        raise ValueError(f"logits must have shape (n, 10), got {logits.shape}")
    y = as_labels(y, "y", num_classes=10)
    same_length("logits", logits, "y", y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(y)), y]))
