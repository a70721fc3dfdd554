"""Regularisation mechanics: a sparse regression problem for L1 vs L2, weight decay as four torch
optimizers implement it, dropout in torch and Keras, and Keras early stopping on a scripted curve.

TensorFlow/Keras is imported inside the functions: importing this module stays cheap."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_STEPS, as_float, as_float_array, as_int, as_matrix, as_rng, as_seed, as_str, finite_or_diverged,
    same_length,
)
from impl.isolation import torch_state

__all__ = ["DECAY_RULES", "sparse_regression", "weight_decay_path", "dropout_outputs", "mc_dropout_linear",
           "early_stopping"]

DECAY_RULES = ("sgd_weight_decay", "sgd_l2_in_loss", "adam_weight_decay", "adamw")


def sparse_regression(n: int, p: int, k: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, beta): X ~ N(0, I) of n x p, beta with k random non-zero entries of +-2, y = X beta + N(0, noise^2)."""
    n = as_int(n, "n", minimum=1, maximum=10**6)
    p = as_int(p, "p", minimum=1, maximum=MAX_DIM)
    k = as_int(k, "k", minimum=0, maximum=p)
    noise = as_float(noise, "noise", low=0.0)
    rng = as_rng(rng, "rng")
    beta = np.zeros(p)
    beta[rng.choice(p, k, replace=False)] = rng.choice([-2.0, 2.0], k)
    X = rng.standard_normal((n, p))
    return X, X @ beta + noise * rng.standard_normal(n), beta


def weight_decay_path(X, y, *, rule: str, lam: float, lr: float, num_steps: int) -> np.ndarray:
    """Weights (num_steps + 1 x p, float64) of least squares (1/2n)|Xw - y|^2 from w = 0 under a decay
    `rule`: SGD(weight_decay=lam); SGD on the loss + lam/2 |w|^2; Adam(weight_decay=lam) (L2 folded
    into the gradient, then rescaled); AdamW(weight_decay=lam) (decoupled shrinkage)."""
    X, y = as_matrix(X, "X"), as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    rule = as_str(rule, "rule", choices=DECAY_RULES)
    lam = as_float(lam, "lam", low=0.0)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    make = {"sgd_weight_decay": lambda: torch.optim.SGD([w], lr=lr, weight_decay=lam),
            "sgd_l2_in_loss": lambda: torch.optim.SGD([w], lr=lr),
            "adam_weight_decay": lambda: torch.optim.Adam([w], lr=lr, weight_decay=lam),
            "adamw": lambda: torch.optim.AdamW([w], lr=lr, weight_decay=lam)}
    optimizer = make[rule]()
    path = [w.detach().numpy().copy()]
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss = 0.5 * ((Xt @ w - yt) ** 2).mean()
        if rule == "sgd_l2_in_loss":
            loss = loss + 0.5 * lam * (w**2).sum()
        loss.backward()
        optimizer.step()
        path.append(w.detach().numpy().copy())
    return finite_or_diverged(np.array(path), "the weight path", f"lr = {lr:g}")


def dropout_outputs(x, p: float, seed: int) -> dict[str, np.ndarray]:
    """Dropout(p) applied to a float32 batch `x` (rows x units) by torch and Keras, in training and in eval mode."""
    # C order: torch draws the mask in memory order, so a Fortran-ordered x got another mask for the same seed
    x = np.ascontiguousarray(as_float_array(x, "x", ndim=2, dtype=np.float32))
    p = as_float(p, "p", low=0.0, high=1.0, high_open=True)
    seed = as_seed(seed)
    import keras
    import torch

    layer = torch.nn.Dropout(p)
    with torch_state(seed=seed):  # the mask is drawn from a forked, seeded generator
        out = {"torch_train": layer(torch.from_numpy(x)).numpy().astype(np.float64)}
    layer.eval()
    out["torch_eval"] = layer(torch.from_numpy(x)).numpy().astype(np.float64)
    keras_layer = keras.layers.Dropout(p, seed=seed)  # its own seed generator: no global seeding
    out["keras_train"] = np.asarray(keras_layer(x, training=True), dtype=np.float64)
    out["keras_eval"] = np.asarray(keras_layer(x, training=False), dtype=np.float64)
    return out


def mc_dropout_linear(x, W, p: float, num_passes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(eval output, mean of `num_passes` training-mode outputs) of torch Dropout(p) -> x W (float64)."""
    x, W = as_float_array(x, "x", ndim=1), as_matrix(W, "W")
    if W.shape[0] != len(x):
        raise ValueError(f"W must have {len(x)} rows (one per entry of x), got shape {W.shape}")
    p = as_float(p, "p", low=0.0, high=1.0, high_open=True)
    num_passes = as_int(num_passes, "num_passes", minimum=1, maximum=10**6)
    seed = as_seed(seed)
    import torch

    layer, xt, Wt = torch.nn.Dropout(p), torch.from_numpy(x), torch.from_numpy(W)
    with torch_state(seed=seed):  # the masks are drawn from a forked, seeded generator
        passes = layer(xt.expand(num_passes, -1)) @ Wt  # each row an independent mask
    layer.eval()
    return (layer(xt) @ Wt).numpy(), passes.mean(dim=0).numpy()


class EarlyStop(NamedTuple):
    epochs_run: int
    best_epoch: int               # 0-based epoch of the lowest val_loss seen
    restored_is_best: bool        # final weights bitwise equal to those saved after the best epoch
    restored_is_last: bool        # ... or to those after the last epoch run


def early_stopping(val_losses, patience: int) -> EarlyStop:
    """Fit a tiny Keras model with `EarlyStopping(patience, restore_best_weights=True)` while a callback
    feeds it the scripted `val_losses` (one per epoch) in place of measured ones."""
    losses = as_float_array(val_losses, "val_losses", ndim=1)
    patience = as_int(patience, "patience", minimum=0, maximum=len(losses))
    import keras

    # seeded through the initializer, not keras.utils.set_random_seed (which reseeds every global generator)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=0))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    saved: list[list[np.ndarray]] = []

    class Script(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = float(losses[epoch])  # the same dict reaches EarlyStopping next
            saved.append([np.array(v) for v in self.model.get_weights()])

    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    X = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
    history = model.fit(X, X.sum(axis=1), epochs=len(losses), batch_size=16, verbose=0, shuffle=False,
                        callbacks=[Script(), stopper])
    best = int(np.argmin(losses[: len(history.epoch)]))
    final = model.get_weights()
    same = lambda a, b: all(np.array_equal(u, v) for u, v in zip(a, b))  # noqa: E731
    return EarlyStop(len(history.epoch), best, same(final, saved[best]), same(final, saved[-1]))
