"""Singular value decomposition and what follows from it: rank, null space, best low-rank fits."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import as_float, as_float_array, as_int, as_matrix, as_rng

__all__ = [
    "SVD", "thin_svd", "rank_tolerance", "numerical_rank", "null_space", "truncate", "eckart_young_errors",
    "random_subspace_error", "energy_rank", "energy_fraction",
]


class SVD(NamedTuple):
    U: np.ndarray  # m x r, orthonormal columns
    s: np.ndarray  # r singular values, non-increasing, >= 0
    Vt: np.ndarray  # r x n, orthonormal rows


def thin_svd(A: np.ndarray) -> SVD:
    """Thin SVD A = U diag(s) Vt with r = min(m, n)."""
    A = as_matrix(A, "A")
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return SVD(U, s, Vt)


def _singular_values(s) -> np.ndarray:
    s = as_float_array(s, "s", ndim=1)
    if np.any(s < 0):
        raise ValueError("s must hold singular values >= 0")
    return s


def _rank_tolerance(A: np.ndarray, s: np.ndarray) -> float:
    return max(A.shape) * np.finfo(A.dtype).eps * (float(s[0]) if s.size else 0.0)


def rank_tolerance(A: np.ndarray, s: np.ndarray) -> float:
    """NumPy's default: max(m, n) * eps * sigma_1 (eps of A's float type; float64 for other types)."""
    dtype = A.dtype if isinstance(A, np.ndarray) and np.issubdtype(A.dtype, np.floating) else np.float64
    A = as_matrix(A, "A", dtype=dtype)
    return _rank_tolerance(A, _singular_values(s))


def numerical_rank(A: np.ndarray, tol: float | None = None) -> int:
    """Number of singular values above `tol` (default max(m, n) * eps * sigma_1)."""
    A = as_matrix(A, "A")
    s = np.linalg.svd(A, compute_uv=False)
    tol = _rank_tolerance(A, s) if tol is None else as_float(tol, "tol", low=0.0)
    return int(np.sum(s > tol))


def null_space(A: np.ndarray, tol: float | None = None) -> np.ndarray:
    """Orthonormal basis (n x (n - rank)) of {x : A x = 0}: the trailing right-singular vectors."""
    A = as_matrix(A, "A")
    _, s, Vt = np.linalg.svd(A, full_matrices=True)
    tol = _rank_tolerance(A, s) if tol is None else as_float(tol, "tol", low=0.0)
    rank = int(np.sum(s > tol))
    return Vt[rank:].T.copy()


def truncate(A: np.ndarray, k: int) -> np.ndarray:
    """A_k = U_k diag(s_k) V_k^T, the best rank-k approximation (Eckart-Young)."""
    A = as_matrix(A, "A")
    k = as_int(k, "k", minimum=0, maximum=min(A.shape))
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return (U[:, :k] * s[:k]) @ Vt[:k]


def eckart_young_errors(s: np.ndarray, k: int) -> tuple[float, float]:
    """Predicted (Frobenius, spectral) errors of the best rank-k fit from the singular values."""
    s = _singular_values(s)
    k = as_int(k, "k", minimum=0, maximum=s.size)
    tail = s[k:]
    return float(np.sqrt(np.sum(tail**2))), float(tail[0]) if tail.size else 0.0


def random_subspace_error(A: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """Frobenius error of projecting A onto a random k-dimensional column space (a competitor)."""
    A = as_matrix(A, "A")
    k = as_int(k, "k", minimum=1, maximum=A.shape[0])
    rng = as_rng(rng, "rng")
    Q, _ = np.linalg.qr(rng.standard_normal((A.shape[0], k)))
    return float(np.linalg.norm(A - Q @ (Q.T @ A)))


def energy_rank(s: np.ndarray, fraction: float) -> int:
    """Smallest k whose top-k singular values hold at least `fraction` of sum(s^2)."""
    s = _singular_values(s)
    if not np.any(s > 0):
        raise ValueError("s must not be all zero: there is no energy to share")
    fraction = as_float(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    cumulative = np.cumsum(s**2) / np.sum(s**2)
    return int(np.searchsorted(cumulative, fraction - 1e-15) + 1)


def energy_fraction(s: np.ndarray, k: int) -> float:
    """Share of sum(s^2) held by the top k singular values."""
    s = _singular_values(s)
    if not np.any(s > 0):
        raise ValueError("s must not be all zero: there is no energy to share")
    k = as_int(k, "k", minimum=0, maximum=s.size)
    return float(np.sum(s[:k] ** 2) / np.sum(s**2))
