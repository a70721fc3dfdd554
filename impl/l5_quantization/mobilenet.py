"""Depthwise-separable convolutions (MobileNet's building block): parameter counts and the models.

A k x k depthwise conv (groups = C_in, one filter per input channel) followed by a 1 x 1 pointwise conv,
both without bias, has k^2 C_in + C_in C_out weights; a standard k x k conv has k^2 C_in C_out. Their ratio
is exactly 1/C_out + 1/k^2. `separable_torch` and `separable_keras` build the block in each framework so the
formula can be checked against what they allocate. `mobilenet_v2` is Keras' MobileNetV2 built offline
(weights=None: pretrained ImageNet weights cannot be downloaded here).
"""
from __future__ import annotations

from impl.checks import as_int

__all__ = ["KERNELS", "separable_params", "standard_params", "separable_torch", "separable_keras", "mobilenet_v2"]

KERNELS = (1, 3, 5, 7)
MAX_CHANNELS = 4096


def _check(c_in, c_out, k) -> tuple[int, int, int]:
    c_in = as_int(c_in, "c_in", minimum=1, maximum=MAX_CHANNELS)
    c_out = as_int(c_out, "c_out", minimum=1, maximum=MAX_CHANNELS)
    k = as_int(k, "k", minimum=1, maximum=15)
    if k % 2 == 0:
        raise ValueError(f"k must be odd (a centred kernel), got {k}")
    return c_in, c_out, k


def separable_params(c_in: int, c_out: int, k: int) -> int:
    """k^2 C_in (depthwise) + C_in C_out (pointwise) weights, no bias."""
    c_in, c_out, k = _check(c_in, c_out, k)
    return k * k * c_in + c_in * c_out


def standard_params(c_in: int, c_out: int, k: int) -> int:
    """k^2 C_in C_out weights of a standard conv, no bias."""
    c_in, c_out, k = _check(c_in, c_out, k)
    return k * k * c_in * c_out


def separable_torch(c_in: int, c_out: int, k: int):
    """torch: Conv2d(c_in, c_in, k, groups=c_in, bias=False) -> Conv2d(c_in, c_out, 1, bias=False)."""
    c_in, c_out, k = _check(c_in, c_out, k)
    import torch

    return torch.nn.Sequential(torch.nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False),
                               torch.nn.Conv2d(c_in, c_out, 1, bias=False))


def separable_keras(c_in: int, c_out: int, k: int):
    """Keras: SeparableConv2D(c_out, k, use_bias=False), built for c_in input channels."""
    c_in, c_out, k = _check(c_in, c_out, k)
    import keras

    layer = keras.layers.SeparableConv2D(c_out, k, padding="same", use_bias=False)
    layer.build((None, 8, 8, c_in))
    return layer


def mobilenet_v2(alpha: float = 0.35, size: int = 96, classes: int = 10):
    """`keras.applications.MobileNetV2(alpha, weights=None, input (size, size, 3), classes)`, built offline."""
    if isinstance(alpha, bool) or alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
        raise ValueError(f"alpha must be one of MobileNetV2's widths 0.35, 0.5, 0.75, 1.0, 1.3, 1.4, got {alpha!r}")
    size = as_int(size, "size", minimum=32, maximum=1024)
    classes = as_int(classes, "classes", minimum=2, maximum=100_000)
    import keras

    return keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha, weights=None, classes=classes)
