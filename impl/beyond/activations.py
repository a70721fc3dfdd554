"""Activation functions in NumPy, PyTorch, TensorFlow and JAX; signal scale through a deep ReLU
network under three initialisations; XOR with and without a non-linearity; gradient clipping.

TensorFlow and JAX are imported inside the functions: importing this module stays cheap."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_DIM, as_float, as_float_array, as_int, as_rng, as_seed, as_str

__all__ = ["NAMES", "FRAMEWORKS", "INITS", "activation", "sigmoid_derivative", "depth_ratio", "xor_accuracy",
           "clip_gradients"]

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax")
FRAMEWORKS = ("numpy", "torch", "tf", "jax")
INITS = ("he", "standard", "small")  # N(0, 2/width), N(0, 1), N(0, 0.01^2)
LEAKY_SLOPE = 0.01


def _numpy(x: np.ndarray, name: str) -> np.ndarray:
    if name == "sigmoid":
        return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x > 0, x, LEAKY_SLOPE * x)
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def activation(x, name: str, framework: str) -> np.ndarray:
    """`name` applied to a float32 batch `x` (rows x units) by `framework` (softmax over each row;
    LeakyReLU slope 0.01), returned as a float64 array."""
    x = as_float_array(x, "x", ndim=2, dtype=np.float32)
    name = as_str(name, "name", choices=NAMES)
    framework = as_str(framework, "framework", choices=FRAMEWORKS)
    if framework == "numpy":
        return _numpy(x, name).astype(np.float64)
    if framework == "torch":
        import torch

        fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
              "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, LEAKY_SLOPE),
              "softmax": lambda t: torch.softmax(t, dim=-1)}[name]
        return fn(torch.from_numpy(x)).numpy().astype(np.float64)
    if framework == "tf":
        import tensorflow as tf

        fn = {"sigmoid": tf.math.sigmoid, "tanh": tf.math.tanh, "relu": tf.nn.relu,
              "leaky_relu": lambda t: tf.nn.leaky_relu(t, LEAKY_SLOPE), "softmax": tf.nn.softmax}[name]
        return fn(tf.constant(x)).numpy().astype(np.float64)
    import jax

    fn = {"sigmoid": jax.nn.sigmoid, "tanh": jax.numpy.tanh, "relu": jax.nn.relu,
          "leaky_relu": lambda t: jax.nn.leaky_relu(t, LEAKY_SLOPE), "softmax": jax.nn.softmax}[name]
    return np.asarray(fn(jax.numpy.asarray(x)), dtype=np.float64)


def sigmoid_derivative(x, framework: str) -> np.ndarray:
    """d sigmoid / dx at every entry of a float32 batch `x`, by automatic differentiation in `framework`
    ("torch": backward of the sum, each output depending on its own input only; "jax": elementwise
    `grad`), returned as a float64 array."""
    x = as_float_array(x, "x", ndim=2, dtype=np.float32)
    framework = as_str(framework, "framework", choices=("torch", "jax"))
    if framework == "torch":
        import torch

        inputs = torch.from_numpy(x.copy()).requires_grad_(True)
        torch.sigmoid(inputs).sum().backward()
        return inputs.grad.numpy().astype(np.float64)
    import jax

    elementwise = jax.vmap(jax.vmap(jax.grad(jax.nn.sigmoid)))
    return np.asarray(elementwise(jax.numpy.asarray(x)), dtype=np.float64)


def depth_ratio(init: str, *, depth: int, width: int, rng) -> float:
    """Mean square of the last hidden layer over that of the first in a `depth`-layer ReLU network of
    `width` units (no biases) on standard normal inputs, with weights drawn by `init`."""
    init = as_str(init, "init", choices=INITS)
    depth = as_int(depth, "depth", minimum=2, maximum=1000)
    width = as_int(width, "width", minimum=1, maximum=4096)
    rng = as_rng(rng, "rng")
    scale = {"he": np.sqrt(2 / width), "standard": 1.0, "small": 0.01}[init]
    h = rng.standard_normal((64, width))
    squares = []
    for _ in range(depth):
        h = np.maximum(h @ (scale * rng.standard_normal((width, width))), 0)
        squares.append(np.mean(h**2))
    return float(squares[-1] / squares[0])


class XorFit(NamedTuple):
    accuracy: float
    collapsed_map_gap: float  # linear stacks: max |net(x) - (x W + b)| for the product map; NaN otherwise


def xor_accuracy(hidden: int, activation_name: str, seed: int, num_steps: int = 2000) -> XorFit:
    """Train a 2-`hidden`-`hidden`-1 torch network (Adam, lr 0.05, full batch) on the four XOR points;
    `activation_name` "none" makes it a stack of linear layers, which is one linear map."""
    hidden = as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM)
    activation_name = as_str(activation_name, "activation_name", choices=("none", "tanh", "relu"))
    seed = as_seed(seed)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**6)
    import torch

    act = {"none": torch.nn.Identity, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[activation_name]
    with torch.random.fork_rng(devices=[]):  # seeded init; the caller's generator is left as it was
        torch.manual_seed(seed)
        layers = [torch.nn.Linear(2, hidden), torch.nn.Linear(hidden, hidden), torch.nn.Linear(hidden, 1)]
    net = torch.nn.Sequential(layers[0], act(), layers[1], act(), layers[2]).double()
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(num_steps):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(X), y).backward()
        optimizer.step()
    with torch.no_grad():
        out = net(X)
        accuracy = float(((out > 0).double() == y).double().mean())
        gap = float("nan")
        if activation_name == "none":
            W, b = torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
            for layer in layers:
                W, b = W @ layer.weight.T, b @ layer.weight.T + layer.bias
            gap = float((out - (X @ W + b)).abs().max())
    return XorFit(accuracy, gap)


class Clipped(NamedTuple):
    gradients: list[np.ndarray]
    returned_norm: float  # what clip_grad_norm_ returns: the global norm before clipping


def clip_gradients(gradients, max_norm: float) -> Clipped:
    """torch's `clip_grad_norm_` on parameters holding these gradients (a 2-D array: one row per
    parameter tensor, flattened)."""
    grads = as_float_array(gradients, "gradients", ndim=2)
    max_norm = as_float(max_norm, "max_norm", low=0.0, low_open=True)
    import torch

    params = [torch.nn.Parameter(torch.zeros(grads.shape[1], dtype=torch.float64)) for _ in grads]
    for param, grad in zip(params, grads):
        param.grad = torch.from_numpy(grad.copy())
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return Clipped([p.grad.numpy() for p in params], float(norm))
