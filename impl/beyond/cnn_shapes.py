"""The study notes' MNIST CNN and the size arithmetic behind it, in PyTorch and Keras.

The network: conv 32 3x3 (ReLU) -> max-pool 2 -> conv 64 3x3 (ReLU) -> max-pool 2 -> flatten ->
dense 64 (ReLU) -> dense 10. Sizes run 28 -> 26 -> 13 -> 11 -> 5, so the flattened vector has
5 * 5 * 64 = 1,600 entries (the notes' 13 x 13 x 32 = 5,408 is the size after the first block only),
and the parameters are 320 + 18,496 + 102,464 + 650 = 121,930.

Every output size is floor((n + 2p - k) / s) + 1, for convolutions and pools alike. TensorFlow is
imported inside the functions that need it (its import costs seconds).

Random weights come from explicit seeds, never from global state: torch layers are built inside
`impl.isolation.torch_state(seed=...)` (a forked generator), Keras layers get seeded initializers
(`keras.utils.set_random_seed` would reseed Python's, NumPy's and TensorFlow's global generators and
Keras's own global seed for the rest of the process).
"""
from __future__ import annotations

import numpy as np

from impl.checks import MAX_DIM, as_int, as_seed
from impl.isolation import torch_state

__all__ = ["conv_output_size", "notes_cnn_torch", "notes_cnn_keras", "torch_feature_shapes", "receptive_field",
           "lstm_param_counts", "bottleneck_keras"]


def conv_output_size(size: int, kernel: int, padding: int, stride: int) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1: the output side of a convolution or pool."""
    size = as_int(size, "size", minimum=1, maximum=MAX_DIM)
    kernel = as_int(kernel, "kernel", minimum=1, maximum=MAX_DIM)
    padding = as_int(padding, "padding", minimum=0, maximum=MAX_DIM)
    stride = as_int(stride, "stride", minimum=1, maximum=MAX_DIM)
    if kernel > size + 2 * padding:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size + 2 * padding}")
    return (size + 2 * padding - kernel) // stride + 1


def notes_cnn_torch(seed: int):
    """The notes' CNN as a torch `nn.Sequential` taking (n, 1, 28, 28) images, initialised from `seed`."""
    from torch import nn

    seed = as_seed(seed)
    with torch_state(seed=seed):
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(5 * 5 * 64, 64), nn.ReLU(), nn.Linear(64, 10),
        )


def notes_cnn_keras(seed: int):
    """The same network in the notes' Keras style (channels-last (n, 28, 28, 1) input), weights from `seed`."""
    seed = as_seed(seed)
    import keras

    glorot = _keras_initializers(seed, 4)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer=next(glorot)), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu", kernel_initializer=next(glorot)), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu", kernel_initializer=next(glorot)),
        keras.layers.Dense(10, kernel_initializer=next(glorot)),
    ])


def _keras_initializers(seed: int, count: int, kind: str = "GlorotUniform"):
    """`count` Keras initializers of `kind`, each with its own seed drawn from `seed` (one seed for
    all would give same-shaped layers the same weights)."""
    import keras

    for layer_seed in np.random.default_rng(seed).integers(0, 2**31 - 1, count):
        yield getattr(keras.initializers, kind)(seed=int(layer_seed))


def torch_feature_shapes(model, image_size: int) -> list[tuple[str, tuple[int, ...]]]:
    """(layer name, output shape of one image) after each conv, pool and flatten layer of a Sequential."""
    import torch
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch nn.Sequential, got {type(model).__name__}")
    image_size = as_int(image_size, "image_size", minimum=1, maximum=4096)
    x = torch.zeros(1, 1, image_size, image_size)
    shapes = []
    with torch.no_grad():
        for layer in model:
            try:
                x = layer(x)
            except RuntimeError as exc:  # a kernel larger than what is left of the image, say
                raise ValueError(f"image_size = {image_size} does not fit the model: after {shapes[-1:] or 'input'} "
                                 f"its {type(layer).__name__} fails ({exc})") from exc
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.Flatten)):
                shapes.append((type(layer).__name__, tuple(x.shape[1:])))
    return shapes


def receptive_field(num_convs: int, channels: int) -> tuple[int, int]:
    """Stack `num_convs` 3x3 convolutions (no padding, random weights, `channels` channels) and return
    (side of the input region the centre output depends on, read off the support of its input
    gradient; number of weights in the stack)."""
    import torch
    from torch import nn

    num_convs = as_int(num_convs, "num_convs", minimum=1, maximum=50)
    channels = as_int(channels, "channels", minimum=1, maximum=256)
    size = 2 * num_convs + 9
    with torch_state(seed=0):
        convs = [nn.Conv2d(channels, channels, 3, bias=False, dtype=torch.float64) for _ in range(num_convs)]
        x = torch.randn(1, channels, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for conv in convs:
        y = conv(y)
    centre = y.shape[-1] // 2
    y[0, :, centre, centre].sum().backward()
    rows = np.flatnonzero(x.grad.abs().sum(dim=(0, 1, 3)).numpy() > 0)
    return int(rows[-1] - rows[0] + 1), sum(conv.weight.numel() for conv in convs)


def lstm_param_counts(input_size: int, hidden_size: int) -> tuple[int, int]:
    """Parameters of one LSTM layer in torch (two bias vectors per gate) and in Keras (one)."""
    input_size = as_int(input_size, "input_size", minimum=1, maximum=4096)
    hidden_size = as_int(hidden_size, "hidden_size", minimum=1, maximum=4096)
    import keras
    from torch import nn

    with torch_state(seed=0):
        torch_count = sum(p.numel() for p in nn.LSTM(input_size, hidden_size).parameters())
    kernel, recurrent = _keras_initializers(0, 1), _keras_initializers(1, 1, "Orthogonal")
    layer = keras.layers.LSTM(hidden_size, kernel_initializer=next(kernel), recurrent_initializer=next(recurrent))
    layer.build((None, 5, input_size))
    return torch_count, int(layer.count_params())


def bottleneck_keras():
    """The personal notes' bottleneck model: 50 inputs -> Dense 100 -> Dense 1 -> Dense 100 -> Dense 50, no activations."""
    import keras

    glorot = _keras_initializers(0, 4)
    return keras.Sequential([keras.Input((50,))] + [keras.layers.Dense(width, kernel_initializer=next(glorot))
                                                     for width in (100, 1, 100, 50)])
