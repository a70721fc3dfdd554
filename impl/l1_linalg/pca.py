"""Principal component analysis by three independent routes, plus PCA as feature extraction.

Conventions match scikit-learn: variances use the n - 1 denominator, components are
rows of a (k x d) matrix, scores are (X - mean) @ components.T.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from impl.checks import MAX_STEPS, as_float_array, as_instance, as_int, as_labels, as_matrix, as_seed, same_length

__all__ = [
    "PCA", "pca_eigh", "pca_svd", "pca_jax", "scores", "reconstruct", "reconstruction_mse",
    "feature_extraction_cv",
]


class PCA(NamedTuple):
    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d), orthonormal rows, by decreasing variance
    explained_variance: np.ndarray  # (k,)
    explained_variance_ratio: np.ndarray  # (k,)


def _check_data(X: np.ndarray) -> np.ndarray:
    return as_matrix(X, "X", min_shape=(2, 1))


def _finish(X: np.ndarray, mean: np.ndarray, components: np.ndarray, variance: np.ndarray) -> PCA:
    order = np.argsort(variance)[::-1]
    variance, components = np.clip(variance[order], 0.0, None), components[order]
    total = np.sum(np.var(X, axis=0, ddof=1))
    return PCA(mean, components, variance, variance / total)


def pca_eigh(X: np.ndarray) -> PCA:
    """PCA from the eigendecomposition of the sample covariance matrix."""
    X = _check_data(X)
    mean = X.mean(axis=0)
    Xc = X - mean
    cov = Xc.T @ Xc / (X.shape[0] - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    return _finish(X, mean, eigenvectors.T, eigenvalues)


def pca_svd(X: np.ndarray) -> PCA:
    """PCA from the SVD of the centred data: components = V^T, variances = s^2 / (n - 1)."""
    X = _check_data(X)
    mean = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    variance = s**2 / (X.shape[0] - 1)
    k = Vt.shape[0]
    return _finish(X, mean, Vt, variance[:k])


def pca_jax(X: np.ndarray) -> PCA:
    """PCA from `jax.numpy.linalg.svd` in float64 (an independent LAPACK/XLA route)."""
    import jax
    import jax.numpy as jnp

    X = _check_data(X)
    with jax.enable_x64(True):
        Xj = jnp.asarray(X, dtype=jnp.float64)
        mean = jnp.mean(Xj, axis=0)
        _, s, Vt = jnp.linalg.svd(Xj - mean, full_matrices=False)
        mean, s, Vt = np.asarray(mean), np.asarray(s), np.asarray(Vt)
    return _finish(X, mean, Vt, s**2 / (X.shape[0] - 1))


def _fitted(pca: Any) -> PCA:
    """A PCA record passed in, its fields checked like arguments: finite, of agreeing shapes (a NaN mean or
    a component matrix of the wrong width is refused by the field's name, never answered)."""
    pca = as_instance(pca, "pca", PCA)
    mean = as_float_array(pca.mean, "mean", ndim=1)
    components = as_matrix(pca.components, "components")
    variance = as_float_array(pca.explained_variance, "explained_variance", ndim=1)
    ratio = as_float_array(pca.explained_variance_ratio, "explained_variance_ratio", ndim=1)
    if components.shape[1] != mean.size:
        raise ValueError(f"components must have one column per mean entry ({mean.size}), got shape {components.shape}")
    if not variance.size == ratio.size == components.shape[0]:
        raise ValueError(f"explained_variance and explained_variance_ratio must have one entry per component "
                         f"({components.shape[0]}), got {variance.size} and {ratio.size}")
    return PCA(mean, components, variance, ratio)


def scores(X: np.ndarray, pca: PCA, k: int | None = None) -> np.ndarray:
    """Coordinates of X on the first k principal axes (all by default)."""
    X, pca = _data(X, pca)
    k = pca.components.shape[0] if k is None else as_int(k, "k", minimum=1, maximum=pca.components.shape[0])
    return _scores(X, pca, k)


def reconstruct(Z: np.ndarray, pca: PCA) -> np.ndarray:
    """Map scores on the first Z.shape[1] axes back to data space."""
    Z = as_matrix(Z, "Z")
    pca = _fitted(pca)
    if Z.shape[1] > pca.components.shape[0]:
        raise ValueError(f"Z has {Z.shape[1]} score columns, the PCA has {pca.components.shape[0]} components")
    return _reconstruct(Z, pca)


def reconstruction_mse(X: np.ndarray, pca: PCA, k: int) -> float:
    """Mean squared error of reconstructing X from its first k scores."""
    X, pca = _data(X, pca)
    k = as_int(k, "k", minimum=1, maximum=pca.components.shape[0])
    return float(np.mean((X - _reconstruct(_scores(X, pca, k), pca)) ** 2))


def _data(X: Any, pca: Any) -> tuple[np.ndarray, PCA]:
    """X and the fitted PCA, checked once, with X's width the PCA's."""
    X, pca = as_matrix(X, "X"), _fitted(pca)
    if X.shape[1] != pca.mean.shape[0]:
        raise ValueError(f"X has {X.shape[1]} columns, the PCA was fitted on {pca.mean.shape[0]}")
    return X, pca


def _scores(X: np.ndarray, pca: PCA, k: int) -> np.ndarray:
    return (X - pca.mean) @ pca.components[:k].T


def _reconstruct(Z: np.ndarray, pca: PCA) -> np.ndarray:
    return Z @ pca.components[:Z.shape[1]] + pca.mean


def feature_extraction_cv(
    X: np.ndarray, y: np.ndarray, *, n_components: int, n_folds: int, seed: int, max_iter: int = 5000
) -> dict[str, list[float]]:
    """Stratified k-fold accuracy of logistic regression on PCA scores vs on all features.

    Scaler and PCA are fitted inside each training fold (a Pipeline), so no test
    fold leaks into the features. Keys "pca" and "full" hold the fold accuracies;
    "pca_classifier_features" and "full_classifier_features" hold, per fold, how many
    features the fitted pipeline actually fed its classifier (its `n_features_in_`).
    """
    from sklearn.decomposition import PCA as SkPCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = as_matrix(X, "X")
    y = as_labels(y, "y")
    same_length("X", X, "y", y)
    n_components = as_int(n_components, "n_components", minimum=1, maximum=X.shape[1])
    class_sizes = np.bincount(y)
    # Stratified folds need every class in every fold.
    n_folds = as_int(n_folds, "n_folds", minimum=2, maximum=int(class_sizes[class_sizes > 0].min()))
    seed = as_seed(seed)  # the range sklearn's random_state takes
    max_iter = as_int(max_iter, "max_iter", minimum=1, maximum=MAX_STEPS)
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    classifier = lambda: LogisticRegression(max_iter=max_iter)  # noqa: E731 - fresh model per pipeline
    reduced = make_pipeline(StandardScaler(), SkPCA(n_components=n_components, random_state=seed), classifier())
    full = make_pipeline(StandardScaler(), classifier())
    runs = {name: cross_validate(pipeline, X, y, cv=folds, return_estimator=True)
            for name, pipeline in (("pca", reduced), ("full", full))}
    result = {name: run["test_score"].tolist() for name, run in runs.items()}
    for name, run in runs.items():
        result[f"{name}_classifier_features"] = [int(model[-1].n_features_in_) for model in run["estimator"]]
    return result
