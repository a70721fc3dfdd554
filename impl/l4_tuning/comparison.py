"""Run one Optuna study per (sampler, seed) on a benchmark and return what it sampled and found.

Every study is seeded through its sampler only (no global RNG), runs with n_jobs=1 in memory, and
names its parameters x0, x1, ... so traces of different samplers line up. Samplers:
- "random": `RandomSampler(seed)`;
- "tpe": `TPESampler(seed, multivariate=True)` (Optuna 5 already defaults to multivariate for one
  objective; it is passed explicitly so the study does not depend on that default);
- "tpe_independent": `TPESampler(seed, multivariate=False)`, one Parzen estimator per parameter;
- "gp": `GPSampler(seed)`, Gaussian-process Bayesian optimisation (needs torch and scipy).
TPE draws its first 10 trials from its own `RandomSampler(seed)`, so TPE and random with one seed
share those trials: a comparison over seeds is paired.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from impl.checks import as_callable, as_float, as_float_array, as_instance, as_int, as_seed, as_str
from impl.isolation import optuna_quiet
from impl.l4_tuning.benchmarks import Benchmark

__all__ = ["SAMPLERS", "Trace", "make_sampler", "study_trace", "best_so_far", "regret_curves"]

SAMPLERS = ("random", "tpe", "tpe_independent", "gp")
MAX_TRIALS = 10_000
MAX_SEEDS = 10_000


class Trace(NamedTuple):
    params: np.ndarray  # (n_trials, dim): the points in the order they were sampled
    values: np.ndarray  # (n_trials,): the objective at each


def _seeds(value, name: str = "seeds") -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, range, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of int seeds, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_SEEDS:
        raise ValueError(f"{name} must hold 1..{MAX_SEEDS} seeds, got {len(value)}")
    return tuple(as_seed(item, name) for item in value)


def make_sampler(sampler: str, seed: int):
    """The named Optuna sampler, seeded."""
    import optuna

    sampler, seed = as_str(sampler, "sampler", choices=SAMPLERS), as_seed(seed)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sampler in ("tpe", "tpe_independent"):
        return optuna.samplers.TPESampler(seed=seed, multivariate=sampler == "tpe")
    with warnings.catch_warnings():  # GPSampler is marked experimental in some versions
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.GPSampler(seed=seed)


def _benchmark(benchmark) -> Benchmark:
    """A Benchmark passed in, its fields checked like arguments: a finite box with lower < upper, a finite
    known minimum, a finite minimizer inside the box, a callable function (each refused by its name)."""
    benchmark = as_instance(benchmark, "benchmark", Benchmark)
    lower = as_float_array(benchmark.lower, "lower", ndim=1)
    upper = as_float_array(benchmark.upper, "upper", ndim=1)
    if lower.size != upper.size or np.any(lower >= upper):
        raise ValueError(f"lower and upper must bound a box (lower < upper, one pair per coordinate), got {lower} {upper}")
    as_float(benchmark.minimum, "minimum")
    minimizer = as_float_array(benchmark.minimizer, "minimizer", ndim=1)
    if minimizer.size != lower.size or np.any(minimizer < lower) or np.any(minimizer > upper):
        raise ValueError(f"minimizer must be a point of the box, got {minimizer}")
    as_callable(benchmark.function, "function")
    return benchmark


def study_trace(benchmark: Benchmark, sampler: str, n_trials: int, seed: int) -> Trace:
    """Minimise `benchmark` over its box with `n_trials` trials of the seeded sampler."""
    import optuna

    benchmark = _benchmark(benchmark)
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    study_sampler = make_sampler(sampler, seed)
    bounds = list(zip(benchmark.lower, benchmark.upper))

    def objective(trial) -> float:
        x = np.array([trial.suggest_float(f"x{i}", low, high) for i, (low, high) in enumerate(bounds)])
        return benchmark.function(x)

    study = optuna.create_study(sampler=study_sampler, direction="minimize")
    with warnings.catch_warnings(), optuna_quiet():  # one log line per trial would bury the test output
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    trials = study.trials
    params = np.array([[t.params[f"x{i}"] for i in range(benchmark.dim)] for t in trials])
    return Trace(params, np.array([t.value for t in trials], dtype=float))


def best_so_far(values) -> np.ndarray:
    """The running minimum: entry k is the best value among the first k + 1 trials."""
    return np.minimum.accumulate(as_float_array(values, "values", ndim=1))


def regret_curves(benchmark: Benchmark, sampler: str, n_trials: int, seeds) -> np.ndarray:
    """(len(seeds), n_trials): best-so-far value minus the benchmark's known minimum, per seed."""
    benchmark = _benchmark(benchmark)
    as_str(sampler, "sampler", choices=SAMPLERS)
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seeds = _seeds(seeds)
    return np.stack([best_so_far(study_trace(benchmark, sampler, n_trials, s).values) - benchmark.minimum
                     for s in seeds])
