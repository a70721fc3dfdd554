"""The ResNet-style CNN of `models.make_cnn` in Keras, with the PyTorch weights carried across.

One network, two toolchains: the TFLite variants and the ONNX variants of Lesson 5 start from the same
trained weights, so their sizes, accuracies and latencies compare one model, not two. Layout changes:
NHWC activations, conv kernels (out, in, kh, kw) -> (kh, kw, in, out), dense weights transposed,
BatchNorm with torch's epsilon 1e-5 and its running statistics. A strided 3x3 conv gets an explicit
one-pixel zero padding and `padding="valid"`: Keras' "same" pads an even input only at the bottom/right,
torch pads both sides.

`legacy=True` builds the model with `tf_keras` (Keras 2) for TF Model Optimization; importing it sets
TF_USE_LEGACY_KERAS for the whole process, so that is done only in its own process (`qat_tfmot`).
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_bool, as_instance, as_int

__all__ = ["build_cnn_keras", "carry_weights"]

BN_EPSILON = 1e-5  # torch's BatchNorm default


def _keras(legacy: bool):
    if legacy:
        import tf_keras

        return tf_keras
    import keras

    return keras


def build_cnn_keras(widths: tuple[int, int] = (32, 96), *, legacy: bool = False):
    """The Keras functional model of `models.make_cnn(widths)`: input (n, 28, 28, 1), logits (n, 10)."""
    if not isinstance(widths, (tuple, list)) or len(widths) != 2:
        raise TypeError(f"widths must be a pair of ints, got {widths!r}")
    w1, w2 = (as_int(w, "widths", minimum=1, maximum=1024) for w in widths)
    keras = _keras(as_bool(legacy, "legacy"))
    L = keras.layers

    def conv_bn(x, filters, kernel, stride, name):
        if stride != 1 and kernel > 1:
            x = L.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
            x = L.Conv2D(filters, kernel, stride, padding="valid", use_bias=False, name=f"{name}_conv")(x)
        else:
            x = L.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
        return L.BatchNormalization(epsilon=BN_EPSILON, momentum=0.9, name=f"{name}_bn")(x)

    def residual(x, c_in, c_out, stride, name):
        y = L.ReLU(name=f"{name}_relu1")(conv_bn(x, c_out, 3, stride, f"{name}_1"))
        y = conv_bn(y, c_out, 3, 1, f"{name}_2")
        shortcut = conv_bn(x, c_out, 1, stride, f"{name}_proj") if (stride != 1 or c_in != c_out) else x
        return L.ReLU(name=f"{name}_relu2")(L.Add(name=f"{name}_add")([y, shortcut]))

    inputs = keras.Input((28, 28, 1), name="input")
    x = L.ReLU(name="stem_relu")(conv_bn(inputs, w1, 3, 1, "stem"))
    x = L.MaxPooling2D(2, name="stem_pool")(x)
    x = residual(x, w1, w1, 1, "block1")
    x = residual(x, w1, w2, 2, "block2")
    x = L.GlobalAveragePooling2D(name="pool")(x)
    outputs = L.Dense(10, name="head")(x)
    return keras.Model(inputs, outputs, name="resnet_cnn")


def _pairs(torch_model) -> dict[str, tuple]:
    """Keras layer name -> (torch conv or linear, torch batchnorm or None)."""
    pairs = {"stem": (torch_model.stem[0], torch_model.stem[1]), "head": (torch_model.head, None)}
    for block in ("block1", "block2"):
        module = getattr(torch_model, block)
        pairs[f"{block}_1"] = (module.conv1, module.bn1)
        pairs[f"{block}_2"] = (module.conv2, module.bn2)
        if module.proj is not None:
            pairs[f"{block}_proj"] = (module.proj[0], module.proj[1])
    return pairs


def carry_weights(torch_model, keras_model):
    """Copy a trained `models.make_cnn` module's weights into `build_cnn_keras`'s model (same widths).

    Returns the Keras model. Raises ValueError when the two architectures do not line up.
    """
    import torch

    as_instance(torch_model, "torch_model", torch.nn.Module)
    if not (hasattr(keras_model, "get_layer") and hasattr(keras_model, "layers")):
        raise TypeError(f"keras_model must be a Keras model, got {type(keras_model).__name__}")
    if not all(hasattr(torch_model, name) for name in ("stem", "block1", "block2", "head")):
        raise ValueError("torch_model must be a models.make_cnn network")
    names = {layer.name for layer in keras_model.layers}

    def numpy(tensor) -> np.ndarray:
        return tensor.detach().cpu().numpy()

    for name, (weight_layer, bn) in _pairs(torch_model).items():
        if name == "head":
            target, values = "head", [numpy(weight_layer.weight).T, numpy(weight_layer.bias)]
        else:
            target, values = f"{name}_conv", [numpy(weight_layer.weight).transpose(2, 3, 1, 0)]
        if target not in names:
            raise ValueError(f"keras_model has no layer {target!r}: the architectures differ")
        layer = keras_model.get_layer(target)
        if [tuple(w.shape) for w in layer.get_weights()] != [v.shape for v in values]:
            raise ValueError(f"layer {target!r}: shapes differ between keras_model and torch_model")
        layer.set_weights(values)
        if bn is not None:
            keras_model.get_layer(f"{name}_bn").set_weights(
                [numpy(bn.weight), numpy(bn.bias), numpy(bn.running_mean), numpy(bn.running_var)])
    return keras_model
