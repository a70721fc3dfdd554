"""Lesson 2: Statistical foundations, inference, Bayesian regression and Gaussian mixtures."""
