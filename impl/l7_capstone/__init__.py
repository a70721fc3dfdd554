"""Lesson 7: Capstone (recommender and compression tracks; evaluation and deployment)."""
