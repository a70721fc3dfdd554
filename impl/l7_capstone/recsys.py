"""Rating data as index arrays, RMSE, and the two baselines every recommender must beat.

Ratings are (user, item, rating) triples; users and items are 0-based indices (MovieLens ids
minus one). The baselines are the global mean and Koren's regularised user + item biases
(r_ui ~ mu + b_u + b_i), fitted by the alternating closed-form updates of Surprise's
`BaselineOnly` (ALS: 10 epochs, reg_u = 15, reg_i = 10), so the published figure for that model
(RMSE 0.944 on ml-100k, 5-fold CV) is the reference for our number.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_DIM, MAX_STEPS, as_float, as_float_array, as_instance, as_int, as_rng

__all__ = ["RATING_RANGE", "Triples", "triples", "as_triples", "from_movielens", "validation_slice", "rmse", "GlobalMean",
           "Biases", "fit_global_mean", "fit_biases", "predict"]

RATING_RANGE = (1.0, 5.0)  # MovieLens stars; predictions are clipped to it, as Surprise does


class Triples(NamedTuple):
    """Ratings as aligned arrays: user and item indices (int64) and the rating (float64)."""
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray


def triples(user, item, rating) -> Triples:
    """Checked Triples: equal-length 1-D arrays, non-negative integer indices, finite ratings."""
    user, item = _indices(user, "user"), _indices(item, "item")
    rating = as_float_array(rating, "rating", ndim=1)
    if not user.size == item.size == rating.size:
        raise ValueError(f"user, item and rating must have equal lengths, got {user.size}, {item.size}, {rating.size}")
    return Triples(user, item, rating)


def as_triples(value, name: str) -> Triples:
    """A Triples record passed in, its fields checked as `triples` checks arguments: a NaN rating or a
    negative index inside it is refused by the field's name, never answered."""
    as_instance(value, name, Triples)
    return triples(value.user, value.item, value.rating)


def _indices(value, name: str) -> np.ndarray:
    """A non-empty 1-D array of non-negative integer indices (below MAX_DIM) as int64; `name` is
    the argument's name for the error message."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    index = as_float_array(value, name, ndim=1)
    if np.any(index < 0) or np.any(index != np.round(index)) or index.max() >= MAX_DIM:
        raise ValueError(f"{name} must hold integer indices in 0..{MAX_DIM - 1}")
    return index.astype(np.int64)


def from_movielens(r, rows) -> Triples:
    """The rows `rows` of MovieLens `Ratings` as 0-based Triples."""
    rows = as_float_array(rows, "rows", ndim=1).astype(np.int64)
    if not hasattr(r, "user") or not hasattr(r, "item") or not hasattr(r, "rating"):
        raise TypeError(f"r must be movielens.Ratings, got {type(r).__name__}")
    if rows.min() < 0 or rows.max() >= r.user.size:
        raise ValueError(f"rows must index the {r.user.size} ratings")
    return triples(r.user[rows] - 1, r.item[rows] - 1, r.rating[rows].astype(np.float64))


def validation_slice(data: Triples, fraction: float, rng: np.random.Generator) -> tuple[Triples, Triples]:
    """(fit, validation): a random `fraction` of `data` held out for tuning; validation rows whose
    user or item does not occur in `fit` are dropped (as the fixed split drops cold starts)."""
    data = as_triples(data, "data")
    fraction = as_float(fraction, "fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    rng = as_rng(rng, "rng")
    n_val = int(round(fraction * data.rating.size))
    if not 0 < n_val < data.rating.size:
        raise ValueError(f"fraction must leave both parts non-empty, got {fraction}")
    order = rng.permutation(data.rating.size)
    fit, val = np.sort(order[n_val:]), np.sort(order[:n_val])
    warm = np.isin(data.user[val], data.user[fit]) & np.isin(data.item[val], data.item[fit])
    take = lambda rows: Triples(*(a[rows] for a in data))  # noqa: E731
    return take(fit), take(val[warm])


def rmse(predicted, actual) -> float:
    """Root mean squared error of equal-length rating vectors."""
    predicted, actual = as_float_array(predicted, "predicted", ndim=1), as_float_array(actual, "actual", ndim=1)
    if predicted.size != actual.size:
        raise ValueError(f"predicted and actual must have equal lengths, got {predicted.size} and {actual.size}")
    return float(np.sqrt(np.mean((predicted - actual) ** 2)))


class GlobalMean(NamedTuple):
    mu: float


class Biases(NamedTuple):
    mu: float
    user: np.ndarray  # b_u, one per user index (0 for users without ratings)
    item: np.ndarray  # b_i


def fit_global_mean(train: Triples) -> GlobalMean:
    train = as_triples(train, "train")
    return GlobalMean(float(train.rating.mean()))


def fit_biases(train: Triples, reg_user: float = 15.0, reg_item: float = 10.0, n_epochs: int = 10) -> Biases:
    """Regularised biases by alternating exact minimisation (Surprise BaselineOnly, ALS):
    b_u = sum_i (r - mu - b_i) / (reg_user + n_u), then b_i = sum_u (r - mu - b_u) / (reg_item + n_i)."""
    train = as_triples(train, "train")
    reg_user = as_float(reg_user, "reg_user", low=0.0)
    reg_item = as_float(reg_item, "reg_item", low=0.0)
    n_epochs = as_int(n_epochs, "n_epochs", minimum=1, maximum=MAX_STEPS)
    n_users, n_items = int(train.user.max()) + 1, int(train.item.max()) + 1
    mu = float(train.rating.mean())
    count_u = np.bincount(train.user, minlength=n_users)
    count_i = np.bincount(train.item, minlength=n_items)
    b_u, b_i = np.zeros(n_users), np.zeros(n_items)
    residual = train.rating - mu
    for _ in range(n_epochs):
        b_u = np.bincount(train.user, residual - b_i[train.item], n_users) / (reg_user + count_u)
        b_i = np.bincount(train.item, residual - b_u[train.user], n_items) / (reg_item + count_i)
    return Biases(mu, b_u, b_i)


def _baseline(model) -> GlobalMean | Biases:
    """A fitted baseline with its fields checked: a finite mean, finite 1-D bias arrays."""
    as_instance(model, "model", (GlobalMean, Biases))
    mu = as_float(model.mu, "mu")
    if isinstance(model, GlobalMean):
        return GlobalMean(mu)
    return Biases(mu, as_float_array(model.user, "user", ndim=1), as_float_array(model.item, "item", ndim=1))


def predict(model: GlobalMean | Biases, user, item) -> np.ndarray:
    """Clipped predictions of a baseline for index arrays `user`, `item` (unseen indices get bias 0)."""
    model = _baseline(model)
    user, item = _indices(user, "user"), _indices(item, "item")
    if user.size != item.size:
        raise ValueError(f"user and item must have equal lengths, got {user.size} and {item.size}")
    if isinstance(model, GlobalMean):
        return np.clip(np.full(user.size, model.mu), *RATING_RANGE)
    b_u = np.where(user < model.user.size, model.user[np.minimum(user, model.user.size - 1)], 0.0)
    b_i = np.where(item < model.item.size, model.item[np.minimum(item, model.item.size - 1)], 0.0)
    return np.clip(model.mu + b_u + b_i, *RATING_RANGE)
