"""Lesson 7: Capstone (recommender and compression tracks; evaluation and deployment)."""

__all__ = []  # the modules are the API
