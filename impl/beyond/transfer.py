"""Transfer learning with few labels: a CNN pretrained on digits 0-4 helps classify digits 5-9 from 50 images.

This stands in for the notes' hub-pretrained ResNet-50 / BERT (not downloadable offline). The
backbone is the notes' CNN's two conv blocks (up to the 1,600-wide flatten).
- `pretrain`: the whole network (5-way head) on the source classes, Adam 1e-3, batch 64, until the
  validation loss has not improved for `patience` epochs; the best epoch's weights are kept, so the
  backbone is trained to convergence, not for a fixed handful of steps.
- `fine_tune_head`: a copy whose backbone is frozen (requires_grad False) and whose dense layers are
  replaced by one linear layer 1,600 -> 5 (8,005 weights: a linear probe, the head 50 images can
  fit; a 1600 -> 64 -> 5 head has 102k), trained through the frozen network to the optimum of
  cross-entropy + l2/2 |W|^2 by full-batch L-BFGS.
- `choose_l2`: the probe's penalty chosen by stratified k-fold cross-validation on the few labelled
  images themselves (held-out cross-entropy), so no extra labels and no test data choose it.
- `from_scratch`: the same architecture, every weight trained on the same few images (full batch).
Classes are relabelled 0..4 in both tasks.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from impl.checks import as_float, as_float_array, as_images, as_int, as_labels, as_seed, as_str, same_length
from impl.scoring import classifier_accuracy

__all__ = ["BACKBONE_LAYERS", "PretrainResult", "network", "pretrain", "fine_tune_head", "choose_l2",
           "from_scratch", "accuracy", "backbone_state", "same_backbone"]

BACKBONE_LAYERS = 7  # notes_cnn_torch: conv, relu, pool, conv, relu, pool, flatten | dense, relu, dense
FEATURES = 5 * 5 * 64
NUM_CLASSES = 5


def _data(images, labels, names: tuple[str, str] = ("images", "labels")):
    import torch

    from impl.beyond.cnn_train import image_tensor

    images = as_images(images, names[0], shape=(28, 28))
    labels = as_labels(labels, names[1], num_classes=NUM_CLASSES)
    same_length(names[0], images, names[1], labels)
    return image_tensor(images), torch.from_numpy(labels.astype(np.int64))


def _as_sequential(model, name: str):
    from torch import nn

    if not isinstance(model, nn.Sequential) or len(model) <= BACKBONE_LAYERS:
        raise TypeError(f"{name} must be an nn.Sequential built by transfer.network or fine_tune_head, got "
                        f"{type(model).__name__}")
    return model


def network(seed: int, kind: str = "notes"):
    """An untrained network: "notes" is the notes' CNN with a 5-way output; "probe" its backbone + Linear(1600, 5)."""
    import torch
    from torch import nn

    from impl.beyond.cnn_shapes import notes_cnn_torch

    seed = as_seed(seed)
    kind = as_str(kind, "kind", choices=("notes", "probe"))
    net = notes_cnn_torch(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the new output layer's init, without touching the caller's generator
        if kind == "notes":
            net[-1] = nn.Linear(64, NUM_CLASSES)
            return net
        return nn.Sequential(*net[:BACKBONE_LAYERS], nn.Linear(FEATURES, NUM_CLASSES))


class PretrainResult(NamedTuple):
    model: object              # the notes' CNN at its best validation epoch, eval mode
    val_loss: list[float]      # after each epoch
    val_accuracy: list[float]
    best_epoch: int            # 0-based


def pretrain(images, labels, val_images, val_labels, *, max_epochs: int, patience: int, seed: int) -> PretrainResult:
    """The notes' CNN trained on the source images (Adam 1e-3, batch 64) with early stopping on the validation split."""
    import torch
    from torch import nn

    X, y = _data(images, labels)
    X_val, y_val = _data(val_images, val_labels, ("val_images", "val_labels"))
    max_epochs = as_int(max_epochs, "max_epochs", minimum=1, maximum=1000)
    patience = as_int(patience, "patience", minimum=1, maximum=max_epochs)
    seed = as_seed(seed)
    model = network(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    losses, accuracies, best_state, best = [], [], None, 0
    for epoch in range(max_epochs):
        model.train()
        for batch in torch.randperm(len(y), generator=generator).split(64):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.inference_mode():
            logits = model(X_val)
            losses.append(float(nn.functional.cross_entropy(logits, y_val)))
            accuracies.append(float((logits.argmax(1) == y_val).double().mean()))
        if best_state is None or losses[-1] < losses[best]:
            best, best_state = epoch, copy.deepcopy(model.state_dict())
        elif epoch - best >= patience:
            break
    model.load_state_dict(best_state)
    return PretrainResult(model.eval(), losses, accuracies, best)


def _fit_probe(head, features_or_model, X, y, l2: float, max_iter: int) -> None:
    """Full-batch L-BFGS on mean cross-entropy + l2/2 |W|^2 (bias not penalised): a convex problem."""
    import torch
    from torch import nn

    trainable = [p for p in features_or_model.parameters() if p.requires_grad]
    optimizer = torch.optim.LBFGS(trainable, lr=1.0, max_iter=max_iter, tolerance_grad=1e-9,
                                  tolerance_change=1e-12, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(features_or_model(X), y) + 0.5 * l2 * (head.weight ** 2).sum()
        loss.backward()
        return loss

    features_or_model.train()
    optimizer.step(closure)
    features_or_model.eval()


def fine_tune_head(pretrained, images, labels, *, l2: float, max_iter: int = 500, seed: int):
    """A copy of `pretrained` with its backbone frozen and a new Linear(1600, 5) head, fitted through
    the frozen network on the few labelled images. The optimizer is given the parameters that
    require gradients, as a framework's `trainable=False` does."""
    _as_sequential(pretrained, "pretrained")
    X, y = _data(images, labels)
    l2 = as_float(l2, "l2", low=0.0)
    max_iter = as_int(max_iter, "max_iter", minimum=1, maximum=10**5)
    model = network(as_seed(seed), "probe")
    model.load_state_dict({**_backbone(pretrained), **{k: v for k, v in model.state_dict().items()
                                                              if int(k.split(".")[0]) >= BACKBONE_LAYERS}})
    for parameter in model[:BACKBONE_LAYERS].parameters():
        parameter.requires_grad_(False)
    _fit_probe(model[-1], model, X, y, l2, max_iter)
    return model


def choose_l2(pretrained, images, labels, l2_grid, *, num_folds: int, seed: int) -> tuple[float, dict]:
    """(the l2 with the lowest mean held-out cross-entropy, {l2: that loss}) over stratified
    `num_folds`-fold splits of the few labelled images. The frozen backbone has no dropout or batch
    norm, so its features are computed once: the same numbers the probe sees through the network."""
    import torch
    from torch import nn

    _as_sequential(pretrained, "pretrained")
    X, y = _data(images, labels)
    grid = as_float_array(l2_grid, "l2_grid", ndim=1)
    if np.any(grid <= 0):
        raise ValueError("l2_grid must hold positive penalties (without one, separable data has no optimum)")
    num_folds = as_int(num_folds, "num_folds", minimum=2, maximum=len(y))
    seed = as_seed(seed)
    if np.bincount(y.numpy(), minlength=NUM_CLASSES).min() < num_folds:
        raise ValueError(f"labels need at least num_folds = {num_folds} images of every class")
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), dtype=np.int64)
    for c in range(NUM_CLASSES):  # stratified: each class dealt round-robin over the folds
        members = rng.permutation(np.flatnonzero(y.numpy() == c))
        folds[members] = np.arange(len(members)) % num_folds
    with torch.inference_mode():
        features = pretrained[:BACKBONE_LAYERS](X).clone()
    scores = {}
    for l2 in grid.tolist():
        held_out = []
        for fold in range(num_folds):
            fit, out = torch.from_numpy(folds != fold), torch.from_numpy(folds == fold)
            head = network(seed, "probe")[-1]
            _fit_probe(head, head, features[fit], y[fit], l2, 500)
            with torch.inference_mode():
                held_out.append(float(nn.functional.cross_entropy(head(features[out]), y[out], reduction="sum")))
        scores[l2] = sum(held_out) / len(y)
    return min(scores, key=lambda l2: (scores[l2], -l2)), scores  # a tie goes to the stronger penalty


def from_scratch(images, labels, *, num_steps: int, seed: int):
    """The notes' CNN (5-way head), every weight trained from a fresh init: `num_steps` full-batch Adam 1e-3 steps."""
    import torch
    from torch import nn

    X, y = _data(images, labels)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**5)
    model = network(as_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(num_steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
    return model.eval()


def accuracy(model, images, labels) -> float:
    """Share of `images` whose argmax class is `labels` (0..4): `scoring.classifier_accuracy` on the
    normalised tensor, 2,048 images at a time."""
    X, y = _data(images, labels)
    return classifier_accuracy(model, X, y, batch_size=2048)


def backbone_state(model) -> dict:
    """The conv backbone's tensors of a network built here (state_dict keys of the first 7 layers)."""
    return _backbone(_as_sequential(model, "model"))


def _backbone(model) -> dict:
    return {k: v for k, v in model.state_dict().items() if int(k.split(".")[0]) < BACKBONE_LAYERS}


def same_backbone(model_a, model_b) -> bool:
    """Whether two networks' conv backbones hold bitwise-equal tensors (same keys, shapes, values)."""
    import torch

    a, b = _backbone(_as_sequential(model_a, "model_a")), _backbone(_as_sequential(model_b, "model_b"))
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a)
