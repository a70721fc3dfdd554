"""Lesson 4: hyperparameter tuning with Optuna (CNN on CIFAR-10, LSTM on sunspots, pruning, shared studies)."""

__all__: list[str] = []  # the API is in the modules
