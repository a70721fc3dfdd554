"""Lesson 4: Hyperparameter tuning with Optuna: samplers, pruners, a CNN on CIFAR-10, an LSTM on sunspots, shared studies."""
