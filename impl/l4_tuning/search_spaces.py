"""Search spaces as Optuna sees them: what a seeded sampler suggests for each kind of range.

`random_suggestions` runs one `RandomSampler(seed)` study whose every trial asks for the six kinds
of numeric parameter (float, float on a log scale, float on a step grid, and the same for ints) and
returns each parameter's values in trial order, as suggested (Python floats and ints).
`grid_visits` runs a `GridSampler` study and returns the grid points in the order it tried them.
"""
from __future__ import annotations

from numbers import Real
from typing import Mapping

from impl.checks import as_float, as_int, as_seed
from impl.isolation import optuna_quiet

__all__ = ["SUGGESTION_KINDS", "random_suggestions", "grid_visits"]

SUGGESTION_KINDS = ("float", "float_log", "float_step", "int", "int_log", "int_step")
MAX_TRIALS = 100_000
MAX_GRID_POINTS = 10_000


def random_suggestions(low: float, high: float, int_low: int, int_high: int, *, float_step: float, int_step: int,
                       n_trials: int, seed: int) -> dict[str, list]:
    """{kind: n_trials suggestions} from `RandomSampler(seed)` over [low, high] (floats; log scale
    needs low > 0) and [int_low, int_high] (ints; log scale needs int_low >= 1)."""
    import optuna

    low, high = as_float(low, "low", low=0.0, low_open=True), as_float(high, "high", low=0.0, low_open=True)
    if not low < high:
        raise ValueError(f"low must be < high, got low = {low:g}, high = {high:g}")
    int_low = as_int(int_low, "int_low", minimum=1, maximum=2**53)
    int_high = as_int(int_high, "int_high", minimum=int_low + 1, maximum=2**53)
    float_step = as_float(float_step, "float_step", low=0.0, high=high - low, low_open=True)
    if (high - low) / float_step > 2**53:  # Optuna enumerates the stepped grid exactly (decimal arithmetic)
        raise ValueError(f"high - low must span at most 2**53 steps of float_step, got low = {low:g}, high = {high:g}, "
                         f"float_step = {float_step:g}")
    int_step = as_int(int_step, "int_step", minimum=1, maximum=int_high - int_low)
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seed = as_seed(seed)

    def objective(trial) -> float:
        trial.suggest_float("float", low, high)
        trial.suggest_float("float_log", low, high, log=True)
        trial.suggest_float("float_step", low, high, step=float_step)
        trial.suggest_int("int", int_low, int_high)
        trial.suggest_int("int_log", int_low, int_high, log=True)
        trial.suggest_int("int_step", int_low, int_high, step=int_step)
        return 0.0

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    with optuna_quiet():
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return {kind: [trial.params[kind] for trial in study.trials] for kind in SUGGESTION_KINDS}


def grid_visits(grid: Mapping[str, list], n_trials: int, seed: int) -> list[tuple]:
    """Grid points (in the order of `grid`'s names) of every trial of a `GridSampler(grid, seed)` study
    asked for `n_trials` trials; the sampler stops the study once every point has been tried."""
    import optuna

    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a mapping name -> list of values, got {type(grid).__name__}")
    if not grid:
        raise ValueError("grid must name at least one parameter")
    size = 1
    for name, values in grid.items():
        if not isinstance(name, str) or not isinstance(values, (list, tuple)):
            raise TypeError(f"grid must map str names to lists of numbers, got {name!r}: {type(values).__name__}")
        if len(values) < 2 or len(set(values)) != len(values):
            raise ValueError(f"grid[{name!r}] must hold at least 2 distinct values, got {values!r}")
        for value in values:
            if isinstance(value, bool) or not isinstance(value, Real):
                raise TypeError(f"grid[{name!r}] values must be real numbers, got {value!r}")
            as_float(value, f"grid[{name!r}]")
        size *= len(values)
    if size > MAX_GRID_POINTS:
        raise ValueError(f"grid must have at most {MAX_GRID_POINTS} points, got {size}")
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seed = as_seed(seed)
    names = list(grid)

    def objective(trial) -> float:
        return float(sum(trial.suggest_float(name, min(grid[name]), max(grid[name])) for name in names))

    study = optuna.create_study(sampler=optuna.samplers.GridSampler({n: list(grid[n]) for n in names}, seed=seed))
    with optuna_quiet():
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return [tuple(trial.params[name] for name in names) for trial in study.trials]
