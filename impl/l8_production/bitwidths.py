"""Per-layer weight bit-widths chosen by Optuna: a size-constrained TPE study and an NSGA-II Pareto study.

Each Linear layer's weights are fake-quantized to b bits, symmetric and per output channel, with
Lesson 5's NumPy reference (`impl.l5_quantization.quantize`: scale = max|w_row| / (2^(b-1) - 1),
round half to even); biases stay float32 and nothing is retrained. A configuration's size is the
analytic weight storage, sum over layers of (weights x bits): the quantity the constraint bounds.

- `constrained_study`: TPE over b in `BITS` per layer, maximising validation accuracy subject to
  total bits <= `max_size_ratio` x uniform 8-bit. The constraint is `trial.set_constraint` (Optuna 5
  deprecated the sampler's `constraints_func` for it; same rule: feasible when every value <= 0),
  which TPE reads to prefer feasible trials.
- `pareto_study`: NSGAIISampler over the same space, minimising (validation error, size ratio),
  with uniform 8-bit enqueued as the first trial.
- `non_dominated`: the brute-force Pareto set, the reference `study.best_trials` is checked against.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from impl.checks import as_float, as_float_array, as_int, as_seed, as_str
from impl.isolation import optuna_quiet
from impl.l8_production import model as mlp
from impl.scoring import top1_accuracy

__all__ = ["BITS", "MAX_TRIALS", "DIRECTIONS", "quantize_weights", "size_ratio", "config_accuracy",
           "constrained_study", "pareto_study", "feasible_best", "non_dominated"]

BITS = (2, 3, 4, 6, 8)   # the catalog's per-layer choices
MAX_TRIALS = 10_000
DIRECTIONS = ("minimize", "maximize")


def _bits(bits, n_layers: int) -> list[int]:
    if not isinstance(bits, (list, tuple)) or len(bits) != n_layers:
        raise ValueError(f"bits must be a list of {n_layers} per-layer bit-widths, got {bits!r}")
    return [as_int(b, "bits", minimum=2, maximum=16) for b in bits]


def quantize_weights(weights, bits) -> list[np.ndarray]:
    """Each (out, in) weight matrix fake-quantized to its bit-width, symmetric, one scale per output row."""
    from impl.l5_quantization import quantize as q

    if not isinstance(weights, (list, tuple)) or not weights:
        raise TypeError("weights must be a non-empty list of (out, in) arrays")
    weights = [as_float_array(w, "weights", ndim=2, dtype=np.float32) for w in weights]
    out = []
    for w, b in zip(weights, _bits(bits, len(weights))):
        scale, zero_point = q.calibrate(w, scheme="symmetric", bits=b, axis=0)
        out.append(q.fake_quantize(w, scale.astype(np.float32), zero_point, bits=b, signed=True, axis=0))
    return out


def size_ratio(weights, bits) -> float:
    """sum(n_weights x bits) / sum(n_weights x 8): the configuration's weight storage against uniform int8."""
    if not isinstance(weights, (list, tuple)) or not weights:
        raise TypeError("weights must be a non-empty list of arrays")
    counts = [int(np.asarray(w).size) for w in weights]
    if min(counts) == 0:
        raise ValueError("weights must not hold empty arrays")
    bits = _bits(bits, len(weights))
    return float(sum(n * b for n, b in zip(counts, bits)) / (8 * sum(counts)))


def config_accuracy(weights, biases, bits, pixels, labels) -> float:
    """Accuracy of the MLP with its weights fake-quantized to `bits` (biases float32)."""
    return top1_accuracy(mlp.forward(quantize_weights(weights, bits), biases, pixels), labels)


def _suggest(trial, n_layers: int) -> list[int]:
    return [trial.suggest_categorical(f"bits_{i}", list(BITS)) for i in range(n_layers)]


def constrained_study(weights, biases, pixels, labels, *, n_trials: int, seed: int, max_size_ratio: float,
                      n_startup_trials: int = 10):
    """TPE (seeded, constrained) over per-layer bit-widths maximising validation accuracy with
    total bits <= max_size_ratio x uniform 8-bit. Each trial stores its size ratio as a user attribute."""
    import optuna

    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seed = as_seed(seed)
    max_size_ratio = as_float(max_size_ratio, "max_size_ratio", low=0.0, high=2.0, low_open=True)
    n_startup_trials = as_int(n_startup_trials, "n_startup_trials", minimum=0, maximum=MAX_TRIALS)
    weights, biases = mlp._check_layers(weights, biases)

    def objective(trial) -> float:
        bits = _suggest(trial, len(weights))
        ratio = size_ratio(weights, bits)
        trial.set_user_attr("size_ratio", ratio)
        trial.set_constraint("size", ratio - max_size_ratio)  # feasible when <= 0
        return config_accuracy(weights, biases, bits, pixels, labels)

    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    with optuna_quiet():
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return study


def feasible_best(study) -> Any:
    """The best COMPLETE trial whose constraints all hold (<= 0), or None."""
    import optuna

    if not isinstance(study, optuna.Study):
        raise TypeError(f"study must be an optuna.Study, got {type(study).__name__}")
    feasible = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                if t.constraints and all(c <= 0 for c in t.constraints.values())]
    if not feasible:
        return None
    sign = 1 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1
    return max(feasible, key=lambda t: (sign * t.value, -t.number))


def pareto_study(weights, biases, pixels, labels, *, n_trials: int, seed: int, population_size: int = 10):
    """NSGA-II (seeded) minimising (validation error, size ratio) over per-layer bit-widths; uniform
    8-bit is enqueued as trial 0 so the front can be compared with it."""
    import optuna

    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seed = as_seed(seed)
    population_size = as_int(population_size, "population_size", minimum=2, maximum=MAX_TRIALS)
    weights, biases = mlp._check_layers(weights, biases)

    def objective(trial) -> tuple[float, float]:
        bits = _suggest(trial, len(weights))
        return 1.0 - config_accuracy(weights, biases, bits, pixels, labels), size_ratio(weights, bits)

    sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=population_size)
    with optuna_quiet():
        study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
        study.enqueue_trial({f"bits_{i}": 8 for i in range(len(weights))})
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return study


def non_dominated(values, directions) -> list[int]:
    """Indices of the rows of `values` (n points x k objectives) that no other row dominates: at least
    as good in every objective and strictly better in one. Duplicated points are all kept. O(n^2 k)."""
    values = as_float_array(values, "values", ndim=2)
    if not isinstance(directions, (list, tuple)) or len(directions) != values.shape[1]:
        raise ValueError(f"directions must name one direction per objective ({values.shape[1]}), got {directions!r}")
    signs = np.array([1.0 if as_str(d, "directions", choices=DIRECTIONS) == "minimize" else -1.0
                      for d in directions])
    v = values * signs  # all minimised
    keep = []
    for i in range(len(v)):
        dominated = np.any(np.all(v <= v[i], axis=1) & np.any(v < v[i], axis=1))
        if not dominated:
            keep.append(i)
    return keep


