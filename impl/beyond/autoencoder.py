"""Autoencoders on the 8x8 digits: the linear one is PCA, the nonlinear one is an anomaly detector.

- A linear autoencoder with a k-unit bottleneck, trained on mean-squared reconstruction error, can
  do no better than the rank-k truncated SVD of the centred data (Eckart-Young), and at its optimum
  its decoder spans the top-k principal subspace (Baldi & Hornik, 1989), though not with the
  principal axes themselves.
- An undercomplete ReLU autoencoder reconstructs what resembles its training data; its per-image
  reconstruction error is an anomaly score.
Training is full-batch Adam in float32 (torch), seeded.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_bool, as_float, as_float_array, as_int, as_rng, as_seed

__all__ = ["pca_error", "train_autoencoder", "reconstruction_errors", "principal_cosines", "salt_and_pepper"]


def pca_error(X, k: int) -> tuple[float, np.ndarray]:
    """Mean squared reconstruction error per entry of centred X from its top-k principal subspace,
    and that subspace's orthonormal basis (k, d)."""
    X = as_float_array(X, "X", ndim=2, min_shape=(2, 2))
    k = as_int(k, "k", minimum=1, maximum=min(X.shape))
    Xc = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    basis = Vt[:k]
    return float(np.mean((Xc - Xc @ basis.T @ basis) ** 2)), basis


def train_autoencoder(X, widths: tuple, linear: bool, num_steps: int, lr: float, seed: int):
    """Full-batch Adam on MSE for an autoencoder with layer widths `widths` (e.g. (64, 10, 64));
    ReLU between layers unless `linear` (the last layer is always linear). Returns the torch model."""
    import torch
    from torch import nn

    X = as_float_array(X, "X", ndim=2)
    if not isinstance(widths, tuple) or len(widths) < 3:
        raise TypeError("widths must be a tuple of at least 3 layer widths")
    widths = tuple(as_int(w, "widths", minimum=1, maximum=4096) for w in widths)
    linear = as_bool(linear, "linear")
    if widths[0] != X.shape[1] or widths[-1] != X.shape[1]:
        raise ValueError(f"widths must start and end at X's {X.shape[1]} columns, got {widths}")
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**6)
    lr = as_float(lr, "lr", low=0.0, high=1.0, low_open=True)
    seed = as_seed(seed)
    layers = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if not linear and i < len(widths) - 2:
                layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(num_steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(Xt), Xt).backward()
        optimizer.step()
    return model


def reconstruction_errors(model, X) -> np.ndarray:
    """Per-row mean squared reconstruction error of `model` on X."""
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}")
    X = as_float_array(X, "X", ndim=2)
    with torch.no_grad():
        Xt = torch.as_tensor(X, dtype=torch.float32)
        return ((model(Xt) - Xt) ** 2).mean(dim=1).double().numpy()


def principal_cosines(basis, decoder_weight) -> np.ndarray:
    """Cosines of the principal angles between span(basis rows) and span(decoder_weight columns)."""
    basis = as_float_array(basis, "basis", ndim=2)
    decoder_weight = as_float_array(decoder_weight, "decoder_weight", ndim=2)
    if decoder_weight.shape[0] != basis.shape[1]:
        raise ValueError(f"decoder_weight must have {basis.shape[1]} rows, got {decoder_weight.shape}")
    q_decoder, _ = np.linalg.qr(decoder_weight)
    q_basis, _ = np.linalg.qr(basis.T)
    return np.clip(np.linalg.svd(q_basis.T @ q_decoder, compute_uv=False), 0.0, 1.0)


def salt_and_pepper(X, fraction: float, low: float, high: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of X with a `fraction` of each row's entries set to `low` or `high` (half each, at random)."""
    X = as_float_array(X, "X", ndim=2)
    fraction = as_float(fraction, "fraction", low=0.0, high=1.0)
    low, high = as_float(low, "low"), as_float(high, "high")
    rng = as_rng(rng, "rng")
    out = X.copy()
    k = int(round(fraction * X.shape[1]))
    for row in out:
        idx = rng.choice(X.shape[1], k, replace=False)
        row[idx] = np.where(rng.random(k) < 0.5, low, high)
    return out
