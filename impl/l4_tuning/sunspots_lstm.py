"""One-step forecasts of a yearly series: an LSTM on sliding windows, and the two baselines it must face.

Every forecast of year t uses only observed values before t (one step ahead, never its own
earlier forecasts). `windows(values, window, start, stop)` pairs each target index in
[start, stop) with the `window` values before it, so a time-ordered split is a pair of index
ranges and every model is scored on the same targets whatever its window.

Baselines: persistence (next year = this year) and an autoregression AR(p) with a constant,
fitted by statsmodels `AutoReg` (conditional least squares) on the fit range only; its forecast
of t is const + sum_k phi_k x[t - k] with the observed lags.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from impl.checks import (
    MAX_DIM, MAX_SAMPLES, MAX_STEPS, as_callable, as_float_array, as_instance, as_int, as_learning_rate, as_seed,
    as_str,
)

__all__ = ["MAX_WINDOW", "SCHEDULES", "windows", "make_lstm", "fit_lstm", "predict", "rmse", "persistence_forecast",
           "autoreg_forecast"]

MAX_WINDOW = 1000
# Learning-rate schedules over the epochs: "cosine" anneals from lr towards 0 (one step per epoch);
# "constant" keeps lr. Which one the tuning stage uses is decided on validation years (impl.l4_tuning.lstm_study).
SCHEDULES = ("cosine", "constant")


def _series(values, name: str = "values") -> np.ndarray:
    return as_float_array(values, name, ndim=1)


def _range(values: np.ndarray, start, stop, first: int) -> tuple[int, int]:
    """[start, stop) as target indices: first <= start < stop <= len(values)."""
    start = as_int(start, "start", minimum=first, maximum=len(values) - 1)
    stop = as_int(stop, "stop", minimum=start + 1, maximum=len(values))
    return start, stop


def windows(values, window: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, window), y (n,)): for each target index t in [start, stop), X holds values[t - window: t]."""
    values = _series(values)
    window = as_int(window, "window", minimum=1, maximum=min(MAX_WINDOW, len(values) - 1))
    start, stop = _range(values, start, stop, window)
    X = np.stack([values[t - window: t] for t in range(start, stop)])
    return X, values[start:stop].copy()


@functools.cache
def _forecaster_class():
    import torch

    class Forecaster(torch.nn.Module):
        """LSTM(1 -> hidden) over the window, then a linear map of the last hidden state to the next value."""

        def __init__(self, hidden: int):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, 1)

        def forward(self, x):
            out, _ = self.lstm(x.unsqueeze(-1))
            return self.head(out[:, -1]).squeeze(-1)

    return Forecaster


def make_lstm(seed: int, hidden: int):
    """The forecaster with `hidden` LSTM units, initialised from `seed` (global RNG untouched)."""
    seed, hidden = as_seed(seed), as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM)
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _forecaster_class()(hidden)


def _model_inputs(model, X) -> np.ndarray:
    import torch

    as_instance(model, "model", torch.nn.Module)
    return as_float_array(X, "X", ndim=2)


def fit_lstm(model, X, y, *, lr: float, num_epochs: int, batch_size: int, seed: int, schedule: str,
             eval_every: int = 10, on_eval: Callable[[int], bool] | None = None) -> list[float]:
    """Adam on the mean squared error over minibatches reshuffled each epoch by a seeded generator, at a
    learning rate set by `schedule` (one of SCHEDULES): "cosine" anneals it from `lr` towards 0 over
    `num_epochs` (one step per epoch), "constant" keeps `lr`; returns the mean training loss per epoch.
    Every `eval_every` epochs `on_eval(epoch)` runs (1-based epoch; a pruner's report: it may raise, or
    return True to stop)."""
    import torch

    X, y = _model_inputs(model, X), as_float_array(y, "y", ndim=1)
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    lr = as_learning_rate(lr)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=MAX_STEPS)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    seed = as_seed(seed)
    schedule = as_str(schedule, "schedule", choices=SCHEDULES)
    eval_every = as_int(eval_every, "eval_every", minimum=1, maximum=MAX_STEPS)
    if on_eval is not None:
        as_callable(on_eval, "on_eval")
    X_t, y_t = torch.from_numpy(X).float(), torch.from_numpy(y).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    annealing = None if schedule == "constant" else torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, num_epochs)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for epoch in range(1, num_epochs + 1):
        total = 0.0
        for index in torch.randperm(len(X_t), generator=generator).split(batch_size):
            loss = torch.nn.functional.mse_loss(model(X_t[index]), y_t[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        if annealing is not None:
            annealing.step()
        losses.append(total / len(X_t))
        if on_eval is not None and epoch % eval_every == 0 and on_eval(epoch):
            break
    return losses


def predict(model, X) -> np.ndarray:
    """The model's one-step forecasts for the windows X (n, window), float64."""
    import torch

    X = _model_inputs(model, X)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(X).float()).double().numpy()
    model.train(was_training)
    return out


def rmse(forecast, truth) -> float:
    """Root mean squared error of `forecast` against `truth` (same length)."""
    forecast, truth = as_float_array(forecast, "forecast", ndim=1), as_float_array(truth, "truth", ndim=1)
    if len(forecast) != len(truth):
        raise ValueError(f"forecast and truth must have the same length, got {len(forecast)} and {len(truth)}")
    return float(np.sqrt(np.mean((forecast - truth) ** 2)))


def persistence_forecast(values, start: int, stop: int) -> np.ndarray:
    """values[t - 1] for each target index t in [start, stop)."""
    values = _series(values)
    start, stop = _range(values, start, stop, 1)
    return values[start - 1: stop - 1].copy()


def autoreg_forecast(values, lags: int, fit_stop: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """(forecasts for targets [start, stop), params [const, phi_1..phi_p]) of statsmodels
    `AutoReg(values[:fit_stop], lags, trend="c")`, each from the observed `lags` values before it."""
    values = _series(values)
    lags = as_int(lags, "lags", minimum=1, maximum=MAX_WINDOW)
    fit_stop = as_int(fit_stop, "fit_stop", minimum=2 * lags + 2, maximum=len(values))
    start, stop = _range(values, start, stop, lags)
    from statsmodels.tsa.ar_model import AutoReg

    params = np.asarray(AutoReg(values[:fit_stop], lags=lags, trend="c").fit().params, dtype=np.float64)
    X, _ = windows(values, lags, start, stop)
    return params[0] + X[:, ::-1] @ params[1:], params
