"""Lesson 8: Optuna-driven quantization for production (search, pipeline, serving)."""

__all__: list[str] = []  # the API is in the modules
