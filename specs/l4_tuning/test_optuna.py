import random

import numpy as np
import pytest

from impl.isolation import global_rngs_preserved, optuna_quiet
from impl.l4_tuning import benchmarks, comparison


def _rows_differing(a: np.ndarray, b: np.ndarray) -> int:
    """Trials whose parameter vectors differ in any bit (compared as raw float64 bytes)."""
    return int(np.sum(np.any(a.view(np.uint64) != b.view(np.uint64), axis=1)))


def _twin_trace(benchmark, seed: int, n_trials: int) -> np.ndarray:
    """The objective values of the same study built here on Optuna's own `TPESampler(seed, multivariate=True)`:
    the independent twin of `comparison.study_trace(benchmark, "tpe", ...)`."""
    import optuna

    bounds = list(zip(benchmark.lower, benchmark.upper))
    with optuna_quiet():
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True))
        study.optimize(lambda trial: benchmark.function(np.array(
            [trial.suggest_float(f"x{i}", low, high) for i, (low, high) in enumerate(bounds)])), n_trials=n_trials)
    return np.array([t.value for t in study.trials])


@pytest.mark.cpu
def test_determinism(claim):
    """Two studies with `TPESampler(seed=42)` and `n_jobs=1` on a deterministic 5-D shifted sphere
    (40 trials) sample bitwise-identical parameter sequences and objective values, hence the same
    best value, even when NumPy's and Python's global generators are in different states between
    them; the same study with seed 43 samples a different sequence.

    The sampler is TPE with `multivariate=True`, which Optuna 5 uses by default for one objective: the
    study equals, bit for bit, its twin built in the spec on Optuna's own `TPESampler(42, multivariate=True)`.
    Course: Lesson 4, introduction to Optuna (reproducible studies with a seeded sampler).
    """
    sphere, n_trials = benchmarks.sphere_benchmark(5), 40
    claim.use_seed(42)
    first = comparison.study_trace(sphere, "tpe", n_trials, 42)
    with global_rngs_preserved():  # a sampler that drew from the global generators would now sample differently
        np.random.seed(12345)
        random.seed(12345)
        second = comparison.study_trace(sphere, "tpe", n_trials, 42)
    other = comparison.study_trace(sphere, "tpe", n_trials, 43)
    claim.record(best_value_seed42=[float(first.values.min()), float(second.values.min())],
                 best_value_seed42_hex=[float(first.values.min()).hex(), float(second.values.min()).hex()],
                 best_value_seed43=float(other.values.min()))
    claim.plot("Best value so far, TPE on the 5-D shifted sphere", list(range(1, n_trials + 1)),
               {"seed 42 (first study)": comparison.best_so_far(first.values),
                "seed 42 (second study)": comparison.best_so_far(second.values),
                "seed 43": comparison.best_so_far(other.values)}, xlabel="trial", ylabel="best value", logy=True)
    claim.expect("trials_differing_seed42_twice", _rows_differing(first.params, second.params), "==", 0)
    claim.expect("values_differing_seed42_twice", _rows_differing(first.values[:, None], second.values[:, None]),
                 "==", 0)
    claim.expect("best_value_equal_bitwise", float(first.values.min()).hex() == float(second.values.min()).hex(),
                 "==", True)
    claim.expect("trials_differing_seed43", _rows_differing(first.params, other.params), ">=", 1)
    twin = _twin_trace(sphere, 42, n_trials)
    claim.expect("values_differing_from_optunas_own_tpe", _rows_differing(first.values[:, None], twin[:, None]), "==", 0)
