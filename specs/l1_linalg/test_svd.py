import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from impl.data import digits
from impl.l1_linalg import pca, svd

matrices = arrays(
    np.float64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=60),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


def _products_representable(A: np.ndarray, dtype) -> bool:
    """No non-zero entry is so small that products of entries underflow in `dtype`.

    An SVD multiplies entries together, and XLA on CPU flushes results below the smallest
    normal number to zero, so entries under sqrt(tiny) (float32 ~1e-19, float64 ~1e-154) may
    vanish: such a matrix is at the limit of the float format, not of the SVD.
    """
    nonzero = np.abs(A[A != 0])
    return bool(nonzero.size) and nonzero.min() >= np.sqrt(np.finfo(dtype).tiny)


@pytest.mark.cpu
@given(matrices)
@example(A=np.array([[0.0, 1.17549435e-38], [0.0, 0.0]]))  # FLT_MIN: found by a CI run
@example(A=np.array([[5e-324, 1.0]]))  # a float64 subnormal beside a normal entry
def test_factorization(claim, A):
    """The thin SVD of any real matrix (up to 60 x 60, entries in [-1e3, 1e3]) reconstructs it
    to float64 rounding, has orthonormal U and V and non-negative non-increasing singular values,
    and JAX's SVD finds the same singular values as NumPy's (float64, and float32 to its precision
    on the matrix as float32 represents it) wherever no entry is so small that products of
    entries underflow in that format.

    Course: Lesson 1, singular value decomposition (theory and a NumPy implementation).
    """
    import jax
    import jax.numpy as jnp

    U, s, Vt = svd.thin_svd(A)
    norm, recon = np.linalg.norm(A), np.linalg.norm(A - (U * s) @ Vt)
    if norm > 0:
        claim.expect("recon_rel", recon / norm, "<=", "recon_rel_tol")
    else:
        claim.expect("recon_of_zero_matrix", recon, "==", 0.0)
    orth = max(np.max(np.abs(U.T @ U - np.eye(s.size))), np.max(np.abs(Vt @ Vt.T - np.eye(s.size))))
    claim.expect("orth_abs", orth, "<=", "orth_abs_tol")
    claim.expect("min_singular_value", float(s.min()), ">=", 0.0)
    claim.expect("max_increase", float(np.max(np.diff(s), initial=0.0)), "<=", 0.0)

    if _products_representable(A, np.float64):
        with jax.enable_x64(True):
            s64 = np.asarray(jnp.linalg.svd(jnp.asarray(A), compute_uv=False))
        gap64 = np.max(np.abs(s64 - s)) / s[0]
        claim.expect("jax_f64_gap_rel", gap64, "<=", "jax_f64_rel_tol")
    A32 = A.astype(np.float32)  # float32 is judged on the matrix float32 holds
    if _products_representable(A32, np.float32):
        s_ref32 = np.linalg.svd(A32.astype(np.float64), compute_uv=False)
        s32 = np.asarray(jnp.linalg.svd(jnp.asarray(A32), compute_uv=False), dtype=np.float64)
        gap32 = np.max(np.abs(s32 - s_ref32)) / s_ref32[0]
        claim.expect("jax_f32_gap_rel", gap32, "<=", "jax_f32_rel_tol")


@pytest.mark.cpu
def test_eckart_young(claim):
    """Truncating the SVD after k terms gives the best rank-k approximation: its Frobenius error
    is the root-sum-square of the dropped singular values, its spectral error is the first
    dropped singular value, and no competing rank-k projection does better.

    Course: Lesson 1, SVD for dimensionality reduction.
    """
    rng = claim.rng(0)
    A = rng.standard_normal((120, 80))
    s = svd.thin_svd(A).s
    worst_rel, beaten_by = 0.0, 0
    for k in (1, 5, 20, 60):
        residual = A - svd.truncate(A, k)
        fro_pred, spec_pred = svd.eckart_young_errors(s, k)
        fro_rel = abs(np.linalg.norm(residual) - fro_pred) / fro_pred
        spec_rel = abs(np.linalg.norm(residual, 2) - spec_pred) / spec_pred
        worst_rel = max(worst_rel, fro_rel, spec_rel)
        competitors = [svd.random_subspace_error(A, k, rng) for _ in range(claim.t["competitors"])]
        beaten_by += sum(error < fro_pred for error in competitors)
    claim.expect("identity_gap_rel", worst_rel, "<=", "rel_tol")
    claim.expect("competitors_better_than_svd", beaten_by, "==", 0)

    ranks = list(range(0, 81, 4))
    claim.plot(
        "Rank-k error: truncated SVD vs the Eckart-Young bound vs random projections",
        ranks,
        {
            "truncated SVD": [float(np.linalg.norm(A - svd.truncate(A, k))) for k in ranks],
            "bound sqrt(sum_{i>k} s_i^2)": [svd.eckart_young_errors(s, k)[0] for k in ranks],
            "random rank-k projection": [
                svd.random_subspace_error(A, k, rng) if k else float(np.linalg.norm(A)) for k in ranks
            ],
        },
        xlabel="rank k", ylabel="||A - A_k||_F",
    )


@pytest.mark.cpu
def test_digits_energy(claim):
    """On the centred sklearn digits (1,797 x 64) about 29 (26 to 32) singular values hold 95% of
    the energy, exactly as many as scikit-learn's PCA(n_components=0.95) keeps, the top 10 hold
    roughly three quarters, and the rank-k reconstruction error falls strictly as k grows.

    Course: Lesson 1, SVD and PCA on real-world datasets.
    """
    from sklearn.decomposition import PCA as SkPCA

    X = digits.load().X
    Xc = X - X.mean(axis=0)
    s = svd.thin_svd(Xc).s
    k95 = svd.energy_rank(s, claim.t["energy"])
    k95_sklearn = int(SkPCA(n_components=claim.t["energy"], svd_solver="full").fit(X).n_components_)
    claim.record(k95_sklearn=k95_sklearn)
    claim.expect("k95", k95, ">=", "k95_min")
    claim.expect("k95", k95, "<=", "k95_max")
    claim.expect("k95_minus_sklearn_k95", k95 - k95_sklearn, "==", 0)
    top10 = svd.energy_fraction(s, 10)
    claim.expect("top10_energy", top10, ">=", "top10_min")
    claim.expect("top10_energy", top10, "<=", "top10_max")
    fitted = pca.pca_svd(X)
    rank = int(np.sum(s > svd.rank_tolerance(Xc, s)))
    mse = [pca.reconstruction_mse(X, fitted, k) for k in range(1, rank + 1)]
    claim.expect("max_mse_step", float(np.max(np.diff(mse))), "<", 0.0)
    ks = list(range(1, s.size + 1))
    claim.plot(
        "Digits: cumulative energy of the top-k singular values", ks,
        {"cumulative energy": np.cumsum(s**2) / np.sum(s**2)},
        xlabel="k", ylabel="share of ||X||_F^2", hline=claim.t["energy"],
    )
