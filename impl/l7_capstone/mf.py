"""Biased matrix factorisation in PyTorch, its L2 strength tuned by Optuna on a validation slice.

r_ui ~ mu + b_u + b_i + p_u . q_i (Koren, Bell & Volinsky 2009; Surprise's `SVD`), trained with
Adam on minibatches of the squared error plus one of two standard L2 penalties of strength lambda:

- "per_rating" (Funk's SGD, Surprise's `SVD`): lambda (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2) for every
  rating, so an item rated n_i times is penalised n_i times. Relative to its data the shrinkage is the
  same for every item: a film with one 5-star rating keeps a large bias.
- "per_parameter" (the MAP form of a Gaussian prior, as in probabilistic MF): lambda times the sum of
  squares of every parameter, once. Each rating carries 1/n_u of its user's and 1/n_i of its item's
  share, so an epoch's penalties sum to exactly that; a rarely-rated item's bias is shrunk towards 0
  as n_i / (n_i + lambda), like the regularised biases of `recsys.fit_biases`.

Factors start N(0, 0.1^2), biases 0.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_bool, as_float, as_instance, as_int, as_learning_rate, as_seed, as_str,
    finite_or_diverged,
)
from impl.l7_capstone import recsys
from impl.l7_capstone.recsys import Triples

__all__ = ["PENALTIES", "Fit", "make_mf", "train_mf", "predict_mf", "score_matrix", "tune_lambda"]

PENALTIES = ("per_rating", "per_parameter")


class Fit(NamedTuple):
    model: object                # the trained BiasedMF (torch.nn.Module)
    train_rmse: list[float]      # over every training rating after each epoch (no penalty)
    eval_rmse: list[float]       # over the evaluation ratings after each epoch (empty if none given)


def make_mf(n_users: int, n_items: int, factors: int, mu: float, seed: int):
    """A BiasedMF module: biases 0, factors N(0, 0.1^2) drawn from `seed` (global RNG untouched)."""
    n_users = as_int(n_users, "n_users", minimum=1, maximum=MAX_DIM)
    n_items = as_int(n_items, "n_items", minimum=1, maximum=MAX_DIM)
    factors = as_int(factors, "factors", minimum=1, maximum=1024)
    mu = as_float(mu, "mu")
    seed = as_seed(seed)
    import torch

    class BiasedMF(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mu", torch.tensor(mu, dtype=torch.float32))
            self.user_bias = torch.nn.Parameter(torch.zeros(n_users))
            self.item_bias = torch.nn.Parameter(torch.zeros(n_items))
            self.user_factors = torch.nn.Parameter(0.1 * torch.randn(n_users, factors))
            self.item_factors = torch.nn.Parameter(0.1 * torch.randn(n_items, factors))

        def forward(self, user, item):
            dot = (self.user_factors[user] * self.item_factors[item]).sum(1)
            return self.mu + self.user_bias[user] + self.item_bias[item] + dot

        def user_penalty(self, user):
            return self.user_bias[user] ** 2 + (self.user_factors[user] ** 2).sum(1)

        def item_penalty(self, item):
            return self.item_bias[item] ** 2 + (self.item_factors[item] ** 2).sum(1)

        def penalty(self, user, item):  # per rating; summed in this order so earlier models reproduce bitwise
            return (self.user_bias[user] ** 2 + self.item_bias[item] ** 2
                    + (self.user_factors[user] ** 2).sum(1) + (self.item_factors[item] ** 2).sum(1))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return BiasedMF()


def predict_mf(model, user, item) -> np.ndarray:
    """Clipped predictions (float64) of a trained BiasedMF for index arrays."""
    import torch

    as_instance(model, "model", torch.nn.Module)
    user, item = recsys._indices(user, "user"), recsys._indices(item, "item")
    if user.size != item.size:
        raise ValueError(f"user and item must have equal lengths, got {user.size} and {item.size}")
    if user.max() >= model.user_bias.numel() or item.max() >= model.item_bias.numel():
        raise ValueError("user and item must be indices the model was built for")
    with torch.no_grad():
        raw = model(torch.from_numpy(user), torch.from_numpy(item)).double().numpy()
    return np.clip(raw, *recsys.RATING_RANGE)


def score_matrix(model) -> np.ndarray:
    """Unclipped scores mu + b_u + b_i + p_u . q_i (float64) of every user (rows) for every item.

    For ranking: clipping to the rating range would tie every item predicted above 5 stars.
    """
    import torch

    as_instance(model, "model", torch.nn.Module)
    if not all(hasattr(model, name) for name in ("mu", "user_bias", "item_bias", "user_factors", "item_factors")):
        raise TypeError(f"model must be a BiasedMF from make_mf, got {type(model).__name__}")
    with torch.no_grad():
        P, Q = model.user_factors.double(), model.item_factors.double()
        scores = model.mu.double() + model.user_bias.double()[:, None] + model.item_bias.double()[None, :] + P @ Q.T
    return scores.numpy()


def train_mf(train: Triples, *, lam: float, factors: int, lr: float, batch_size: int, num_epochs: int, seed: int,
             n_users: int, n_items: int, evaluation: Triples | None = None, progress: bool = False,
             penalty: str = "per_rating") -> Fit:
    """Adam on shuffled minibatches (order from `seed`) of the squared error plus the `penalty` form
    of L2 (one of PENALTIES, see the module docstring); RMSEs recorded after every epoch."""
    import torch

    train = recsys.as_triples(train, "train")
    lam = as_float(lam, "lam", low=0.0)
    lr = as_learning_rate(lr)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=MAX_STEPS)
    seed = as_seed(seed)
    if evaluation is not None:
        evaluation = recsys.as_triples(evaluation, "evaluation")
    progress = as_bool(progress, "progress")
    penalty = as_str(penalty, "penalty", choices=PENALTIES)
    model = make_mf(n_users, n_items, factors, float(train.rating.mean()), seed)
    if train.user.max() >= n_users or train.item.max() >= n_items:
        raise ValueError("train holds indices beyond n_users / n_items")
    user, item = torch.from_numpy(train.user), torch.from_numpy(train.item)
    rating = torch.from_numpy(train.rating).float()
    if penalty == "per_parameter":  # each rating carries 1/n of its user's and its item's penalty
        user_share = torch.from_numpy(1.0 / np.maximum(np.bincount(train.user, minlength=n_users), 1)).float()
        item_share = torch.from_numpy(1.0 / np.maximum(np.bincount(train.item, minlength=n_items), 1)).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    fit = Fit(model, [], [])
    epochs = range(num_epochs)
    if progress:
        from tqdm import tqdm

        epochs = tqdm(epochs, desc="MF epochs", unit="epoch", leave=False)
    for _ in epochs:
        for batch in torch.randperm(rating.numel(), generator=generator).split(batch_size):
            u, i = user[batch], item[batch]
            if penalty == "per_rating":
                reg = model.penalty(u, i)
            else:
                reg = model.user_penalty(u) * user_share[u] + model.item_penalty(i) * item_share[i]
            loss = ((model(u, i) - rating[batch]) ** 2).mean() + lam * reg.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        finite_or_diverged(loss.detach(), "matrix factorisation training", f"lr = {lr:g} and lam = {lam:g}")
        fit.train_rmse.append(recsys.rmse(predict_mf(model, train.user, train.item), train.rating))
        if evaluation is not None:
            fit.eval_rmse.append(recsys.rmse(predict_mf(model, evaluation.user, evaluation.item), evaluation.rating))
    return fit


def tune_lambda(fit_part: Triples, validation: Triples, *, n_trials: int, lam_range: tuple[float, float], seed: int,
                **train_knobs):
    """An Optuna TPE study (seeded) of lambda, log-uniform in `lam_range`, minimising the validation
    RMSE after the last epoch. Returns the study; `train_knobs` go to `train_mf`."""
    import optuna

    from impl.isolation import optuna_quiet

    fit_part = recsys.as_triples(fit_part, "fit_part")
    validation = recsys.as_triples(validation, "validation")
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=10_000)
    if not isinstance(lam_range, (tuple, list)) or len(lam_range) != 2:
        raise TypeError(f"lam_range must be a (low, high) pair, got {lam_range!r}")
    low, high = (as_float(v, "lam_range", low=0.0, low_open=True) for v in lam_range)
    if not low < high:
        raise ValueError(f"lam_range must be (low, high) with low < high, got {lam_range}")
    seed = as_seed(seed)

    def objective(trial):
        lam = trial.suggest_float("lam", low, high, log=True)
        fit = train_mf(fit_part, lam=lam, seed=seed, evaluation=validation, **train_knobs)
        return fit.eval_rmse[-1]

    with optuna_quiet():  # one INFO line per trial otherwise; the caller's verbosity comes back
        study = optuna.create_study(direction="minimize",
                                    sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5))
        study.optimize(objective, n_trials=n_trials)
    return study
