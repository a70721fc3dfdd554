"""Top-1 accuracy, defined once for every lesson: from class scores, or from a torch classifier run on inputs.

`top1_accuracy(scores, labels)` takes any (n, classes) scores (logits, probabilities, int8 outputs of a
quantized model); `classifier_accuracy(model, inputs, labels)` runs a torch classifier in inference mode
over batches. A lesson converts its own inputs (images to a normalised tensor, say) before calling it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from impl.checks import as_float_array, as_int, as_labels, as_tensor, same_length

__all__ = ["top1_accuracy", "classifier_accuracy", "MAX_BATCH"]

MAX_BATCH = 1 << 20  # rows scored at once: far above any lesson's test set, far below what fits in memory


def top1_accuracy(scores: Any, labels: Any) -> float:
    """Share of rows of `scores` (n, classes) whose arg-max equals the row's label (0..classes - 1).
    Ties go to the lower class, as NumPy's and torch's arg-max do."""
    scores = as_float_array(scores, "scores", ndim=2)
    labels = as_labels(labels, "labels", num_classes=scores.shape[1])
    same_length("scores", scores, "labels", labels)
    return float(np.mean(scores.argmax(axis=1) == labels))


def classifier_accuracy(model: Any, inputs: Any, labels: Any, *, batch_size: int = 2048) -> float:
    """Share of `inputs` (a float torch tensor, the batch first) whose arg-max class under `model` (a torch
    nn.Module mapping a batch to (batch, classes) scores) is the label. The model runs in eval mode under
    inference mode, `batch_size` rows at a time; its training mode is restored afterwards."""
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}")
    inputs = as_tensor(inputs, "inputs", min_ndim=2, floating=True)  # a batch axis and at least one feature axis
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = as_labels(labels, "labels")
    same_length("inputs", inputs, "labels", labels)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH)
    training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            scores = torch.cat([model(chunk) for chunk in inputs.split(batch_size)])
    except RuntimeError as exc:  # a shape or dtype the model's layers cannot take
        raise ValueError(f"inputs ({inputs.dtype}, shape {tuple(inputs.shape)}) do not fit the model: {exc}") from exc
    finally:
        model.train(training)
    if scores.ndim != 2 or scores.shape[0] != len(labels):
        raise ValueError(f"model must map a batch to (batch, classes) scores, got shape {tuple(scores.shape)}")
    if labels.max() >= scores.shape[1]:
        raise ValueError(f"labels must be below the model's {scores.shape[1]} classes, got {int(labels.max())}")
    return float(np.mean(scores.argmax(dim=1).numpy() == labels))
