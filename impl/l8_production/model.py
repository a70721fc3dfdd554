"""The lesson's MNIST MLP (784-512-256-10, ReLU), its NumPy forward pass and its ONNX export.

Training reuses Lesson 3's loop (`impl.l3_optim.mlp.train`) on normalised (n, 784) tensors. The
deployed model takes what a client has: pixels scaled to [0, 1] as float32 `[N, 1, 28, 28]`
(dynamic N); the exported graph flattens and normalises itself, so the input contract has no
hidden preprocessing step.

`export_onnx` wraps the network in that contract and exports it through `impl.onnx_tools` (the
TorchScript exporter, opset 17), adding the model's doc string and producer.

`forward` is the same network in NumPy float32 on (weights, biases) lists: the bit-width search
fake-quantizes those weights and scores thousands of configurations without torch. `to_keras` builds
it once more in Keras from those lists (same input contract), for the TFLite converter.
"""
from __future__ import annotations

import numpy as np

from impl.checks import MAX_DIM, as_float_array, as_images, as_instance, as_int, as_path, as_seed, as_str

__all__ = ["HIDDEN", "INPUT_NAME", "OUTPUT_NAME", "make_mlp", "layer_arrays", "load_layers", "to_pixels", "forward",
           "export_onnx", "to_keras"]

HIDDEN = (512, 256)           # the catalog's 3-layer MLP: 784-512-256-10, 535,818 parameters
INPUT_NAME, OUTPUT_NAME = "pixels", "logits"
OPSET = 17


def make_mlp(seed: int, hidden: tuple[int, ...] = HIDDEN):
    """Linear(784, h1) -> ReLU -> ... -> Linear(h_k, 10) on normalised, flattened pixels (seeded init)."""
    seed = as_seed(seed)
    if not isinstance(hidden, (tuple, list)) or not hidden:
        raise TypeError(f"hidden must be a non-empty tuple of layer widths, got {hidden!r}")
    widths = [784, *(as_int(h, "hidden", minimum=1, maximum=MAX_DIM) for h in hidden), 10]
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers: list = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers[:-1])


def layer_arrays(model) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(weights, biases) of the Linear layers as float32 NumPy arrays (weights are (out, in))."""
    import torch

    as_instance(model, "model", torch.nn.Module)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError("model has no Linear layers")
    return ([m.weight.detach().numpy().astype(np.float32).copy() for m in linears],
            [m.bias.detach().numpy().astype(np.float32).copy() for m in linears])


def load_layers(path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(weights, biases) of a saved MLP state_dict (`torch.load(weights_only=True)`: no pickle runs)."""
    import torch

    path = as_path(path, "path")
    if not path.is_file():
        raise ValueError(f"path {path} is not a file")
    state = torch.load(path, weights_only=True)
    layers = sorted({int(key.split(".")[0]) for key in state}, key=int)
    return ([state[f"{i}.weight"].numpy().astype(np.float32) for i in layers],
            [state[f"{i}.bias"].numpy().astype(np.float32) for i in layers])


def to_pixels(images) -> np.ndarray:
    """uint8 images (n, 28, 28) -> the deployed input: float32 [n, 1, 28, 28] in [0, 1]."""
    images = as_images(images, "images", shape=(28, 28))
    return (images.astype(np.float32) / np.float32(255.0))[:, None]


def _check_layers(weights, biases) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)):
        raise TypeError("weights and biases must be lists of arrays")
    if not weights or len(weights) != len(biases):
        raise ValueError(f"weights and biases must be non-empty lists of one length, got {len(weights)} and "
                         f"{len(biases)}")
    weights = [as_float_array(w, "weights", ndim=2, dtype=np.float32) for w in weights]
    biases = [as_float_array(b, "biases", ndim=1, dtype=np.float32) for b in biases]
    for i, (w, b) in enumerate(zip(weights, biases)):
        if w.shape[0] != b.shape[0] or (i and w.shape[1] != weights[i - 1].shape[0]):
            raise ValueError(f"weights[{i}] of shape {w.shape} does not fit its neighbours")
    if weights[0].shape[1] != 784:
        raise ValueError(f"weights[0] must take 784 inputs, got {weights[0].shape}")
    return weights, biases


def forward(weights, biases, pixels) -> np.ndarray:
    """Logits of the MLP for deployed inputs `pixels` ([n, 1, 28, 28] float32 in [0, 1]), in float32."""
    from impl.l3_optim.mlp import PIXEL_MEAN, PIXEL_STD

    weights, biases = _check_layers(weights, biases)
    pixels = as_float_array(pixels, "pixels", ndim=4, dtype=np.float32)
    if pixels.shape[1:] != (1, 28, 28):
        raise ValueError(f"pixels must have shape [n, 1, 28, 28], got {pixels.shape}")
    h = (pixels.reshape(len(pixels), 784) - np.float32(PIXEL_MEAN)) / np.float32(PIXEL_STD)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = np.maximum(h, np.float32(0.0))
    return h


def export_onnx(model, *, doc: str = "MNIST MLP") -> bytes:
    """The model as ONNX bytes (opset 17, TorchScript exporter): input `pixels` float32 [N, 1, 28, 28]
    (N dynamic) in [0, 1], flattened and normalised inside the graph; output `logits` [N, 10]; `doc`
    as the model's doc string, `impl.l8_production` as its producer."""
    import onnx
    import torch

    from impl import onnx_tools
    from impl.l3_optim.mlp import PIXEL_MEAN, PIXEL_STD

    as_instance(model, "model", torch.nn.Module)
    doc = as_str(doc, "doc")

    class Deployed(torch.nn.Module):
        def __init__(self, core):
            super().__init__()
            self.core = core

        def forward(self, pixels):
            return self.core((pixels.flatten(1) - PIXEL_MEAN) / PIXEL_STD)

    exported = onnx_tools.export(Deployed(model), np.zeros((1, 1, 28, 28), np.float32), exporter="torchscript",
                                 opset=OPSET, input_name=INPUT_NAME, output_name=OUTPUT_NAME, batch_name="N")
    proto = onnx.load_from_string(exported)
    proto.doc_string = doc
    proto.producer_name = "impl.l8_production"
    return proto.SerializeToString()


def to_keras(weights, biases):
    """The MLP of (weights, biases) as a Keras model with the deployed contract: [N, 1, 28, 28] float32
    pixels in [0, 1] -> logits, flattening and normalising inside, ReLU between the Dense layers."""
    from impl.l3_optim.mlp import PIXEL_MEAN, PIXEL_STD

    weights, biases = _check_layers(weights, biases)
    import keras

    inputs = keras.Input((1, 28, 28), name=INPUT_NAME)
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Rescaling(1.0 / PIXEL_STD, offset=-PIXEL_MEAN / PIXEL_STD)(x)
    for i, (w, b) in enumerate(zip(weights, biases)):
        dense = keras.layers.Dense(w.shape[0], activation="relu" if i < len(weights) - 1 else None)
        x = dense(x)
        dense.set_weights([w.T, b])  # Keras keeps (in, out) kernels
    return keras.Model(inputs, x, name="mnist_mlp")
