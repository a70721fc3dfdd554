"""Ensembles by hand, to hold scikit-learn's to: how a random forest votes, bagging's variance
over training sets, gradient boosting as a loop over residuals, and AdaBoost's training bound."""
from __future__ import annotations

import numpy as np

from impl.checks import (
    MAX_STEPS, as_float, as_float_array, as_instance, as_int, as_matrix, as_rng, finite_or_diverged, same_length,
)

__all__ = ["hard_vote", "soft_vote", "friedman_replicates", "manual_boosting", "adaboost_bound"]


def _forest(forest):
    from sklearn.ensemble import RandomForestClassifier

    forest = as_instance(forest, "forest", RandomForestClassifier)
    if not hasattr(forest, "estimators_"):
        raise ValueError("forest must be fitted")
    return forest


def hard_vote(forest, X) -> np.ndarray:
    """The class most of the forest's trees predict (a majority vote; ties to the lowest class)."""
    forest, X = _forest(forest), as_matrix(X, "X")
    votes = np.stack([tree.predict(X).astype(np.int64) for tree in forest.estimators_])  # tree labels are class indices
    counts = np.apply_along_axis(np.bincount, 0, votes, minlength=len(forest.classes_))
    return forest.classes_[np.argmax(counts, axis=0)]


def soft_vote(forest, X) -> np.ndarray:
    """The class with the highest mean of the trees' predicted probabilities."""
    forest, X = _forest(forest), as_matrix(X, "X")
    mean = np.mean([tree.predict_proba(X) for tree in forest.estimators_], axis=0)
    return forest.classes_[np.argmax(mean, axis=1)]


def friedman_replicates(make_model, X_test, *, num_replicates: int, n_train: int, noise: float, rng) -> np.ndarray:
    """Predictions at `X_test` (replicates x points) of `make_model()` fitted on independent
    Friedman #1 training sets: the spread over rows is the model's variance across training sets."""
    from sklearn.datasets import make_friedman1

    if not callable(make_model):
        raise TypeError(f"make_model must be callable, got {type(make_model).__name__}")
    X_test = as_matrix(X_test, "X_test")
    if X_test.shape[1] < 5:
        raise ValueError(f"X_test needs >= 5 columns (Friedman #1 uses 5), got shape {X_test.shape}")
    num_replicates = as_int(num_replicates, "num_replicates", minimum=2, maximum=10**4)
    n_train = as_int(n_train, "n_train", minimum=2, maximum=10**6)
    noise = as_float(noise, "noise", low=0.0)
    rng = as_rng(rng, "rng")
    out = []
    for _ in range(num_replicates):
        X, y = make_friedman1(n_train, X_test.shape[1], noise=noise, random_state=int(rng.integers(2**31)))
        out.append(make_model().fit(X, y).predict(X_test))
    return np.array(out)


def manual_boosting(X, y, *, num_trees: int, lr: float, max_depth: int) -> np.ndarray:
    """Squared-error gradient boosting as the textbook loop: start at the mean, fit a regression
    tree (squared error; scikit-learn now maps friedman_mse to it) to the residuals, add lr x its prediction. Returns the training predictions
    after each tree (num_trees x n)."""
    from sklearn.tree import DecisionTreeRegressor

    X, y = as_matrix(X, "X"), as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    num_trees = as_int(num_trees, "num_trees", minimum=1, maximum=MAX_STEPS)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    max_depth = as_int(max_depth, "max_depth", minimum=1, maximum=64)
    prediction = np.full(len(y), y.mean())
    stages = []
    for _ in range(num_trees):
        tree = DecisionTreeRegressor(criterion="squared_error", max_depth=max_depth).fit(X, y - prediction)
        prediction = prediction + lr * tree.predict(X)
        stages.append(prediction)
    return finite_or_diverged(np.array(stages), "boosting", f"lr = {lr:g}")


def adaboost_bound(errors) -> np.ndarray:
    """Freund and Schapire's bound on AdaBoost's training error after each round:
    the running product of 2 sqrt(eps_t (1 - eps_t)) over the rounds' weighted errors."""
    errors = as_float_array(errors, "errors", ndim=1)
    if errors.min() < 0 or errors.max() > 1:
        raise ValueError("errors must lie in [0, 1]")
    return np.cumprod(2 * np.sqrt(errors * (1 - errors)))
