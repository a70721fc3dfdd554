"""Gaussian mixtures with TensorFlow Probability (TF substrate), checked against SciPy and sklearn.

TF/TFP are imported inside the functions: importing them costs ~8 s.
"""
from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np
from scipy import optimize, special, stats

from impl.checks import (
    MAX_SAMPLES, MAX_STEPS, as_float, as_float_array, as_instance, as_int, as_matrix, as_rng, as_seed, as_str,
)

__all__ = [
    "DTYPES", "Mixture", "check_mixture", "tfp_mixture", "tfp_log_prob_and_mean", "scipy_log_prob", "sample",
    "fit", "mean_log_likelihood", "bic", "em_reference", "match_components", "responsibilities", "MAX_RESTARTS",
]

DTYPES = ("float32", "float64")
MAX_RESTARTS = 1000  # EM restarts (n_init); sklearn's default is 1, the lesson uses 3


def _tfp() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # silence TF's C++ start-up banner
    import tensorflow_probability as tfp

    return tfp


class Mixture(NamedTuple):
    weights: np.ndarray  # (K,), sums to 1
    means: np.ndarray  # (K,) or (K, d)
    scales: np.ndarray  # same shape as means (diagonal SDs)


def check_mixture(weights: Any, means: Any, scales: Any) -> Mixture:
    weights = as_float_array(weights, "weights", ndim=1)
    means = as_float_array(means, "means")
    scales = as_float_array(scales, "scales")
    if means.ndim not in (1, 2) or means.shape[0] != weights.size or scales.shape != means.shape:
        raise ValueError(f"means and scales must be (K,) or (K, d) with K = len(weights) = {weights.size}, "
                         f"got {means.shape} and {scales.shape}")
    if np.any(weights < 0) or abs(weights.sum() - 1.0) > 1e-6:
        raise ValueError(f"weights must be non-negative and sum to 1, got sum {weights.sum()!r}")
    if np.any(scales <= 0):
        raise ValueError("scales must be positive")
    return Mixture(weights, means, scales)


def _mixture(mixture: Any) -> Mixture:
    as_instance(mixture, "mixture", Mixture)
    return check_mixture(*mixture)


def _points(x: Any, name: str, mixture: Mixture) -> np.ndarray:
    """Points for `mixture`: a 1-D array for a 1-D mixture, an (n, d) matrix for a d-D one."""
    if mixture.means.ndim == 1:
        return as_float_array(x, name, ndim=1)
    x = as_matrix(x, name)
    if x.shape[1] != mixture.means.shape[1]:
        raise ValueError(f"{name} has {x.shape[1]} columns, the mixture is {mixture.means.shape[1]}-D")
    return x


def tfp_mixture(mixture: Mixture, dtype: str = "float32") -> Any:
    """tfd.MixtureSameFamily(Categorical, Normal) in 1-D, or with Independent diagonal Normals in d-D."""
    dtype = as_str(dtype, "dtype", choices=DTYPES)
    weights, means, scales = _mixture(mixture)
    tfd = _tfp().distributions
    components = tfd.Normal(means.astype(dtype), scales.astype(dtype))
    if means.ndim == 2:
        components = tfd.Independent(components, reinterpreted_batch_ndims=1)
    return tfd.MixtureSameFamily(tfd.Categorical(probs=weights.astype(dtype)), components)


def tfp_log_prob_and_mean(x: np.ndarray, mixture: Mixture, dtype: str = "float32") -> tuple[np.ndarray, float]:
    """TFP's log-density of a 1-D mixture at x (float64 out) and its mean."""
    x = as_float_array(x, "x", ndim=1)
    if _mixture(mixture).means.ndim != 1:
        raise ValueError("means must be 1-D for a 1-D mixture")
    dist = tfp_mixture(mixture, dtype)
    return np.asarray(dist.log_prob(x.astype(dtype)), dtype=np.float64), float(dist.mean())


def scipy_log_prob(x: np.ndarray, mixture: Mixture) -> np.ndarray:
    """Reference: logsumexp_k(log w_k + log N(x | mu_k, s_k^2)); d-D points use diagonal Normals."""
    return _log_prob(x, "x", mixture)


def _log_joint(x: Any, name: str, mixture: Mixture) -> np.ndarray:
    """log w_k + log p(x_i | component k), shape (n, K), for 1-D or diagonal d-D mixtures."""
    weights, means, scales = mixture = _mixture(mixture)
    x = _points(x, name, mixture)
    if means.ndim == 1:
        per_component = stats.norm.logpdf(x[:, None], means, scales)
    else:
        per_component = stats.norm.logpdf(x[:, None, :], means, scales).sum(axis=2)
    with np.errstate(divide="ignore"):
        return np.log(weights) + per_component


def _log_prob(x: Any, name: str, mixture: Mixture) -> np.ndarray:
    return special.logsumexp(_log_joint(x, name, mixture), axis=1)


def sample(n: int, mixture: Mixture, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points from a diagonal mixture and their component labels."""
    n = as_int(n, "n", minimum=1, maximum=MAX_SAMPLES)
    weights, means, scales = _mixture(mixture)
    rng = as_rng(rng, "rng")
    labels = rng.choice(weights.size, size=n, p=weights)
    noise = rng.standard_normal((n, *means.shape[1:]))
    return means[labels] + scales[labels] * noise, labels


def fit(X: np.ndarray, n_components: int, *, steps: int = 1500, lr: float = 0.05, seed: int = 0) -> Mixture:
    """Maximum likelihood for a diagonal GMM with TFP: Adam on the mean negative log-likelihood.

    Starts from k-means (centres, per-cluster SDs and shares). Parameters are
    unconstrained: logits for the weights, softplus^-1 for the scales. float64.
    """
    X = as_matrix(X, "X")
    k = as_int(n_components, "n_components", minimum=1, maximum=len(X))
    steps = as_int(steps, "steps", minimum=1, maximum=MAX_STEPS)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    seed = as_seed(seed)
    import tensorflow as tf
    from sklearn.cluster import KMeans

    tfd = _tfp().distributions
    labels = KMeans(k, n_init=3, random_state=seed).fit(X).labels_
    counts = np.bincount(labels, minlength=k)
    centres = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    spreads = np.array([X[labels == j].std(axis=0) if counts[j] > 1 else X.std(axis=0) for j in range(k)])
    spreads = np.maximum(spreads, 1e-3 * X.std(axis=0) + 1e-12)
    loc = tf.Variable(centres)
    raw_scale = tf.Variable(np.log(np.expm1(spreads)))
    logits = tf.Variable(np.log(counts / counts.sum()))
    data = tf.constant(X)
    variables = [loc, raw_scale, logits]
    optimizer = tf.optimizers.Adam(lr)

    def mixture() -> Any:
        normals = tfd.Independent(tfd.Normal(loc, tf.nn.softplus(raw_scale)), reinterpreted_batch_ndims=1)
        return tfd.MixtureSameFamily(tfd.Categorical(logits=logits), normals)

    @tf.function
    def train() -> Any:
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(mixture().log_prob(data))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    train()
    return Mixture(tf.nn.softmax(logits).numpy(), loc.numpy(), tf.nn.softplus(raw_scale).numpy())


def mean_log_likelihood(X: np.ndarray, mixture: Mixture) -> float:
    """Average log-density per point (nats), computed in float64 with SciPy."""
    return float(np.mean(_log_prob(as_matrix(X, "X"), "X", mixture)))


def bic(X: np.ndarray, mixture: Mixture) -> float:
    """-2 log L + (free parameters) log n, for a diagonal GMM: K - 1 weights, K d means, K d scales."""
    X = as_matrix(X, "X")
    k, d = len(_mixture(mixture).weights), X.shape[1]
    return -2.0 * len(X) * mean_log_likelihood(X, mixture) + (k - 1 + 2 * k * d) * np.log(len(X))


def em_reference(X: np.ndarray, n_components: int, *, n_init: int, seed: int = 0) -> Mixture:
    """sklearn GaussianMixture (EM, diagonal covariances) for the same model, best of `n_init` k-means starts."""
    from sklearn.mixture import GaussianMixture

    X = as_matrix(X, "X")
    k = as_int(n_components, "n_components", minimum=1, maximum=len(X))
    em = GaussianMixture(k, covariance_type="diag", n_init=as_int(n_init, "n_init", minimum=1, maximum=MAX_RESTARTS),
                         random_state=as_seed(seed)).fit(X)
    return Mixture(em.weights_, em.means_, np.sqrt(em.covariances_))


def match_components(estimated_means: np.ndarray, true_means: np.ndarray) -> np.ndarray:
    """Hungarian matching: order[j] is the estimated component paired with true component j."""
    estimated_means = as_matrix(estimated_means, "estimated_means")
    true_means = as_matrix(true_means, "true_means")
    if estimated_means.shape != true_means.shape:
        raise ValueError(f"estimated_means and true_means must have one shape, got "
                         f"{estimated_means.shape} and {true_means.shape}")
    cost = np.linalg.norm(true_means[:, None, :] - estimated_means[None, :, :], axis=2)
    rows, cols = optimize.linear_sum_assignment(cost)
    return cols[np.argsort(rows)]


def responsibilities(X: np.ndarray, mixture: Mixture) -> np.ndarray:
    """P(component k | x) for each point (n, K): x a vector for a 1-D mixture, rows of X for a d-D one."""
    log_joint = _log_joint(X, "X", mixture)
    return np.exp(log_joint - special.logsumexp(log_joint, axis=1, keepdims=True))
