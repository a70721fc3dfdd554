import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.linalg import subspace_angles

from impl.data import digits
from impl.l1_linalg import pca


def _clusters(variance: np.ndarray, rel_gap: float) -> list[list[int]]:
    """Group indices of (sorted) variances whose neighbours are closer than rel_gap * lambda_1."""
    groups = [[0]]
    for i in range(1, variance.size):
        if variance[i - 1] - variance[i] < rel_gap * variance[0]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


@pytest.mark.cpu
def test_equivalence(claim):
    """PCA computed four independent ways on the sklearn digits -- eigendecomposition of the
    covariance, SVD of the centred data, scikit-learn's PCA and JAX's SVD -- gives the same
    explained variances and the same components up to sign (near-equal variances, such as the
    zero-variance pixels, are compared as subspaces).

    Course: Lesson 1, principal component analysis.
    """
    from sklearn.decomposition import PCA as SkPCA

    X = digits.load().X
    reference = pca.pca_svd(X)
    sk = SkPCA(svd_solver="full").fit(X)
    routes = {
        "eigh": pca.pca_eigh(X),
        "sklearn": pca.PCA(sk.mean_, sk.components_, sk.explained_variance_, sk.explained_variance_ratio_),
        "jax": pca.pca_jax(X),
    }
    lam = reference.explained_variance
    groups = _clusters(lam, claim.t["degenerate_rel_gap"])
    claim.record(n_components=int(lam.size), n_subspace_groups=sum(len(g) > 1 for g in groups))
    for name, route in routes.items():
        var_gap = np.max(np.abs(route.explained_variance - lam)) / lam[0]
        claim.expect(f"{name}_variance_gap_rel", var_gap, "<=", "variance_rel_tol")
        min_cos = 1.0
        for group in groups:
            cosines = np.cos(subspace_angles(reference.components[group].T, route.components[group].T))
            min_cos = min(min_cos, float(np.min(cosines)))
        claim.expect(f"{name}_min_cosine", min_cos, ">=", "cosine_min")
    claim.plot(
        "Digits: explained-variance ratio per component (all four routes coincide)",
        list(range(1, lam.size + 1)),
        {name: route.explained_variance_ratio for name, route in {"svd": reference, **routes}.items()},
        xlabel="component", ylabel="explained-variance ratio", logy=False,
    )


@st.composite
def scaled_data(draw):
    d = draw(st.integers(2, 15))
    n = draw(st.integers(max(10, d + 1), 200))
    scales = np.array(draw(st.lists(st.floats(1e-3, 1e3), min_size=d, max_size=d)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mixing = rng.standard_normal((d, d))
    return (rng.standard_normal((n, d)) @ mixing) * scales + rng.standard_normal(d) * scales, scales


@pytest.mark.cpu
@given(scaled_data())
def test_score_properties(claim, case):
    """For any data set with more rows than columns and column scales spanning 1e-3..1e3, PCA
    scores have zero mean, are uncorrelated, and each has variance equal to its component's
    explained variance; components are orthonormal; keeping every component reconstructs the
    data exactly; and the cumulative explained-variance ratio rises to exactly 1.

    Tolerances are relative to the largest variance: float64 eigenvectors err by about
    eps * lambda_1 / gap, so a tiny variance cannot be matched to 1e-9 of itself.
    Course: Lesson 1, PCA for feature extraction and dimensionality reduction.
    """
    X, scales = case
    fitted = pca.pca_svd(X)
    Z = pca.scores(X, fitted)
    lam = fitted.explained_variance
    mean_gap = np.max(np.abs(Z.mean(axis=0))) / scales.max()
    cov = np.cov(Z, rowvar=False)
    off_diagonal = np.max(np.abs(cov - np.diag(np.diag(cov)))) / lam[0]
    var_gap = np.max(np.abs(np.diag(cov) - lam)) / lam[0]
    orth = np.max(np.abs(fitted.components @ fitted.components.T - np.eye(lam.size)))
    recon = np.linalg.norm(pca.reconstruct(Z, fitted) - X) / np.linalg.norm(X)
    cumulative = np.cumsum(fitted.explained_variance_ratio)
    claim.expect("mean_rel", mean_gap, "<=", "mean_rel_tol")
    claim.expect("offdiag_cov_rel", off_diagonal, "<=", "cov_rel_tol")
    claim.expect("var_gap_rel", var_gap, "<=", "var_rel_tol")
    claim.expect("orth_abs", orth, "<=", "orth_abs_tol")
    claim.expect("recon_rel", recon, "<=", "recon_rel_tol")
    claim.expect("cumulative_min_step", float(np.min(np.diff(cumulative), initial=0.0)), ">=", 0.0)
    claim.expect("cumulative_end_gap", abs(cumulative[-1] - 1.0), "<=", "cumulative_end_tol")


@pytest.mark.cpu
def test_feature_extraction(claim, seed):
    """Logistic regression on 30 PCA scores of the digits is within 2 percentage points of the same
    model on all 64 pixels, under stratified 5-fold cross-validation with scaler and PCA fitted inside
    each training fold, while the fitted pipeline feeds its classifier fewer than half as many
    features as there are pixels.

    The feature count is read from each fold's fitted classifier (`n_features_in_`), not from the
    requested number of components. Calibration-sensitive (catalog 0.7): the margin's calibration
    runs are noted in claims.yaml.
    Course: Lesson 1, PCA as feature extraction.
    """
    data = digits.load()
    scores = pca.feature_extraction_cv(
        data.X, data.y, n_components=claim.t["n_components"], n_folds=claim.t["n_folds"], seed=seed
    )
    acc_pca, acc_full = float(np.mean(scores["pca"])), float(np.mean(scores["full"]))
    features_pca, features_full = scores["pca_classifier_features"], scores["full_classifier_features"]
    claim.record(accuracy_pca=acc_pca, accuracy_full=acc_full, fold_accuracy_pca=scores["pca"],
                 fold_accuracy_full=scores["full"], pixels=int(data.X.shape[1]),
                 classifier_features_pca=features_pca, classifier_features_full=features_full)
    claim.expect("max_abs_classifier_features_full_minus_pixels",
                 max(abs(count - data.X.shape[1]) for count in features_full), "==", 0)
    claim.expect("classifier_feature_share_pca", max(features_pca) / data.X.shape[1], "<", 0.5)
    claim.expect("gap_pp", 100 * (acc_full - acc_pca), "<=", "max_gap_pp")
