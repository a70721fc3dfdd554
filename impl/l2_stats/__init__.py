"""Lesson 2: probability, inference, Bayesian regression (PyMC), Gaussian mixtures (TFP)."""
__all__ = []
