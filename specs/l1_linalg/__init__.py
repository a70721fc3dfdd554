"""Lesson 1: Abstract linear algebra, SVD, PCA and matrix factorization with JAX."""
