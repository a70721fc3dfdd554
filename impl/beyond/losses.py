"""Cross-entropy the same way in NumPy, PyTorch, Keras and JAX (per sample, float32 inputs), so the
specs can hold the frameworks to each other and to the float64 formula log-sum-exp(z) - z_y.

TensorFlow and JAX are imported inside the functions: importing this module stays cheap."""
from __future__ import annotations

import numpy as np

from impl.checks import as_float_array, as_labels, as_str, same_length

__all__ = ["FRAMEWORKS", "BINARY_FORMS", "cross_entropy", "binary_cross_entropy"]

FRAMEWORKS = ("numpy", "torch", "torch_nll", "keras_sparse", "keras_categorical", "jax")
BINARY_FORMS = ("numpy_stable", "torch_with_logits", "torch_sigmoid_then_bce")


def _logits_labels(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    z = as_float_array(logits, "logits", ndim=2, dtype=np.float32)
    if z.shape[1] < 2:
        raise ValueError(f"logits need >= 2 classes (columns), got shape {z.shape}")
    y = as_labels(labels, "labels", num_classes=z.shape[1])
    same_length("logits", z, "labels", y)
    return z, y.astype(np.int64)


def cross_entropy(logits, labels, framework: str) -> np.ndarray:
    """Per-sample softmax cross-entropy -log softmax(z)_y of float32 `logits` (n x K) in one framework:
    numpy (float64 log-sum-exp), torch CrossEntropyLoss, torch NLLLoss after log_softmax, Keras
    SparseCategoricalCrossentropy / CategoricalCrossentropy (one-hot) from logits, jax logsumexp."""
    z, y = _logits_labels(logits, labels)
    framework = as_str(framework, "framework", choices=FRAMEWORKS)
    if framework == "numpy":
        z64 = z.astype(np.float64)
        top = z64.max(axis=1)
        return top + np.log(np.exp(z64 - top[:, None]).sum(axis=1)) - z64[np.arange(len(y)), y]
    if framework.startswith("torch"):
        import torch

        zt, yt = torch.from_numpy(z), torch.from_numpy(y)
        if framework == "torch":
            out = torch.nn.CrossEntropyLoss(reduction="none")(zt, yt)
        else:
            out = torch.nn.NLLLoss(reduction="none")(torch.log_softmax(zt, dim=1), yt)
        return out.numpy().astype(np.float64)
    if framework.startswith("keras"):
        import keras

        if framework == "keras_sparse":
            out = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(y, z)
        else:
            out = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)(np.eye(z.shape[1], dtype=np.float32)[y], z)
        return np.asarray(out, dtype=np.float64)
    import jax
    import jax.numpy as jnp

    zj = jnp.asarray(z)
    return np.asarray(jax.nn.logsumexp(zj, axis=1) - zj[jnp.arange(len(y)), jnp.asarray(y)], dtype=np.float64)


def binary_cross_entropy(logits, labels, form: str) -> np.ndarray:
    """Per-sample binary cross-entropy of float32 logits z and 0/1 labels: the stable float64 formula
    max(z, 0) - z y + log1p(exp(-|z|)), torch BCEWithLogitsLoss, or torch sigmoid followed by BCELoss."""
    z = as_float_array(logits, "logits", ndim=1, dtype=np.float32)
    y = as_labels(labels, "labels", num_classes=2)
    same_length("logits", z, "labels", y)
    form = as_str(form, "form", choices=BINARY_FORMS)
    if form == "numpy_stable":
        z64 = z.astype(np.float64)
        return np.maximum(z64, 0) - z64 * y + np.log1p(np.exp(-np.abs(z64)))
    import torch

    zt, yt = torch.from_numpy(z), torch.from_numpy(y.astype(np.float32))
    if form == "torch_with_logits":
        out = torch.nn.BCEWithLogitsLoss(reduction="none")(zt, yt)
    else:
        out = torch.nn.BCELoss(reduction="none")(torch.sigmoid(zt), yt)
    return out.numpy().astype(np.float64)
