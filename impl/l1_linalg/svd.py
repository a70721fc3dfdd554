"""Singular value decomposition and what follows from it: rank, null space, best low-rank fits."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import as_float, as_int, as_matrix


class SVD(NamedTuple):
    U: np.ndarray  # m x r, orthonormal columns
    s: np.ndarray  # r singular values, non-increasing, >= 0
    Vt: np.ndarray  # r x n, orthonormal rows


def thin_svd(A: np.ndarray) -> SVD:
    """Thin SVD A = U diag(s) Vt with r = min(m, n)."""
    A = as_matrix(A, "A")
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return SVD(U, s, Vt)


def rank_tolerance(A: np.ndarray, s: np.ndarray) -> float:
    """NumPy's default: max(m, n) * eps * sigma_1."""
    return max(A.shape) * np.finfo(A.dtype).eps * (float(s[0]) if s.size else 0.0)


def numerical_rank(A: np.ndarray, tol: float | None = None) -> int:
    """Number of singular values above `tol` (default max(m, n) * eps * sigma_1)."""
    A = as_matrix(A, "A")
    s = np.linalg.svd(A, compute_uv=False)
    tol = rank_tolerance(A, s) if tol is None else as_float(tol, "tol", low=0.0)
    return int(np.sum(s > tol))


def null_space(A: np.ndarray, tol: float | None = None) -> np.ndarray:
    """Orthonormal basis (n x (n - rank)) of {x : A x = 0}: the trailing right-singular vectors."""
    A = as_matrix(A, "A")
    _, s, Vt = np.linalg.svd(A, full_matrices=True)
    tol = rank_tolerance(A, s) if tol is None else as_float(tol, "tol", low=0.0)
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
    s = np.asarray(s, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"s must be a non-empty 1-D array of singular values, got shape {s.shape}")
    k = as_int(k, "k", minimum=0, maximum=s.size)
    tail = s[k:]
    return float(np.sqrt(np.sum(tail**2))), float(tail[0]) if tail.size else 0.0


def random_subspace_error(A: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """Frobenius error of projecting A onto a random k-dimensional column space (a competitor)."""
    A = as_matrix(A, "A")
    k = as_int(k, "k", minimum=1, maximum=A.shape[0])
    Q, _ = np.linalg.qr(rng.standard_normal((A.shape[0], k)))
    return float(np.linalg.norm(A - Q @ (Q.T @ A)))


def energy_rank(s: np.ndarray, fraction: float) -> int:
    """Smallest k whose top-k singular values hold at least `fraction` of sum(s^2)."""
    s = np.asarray(s, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("s must be a non-empty 1-D array of finite non-negative singular values")
    fraction = as_float(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    cumulative = np.cumsum(s**2) / np.sum(s**2)
    return int(np.searchsorted(cumulative, fraction - 1e-15) + 1)


def energy_fraction(s: np.ndarray, k: int) -> float:
    """Share of sum(s^2) held by the top k singular values."""
    s = np.asarray(s, dtype=np.float64)
    k = as_int(k, "k", minimum=0, maximum=s.size)
    return float(np.sum(s[:k] ** 2) / np.sum(s**2))
