"""Lesson 8: Optuna-driven quantization for production: tuning in JAX and Keras, quantization settings chosen by Optuna, a DVC pipeline, and the chosen model served over HTTP."""
