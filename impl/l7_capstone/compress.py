"""Three ways to shrink a trained MNIST MLP: global magnitude pruning, low-rank factorisation of
a layer by truncated SVD, and knowledge distillation into a smaller student.

- Pruning: `torch.nn.utils.prune.global_unstructured` with the L1 criterion over every Linear
  weight at once, so layers lose different shares; the mask stays attached (weight = orig * mask)
  while fine-tuning, so pruned weights cannot come back, and `strip` makes it permanent.
- Low rank: W (out x in) = U S V^T truncated to rank r is the best rank-r approximation in the
  Frobenius norm (Eckart-Young, Lesson 1): ||W - W_r||_F^2 = sum_{i>r} s_i^2. The layer becomes
  Linear(in, r, no bias) with weight S_r V_r^T followed by Linear(r, out) with weight U_r and the
  old bias: r (in + out) weights instead of in x out.
- Distillation (Hinton, Vinyals & Dean 2015): alpha T^2 KL(softmax(t/T) || softmax(s/T)) +
  (1 - alpha) CE(s, y); the T^2 keeps the soft term's gradient scale independent of T. Given a
  validation set, training keeps the weights of the epoch with the best validation accuracy (early
  stopping with restore), so students compared are each at their own convergence, not at a fixed
  epoch that favours whichever learns faster.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import (
    FLOAT32_MAX, MAX_SAMPLES, MAX_STEPS, as_float, as_instance, as_int, as_learning_rate, as_seed, as_tensor, same_length,
)

__all__ = ["linear_layers", "prune_global", "sparsity", "strip", "weight_count", "sparse_bytes",
           "low_rank_factors", "replace_low_rank", "distill_loss", "DistillFit", "train_distilled"]

MAX_TEMPERATURE = float(np.sqrt(FLOAT32_MAX))  # the loss scales by T^2, which must stay a (float32) number


def _module(model):
    import torch

    return as_instance(model, "model", torch.nn.Module)


def linear_layers(model) -> list:
    """The model's Linear layers, in order."""
    import torch

    return [m for m in _module(model).modules() if isinstance(m, torch.nn.Linear)]


def prune_global(model, amount: float):
    """Zero the `amount` share of all Linear weights with the smallest |w| (one global threshold),
    in place; the masks stay attached as forward hooks. Returns the model."""
    from torch.nn.utils import prune

    _module(model)
    amount = as_float(amount, "amount", low=0.0, high=1.0, high_open=True)
    layers = linear_layers(model)
    if not layers:
        raise ValueError("model has no Linear layer to prune")
    prune.global_unstructured([(layer, "weight") for layer in layers], pruning_method=prune.L1Unstructured,
                              amount=amount)
    return model


def sparsity(model) -> tuple[int, int]:
    """(zero weights, all weights) over the model's Linear weights (biases are not pruned)."""
    weights = [layer.weight.detach() for layer in linear_layers(model)]
    return int(sum(int((w == 0).sum()) for w in weights)), int(sum(w.numel() for w in weights))


def strip(model):
    """Make pruning permanent: fold each mask into its weight and drop the hooks. Returns the model."""
    from torch.nn.utils import prune

    for layer in linear_layers(model):
        if prune.is_pruned(layer) and hasattr(layer, "weight_mask"):
            prune.remove(layer, "weight")
    return model


def weight_count(model) -> int:
    """Parameters of the model (weights and biases; a pruned weight counts once, as weight_orig)."""
    return int(sum(p.numel() for p in _module(model).parameters()))


def sparse_bytes(model) -> int:
    """Bytes to store the model with its Linear weights in CSR (float32 value + int32 column per
    non-zero, int32 row pointers) and everything else dense float32."""
    import torch

    total = 0
    for layer in linear_layers(model):
        w = layer.weight.detach()  # while pruning is attached: weight_orig * weight_mask
        total += 8 * int((w != 0).sum()) + 4 * (w.shape[0] + 1)
    for module in _module(model).modules():
        for name, p in module.named_parameters(recurse=False):
            if not (isinstance(module, torch.nn.Linear) and name in ("weight", "weight_orig")):
                total += 4 * p.numel()
    return total


def low_rank_factors(weight, rank: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A = S_r V_r^T (rank x in), B = U_r (out x rank), singular values) of a float weight matrix."""
    import torch

    if isinstance(weight, torch.Tensor):
        weight = weight.detach().double().numpy()
    from impl.checks import as_matrix

    weight = as_matrix(weight, "weight")
    rank = as_int(rank, "rank", minimum=1, maximum=min(weight.shape))
    u, s, vt = np.linalg.svd(weight, full_matrices=False)
    return s[:rank, None] * vt[:rank], u[:, :rank], s


def replace_low_rank(model, index: int, rank: int):
    """A copy of a Sequential `model` whose module `index` (a Linear) is replaced by its rank-`rank`
    factorisation Linear(in, rank, bias=False) -> Linear(rank, out)."""
    import copy

    import torch

    model = _module(model)
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    index = as_int(index, "index", minimum=0, maximum=len(model) - 1)
    layer = model[index]
    if not isinstance(layer, torch.nn.Linear):
        raise ValueError(f"index must point at a Linear layer, got {type(layer).__name__}")
    a, b, _ = low_rank_factors(layer.weight, rank)
    first = torch.nn.Linear(layer.in_features, a.shape[0], bias=False)
    second = torch.nn.Linear(a.shape[0], layer.out_features, bias=layer.bias is not None)
    with torch.no_grad():
        first.weight.copy_(torch.from_numpy(a))
        second.weight.copy_(torch.from_numpy(b))
        if layer.bias is not None:
            second.bias.copy_(layer.bias)
    replaced = copy.deepcopy(model)
    replaced[index] = torch.nn.Sequential(first, second)
    return replaced


def distill_loss(student_logits, teacher_logits, labels, temperature: float, alpha: float):
    """alpha T^2 KL(teacher || student at temperature T) + (1 - alpha) cross-entropy with the labels
    (both batch means). With equal logits the KL term is exactly 0."""
    import torch.nn.functional as F

    student_logits = as_tensor(student_logits, "student_logits", ndim=2, floating=True)
    teacher_logits = as_tensor(teacher_logits, "teacher_logits", ndim=2, floating=True)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student_logits and teacher_logits must have one shape, got {tuple(student_logits.shape)} "
                         f"and {tuple(teacher_logits.shape)}")
    labels = as_tensor(labels, "labels", ndim=1, floating=False, num_classes=student_logits.shape[1])
    same_length("student_logits", student_logits, "labels", labels)
    temperature = as_float(temperature, "temperature", low=0.0, low_open=True, high=MAX_TEMPERATURE)
    alpha = as_float(alpha, "alpha", low=0.0, high=1.0)
    soft = F.kl_div(F.log_softmax(student_logits / temperature, 1), F.log_softmax(teacher_logits / temperature, 1),
                    log_target=True, reduction="batchmean")
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


class DistillFit(NamedTuple):
    student: object              # the trained student (torch.nn.Module), at its best validation epoch if validated
    val_accuracy: list[float]    # after each epoch (empty without a validation set)
    best_epoch: int              # 1-based epoch whose weights `student` holds (the last one without validation)


def train_distilled(student, teacher_logits, X, y, *, temperature: float, alpha: float, lr: float, batch_size: int,
                    num_epochs: int, seed: int, X_val=None, y_val=None) -> DistillFit:
    """Adam on `distill_loss` over minibatches (order from `seed`); `teacher_logits` are precomputed
    for the rows of X. With `X_val`, `y_val`: validation accuracy after every epoch, and the student
    ends with the weights of the first epoch that reached the best of them."""
    import copy

    import torch

    student = as_instance(student, "student", torch.nn.Module)
    weight = next(student.parameters(), None)
    dtype = None if weight is None else weight.dtype  # torch does not mix float dtypes in a matmul
    X = as_tensor(X, "X", ndim=2, floating=True, dtype=dtype)
    y = as_tensor(y, "y", ndim=1, floating=False, num_classes=10)
    teacher_logits = as_tensor(teacher_logits, "teacher_logits", ndim=2, floating=True)
    same_length("X", X, "y", y)
    same_length("X", X, "teacher_logits", teacher_logits)
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    if X_val is not None:
        X_val = as_tensor(X_val, "X_val", ndim=2, floating=True, dtype=dtype)
        y_val = as_tensor(y_val, "y_val", ndim=1, floating=False, num_classes=10)
        same_length("X_val", X_val, "y_val", y_val)
    temperature = as_float(temperature, "temperature", low=0.0, low_open=True, high=MAX_TEMPERATURE)
    alpha = as_float(alpha, "alpha", low=0.0, high=1.0)
    lr = as_learning_rate(lr)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=MAX_STEPS)
    generator = torch.Generator().manual_seed(as_seed(seed))
    optimizer = torch.optim.Adam(student.parameters(), lr=lr)
    curve, best_state, best_epoch = [], None, num_epochs
    for epoch in range(1, num_epochs + 1):
        student.train()
        for index in torch.randperm(len(X), generator=generator).split(batch_size):
            loss = distill_loss(student(X[index]), teacher_logits[index], y[index], temperature, alpha)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if X_val is not None:
            student.eval()
            with torch.no_grad():
                curve.append(int((student(X_val).argmax(1) == y_val).sum()) / len(y_val))
            if curve[-1] > max(curve[:-1], default=-1.0):
                best_state, best_epoch = copy.deepcopy(student.state_dict()), epoch
    if best_state is not None:
        student.load_state_dict(best_state)
    return DistillFit(student.eval(), curve, best_epoch)
