"""Scaled dot-product attention, written out in NumPy: softmax(Q K^T / sqrt(d_k)) V.

Why the scale: for i.i.d. N(0, 1) entries, q . k is a sum of d_k unit-variance products, so its
variance is d_k; unscaled logits grow with the width and the softmax saturates onto one key
(its gradient vanishes). Dividing by sqrt(d_k) brings the variance back to 1.
"""
from __future__ import annotations

import numpy as np

from impl.checks import MAX_DIM, MAX_SAMPLES, as_bool, as_float_array, as_int, as_rng

__all__ = ["attention", "logit_variance", "mean_top_weight"]


def attention(Q, K, V, causal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Outputs (n_q, d_v) and weights (n_q, n_k) of scaled dot-product attention; with `causal`,
    query t attends to keys 0..t only (needs n_q == n_k)."""
    Q = as_float_array(Q, "Q", ndim=2)
    K = as_float_array(K, "K", ndim=2)
    V = as_float_array(V, "V", ndim=2)
    causal = as_bool(causal, "causal")
    if K.shape[1] != Q.shape[1]:
        raise ValueError(f"K must have Q's width {Q.shape[1]}, got shape {K.shape}")
    if V.shape[0] != K.shape[0]:
        raise ValueError(f"V must have one row per key ({K.shape[0]}), got shape {V.shape}")
    if causal and Q.shape[0] != K.shape[0]:
        raise ValueError(f"causal attention needs as many queries as keys, got Q {Q.shape} and K {K.shape}")
    logits = Q @ K.T / np.sqrt(Q.shape[1])
    if causal:
        logits = np.where(np.tril(np.ones(logits.shape, dtype=bool)), logits, -np.inf)
    logits = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ V, weights


def _draws(d_k: int, num: int) -> tuple[int, int]:
    d_k = as_int(d_k, "d_k", minimum=1, maximum=MAX_DIM)
    return d_k, as_int(num, "num_samples", minimum=2, maximum=MAX_SAMPLES // (2 * d_k))


def logit_variance(d_k: int, num_samples: int, rng: np.random.Generator) -> tuple[float, float]:
    """Sample variance of q . k and of q . k / sqrt(d_k) for i.i.d. N(0, 1) q, k in R^d_k."""
    d_k, num = _draws(d_k, num_samples)
    rng = as_rng(rng, "rng")
    dots = np.einsum("ij,ij->i", rng.standard_normal((num, d_k)), rng.standard_normal((num, d_k)))
    return float(dots.var(ddof=1)), float((dots / np.sqrt(d_k)).var(ddof=1))


def mean_top_weight(d_k: int, num_keys: int, num_samples: int, scaled: bool, rng: np.random.Generator) -> float:
    """Mean over `num_samples` random queries of the largest softmax weight over `num_keys` random keys
    (N(0, 1) entries), with or without the 1 / sqrt(d_k) scale."""
    d_k, num = _draws(d_k, num_samples)
    num_keys = as_int(num_keys, "num_keys", minimum=1, maximum=MAX_DIM)
    scaled = as_bool(scaled, "scaled")
    rng = as_rng(rng, "rng")
    q = rng.standard_normal((num, 1, d_k))
    k = rng.standard_normal((num, num_keys, d_k))
    logits = (q * k).sum(axis=2) / (np.sqrt(d_k) if scaled else 1.0)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return float((weights.max(axis=1) / weights.sum(axis=1)).mean())
