"""Lesson 3: Deep optimization: Adam on MNIST, gradient descent in JAX and PyTorch."""
__all__ = []
