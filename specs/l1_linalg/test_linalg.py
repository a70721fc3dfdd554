import numpy as np
import pytest
from hypothesis import given, strategies as st

from impl.l1_linalg import svd


@st.composite
def low_rank_products(draw):
    m, n = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    r = draw(st.integers(1, min(m, n)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    B, C = rng.standard_normal((m, r)), rng.standard_normal((r, n))
    return B @ C, r, rng


@pytest.mark.cpu
@given(low_rank_products())
def test_foundations(claim, case):
    """For A = B C with Gaussian B (m x r) and C (r x n), the SVD's numerical rank is r, the
    n - r trailing right-singular vectors span A's null space (rank + nullity = n), the squared
    singular values are the eigenvalues of A^T A (compared as squares: the square root would
    magnify eigvalsh's eps*s_1^2 rounding of zero eigenvalues to sqrt(eps)*s_1), and matrix
    products associate, (A B) x = A (B x).

    Course: Lesson 1, introduction to abstract linear algebra (rank, null space, eigenvalues).
    """
    A, r, rng = case
    m, n = A.shape
    rank = svd.numerical_rank(A)
    claim.expect("rank_minus_true_rank", rank - r, "==", 0)

    N = svd.null_space(A)
    claim.expect("rank_plus_nullity_minus_n", rank + N.shape[1] - n, "==", 0)
    null_residual = np.linalg.norm(A @ N) / np.linalg.norm(A) if N.size else 0.0
    claim.expect("null_residual_rel", null_residual, "<=", "null_rel_tol")

    s = svd.thin_svd(A).s
    eig = np.sort(np.linalg.eigvalsh(A.T @ A))[::-1][: s.size]
    sigma_gap = np.max(np.abs(s**2 - eig)) / s[0] ** 2
    claim.expect("sigma_sq_gap_rel", sigma_gap, "<=", "sigma_sq_rel_tol")

    B, x = rng.standard_normal((n, 7)), rng.standard_normal(7)
    assoc = np.linalg.norm((A @ B) @ x - A @ (B @ x))
    scale = np.linalg.norm(A, 2) * np.linalg.norm(B, 2) * np.linalg.norm(x)
    claim.expect("assoc_rel", assoc / scale, "<=", "assoc_rel_tol")
