"""Lesson 1: SVD, PCA, low-rank matrix factorization with JAX, JAX vs NumPy speed."""
__all__ = []
