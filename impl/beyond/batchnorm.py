"""Batch normalisation run in PyTorch and Keras on the same batches: the training-mode outputs, the
running statistics each framework keeps, and the eval-mode output those statistics give.

Keras is imported inside the function: importing this module stays cheap."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import FLOAT32_MAX, as_float, as_float_array

__all__ = ["torch_batchnorm", "keras_batchnorm"]


class BatchNormRun(NamedTuple):
    train_output: np.ndarray   # training-mode output of the first batch (normalised by its own statistics)
    running_mean: np.ndarray   # after every batch has passed in training mode
    running_var: np.ndarray
    eval_output: np.ndarray    # eval-mode output of `eval_batch` (normalised by the running statistics)


def _check(batches, eval_batch, momentum, eps, gamma, beta):
    batches = as_float_array(batches, "batches", ndim=3, dtype=np.float32)
    if batches.shape[1] < 2:
        raise ValueError(f"batches need >= 2 samples each (a variance), got shape {batches.shape}")
    eval_batch = as_float_array(eval_batch, "eval_batch", ndim=2, dtype=np.float32)
    if eval_batch.shape[1] != batches.shape[2]:
        raise ValueError(f"eval_batch must have {batches.shape[2]} features, got shape {eval_batch.shape}")
    momentum = as_float(momentum, "momentum", low=0.0, high=1.0)
    eps = as_float(eps, "eps", low=0.0, low_open=True)
    # the layer holds gamma and beta in float32
    return (batches, eval_batch, momentum, eps, as_float(gamma, "gamma", low=-FLOAT32_MAX, high=FLOAT32_MAX),
            as_float(beta, "beta", low=-FLOAT32_MAX, high=FLOAT32_MAX))


def torch_batchnorm(batches, eval_batch, *, momentum: float = 0.1, eps: float = 1e-5, gamma: float = 1.0,
                    beta: float = 0.0) -> BatchNormRun:
    """`torch.nn.BatchNorm1d` (weight gamma, bias beta) fed `batches` (num_batches x B x features) in
    training mode, then `eval_batch` in eval mode. torch's running average weights the new batch by
    `momentum` and stores the unbiased batch variance."""
    batches, eval_batch, momentum, eps, gamma, beta = _check(batches, eval_batch, momentum, eps, gamma, beta)
    import torch

    layer = torch.nn.BatchNorm1d(batches.shape[2], eps=eps, momentum=momentum)
    with torch.no_grad():
        layer.weight.fill_(gamma)
        layer.bias.fill_(beta)
        outputs = [layer(torch.from_numpy(batch)).numpy() for batch in batches]
        layer.eval()
        evaluated = layer(torch.from_numpy(eval_batch)).numpy()
    return BatchNormRun(outputs[0], layer.running_mean.numpy().copy(), layer.running_var.numpy().copy(), evaluated)


def keras_batchnorm(batches, eval_batch, *, momentum: float = 0.9, eps: float = 1e-5, gamma: float = 1.0,
                    beta: float = 0.0) -> BatchNormRun:
    """`keras.layers.BatchNormalization` fed the same way. Keras weights the *old* running value by
    `momentum` (0.9 here = torch's 0.1) and stores the biased batch variance."""
    batches, eval_batch, momentum, eps, gamma, beta = _check(batches, eval_batch, momentum, eps, gamma, beta)
    import keras

    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=eps,
                                            gamma_initializer=keras.initializers.Constant(gamma),
                                            beta_initializer=keras.initializers.Constant(beta))
    outputs = [np.asarray(layer(batch, training=True)) for batch in batches]
    evaluated = np.asarray(layer(eval_batch, training=False))
    return BatchNormRun(outputs[0], np.asarray(layer.moving_mean), np.asarray(layer.moving_variance), evaluated)
