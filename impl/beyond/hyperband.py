"""Successive halving and Hyperband: the bracket arithmetic of Li et al. (2018), and Optuna's pruners
on synthetic learning curves.

Successive halving starts `n` configurations at resource `r`, keeps the best 1/eta of them and
multiplies the resource by eta, until one configuration is left. Hyperband runs several such
brackets that trade the number of configurations against the starting resource, so one of them
suits whatever the (unknown) rate at which early rankings become final.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_STEPS, as_int, as_rng, as_seed, as_str
from impl.isolation import optuna_quiet

__all__ = ["Rung", "successive_halving", "halving_cost", "hyperband_brackets", "synthetic_curves", "pruned_study"]


class Rung(NamedTuple):
    num_configs: int
    resource: int


def successive_halving(num_configs: int, eta: int, min_resource: int) -> list[Rung]:
    """The rungs of one successive-halving run: `num_configs` at `min_resource`, then floor(n / eta)
    at eta times the resource, ..., down to a single configuration."""
    n = as_int(num_configs, "num_configs", minimum=1, maximum=MAX_STEPS)
    eta = as_int(eta, "eta", minimum=2, maximum=1000)
    r = as_int(min_resource, "min_resource", minimum=1, maximum=MAX_STEPS)
    rungs = [Rung(n, r)]
    while n > 1:
        n, r = n // eta, r * eta
        rungs.append(Rung(max(n, 1), r))
        n = max(n, 1)
    return rungs


def halving_cost(rungs: list[Rung]) -> int:
    """Total resource spent: every configuration of a rung trained to that rung's resource (no reuse)."""
    if not isinstance(rungs, list) or not rungs or not all(isinstance(rung, Rung) for rung in rungs):
        raise TypeError("rungs must be a non-empty list of Rung")
    return sum(rung.num_configs * rung.resource for rung in rungs)


def _floor_log(value: int, base: int) -> int:
    """floor(log_base(value)) in integers (math.log(81, 3) is 4.000000000000001 or 3.9999...)."""
    power, exponent = base, 0
    while power <= value:
        power, exponent = power * base, exponent + 1
    return exponent


def hyperband_brackets(max_resource: int, eta: int) -> dict[int, list[Rung]]:
    """Li et al.'s brackets s = s_max..0: bracket s starts n = ceil((s_max + 1) eta^s / (s + 1))
    configurations at resource R eta^-s and halves them (rung i: floor(n eta^-i) at R eta^(i - s))."""
    R = as_int(max_resource, "max_resource", minimum=1, maximum=MAX_STEPS)
    eta = as_int(eta, "eta", minimum=2, maximum=1000)
    s_max = _floor_log(R, eta)
    brackets = {}
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta**s // (s + 1))  # ceil of an exact integer ratio
        brackets[s] = [Rung(n // eta**i, R // eta ** (s - i)) for i in range(s + 1)]
    return brackets


def synthetic_curves(num_configs: int, num_steps: int, rng: np.random.Generator) -> np.ndarray:
    """(num_configs, num_steps) noisy decreasing learning curves that share one time constant.

    Config c's loss at step t is f_c (1 + 2 exp(-t / 5)) + N(0, 0.002^2), with f_c ~ U(0.1, 0.5) its
    final level: the ranking at any step is the final ranking up to noise, so pruning on early steps
    is sound, and config argmin f_c is the true best.
    """
    n = as_int(num_configs, "num_configs", minimum=1, maximum=10**5)
    steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**4)
    rng = as_rng(rng, "rng")
    final = rng.uniform(0.1, 0.5, n)
    t = np.arange(steps)
    return final[:, None] * (1.0 + 2.0 * np.exp(-t / 5.0)) + rng.normal(0.0, 0.002, (n, steps))


def pruned_study(curves: np.ndarray, pruner: str, eta: int, seed: int) -> tuple[int, int]:
    """Replay `curves` (one trial per row, in order) through an Optuna pruner ("sh" for
    SuccessiveHalvingPruner, "hyperband" for HyperbandPruner; min resource 1, reduction factor eta,
    max resource = the number of steps). Returns (steps run in total, index of the best trial)."""
    import optuna

    curves = np.asarray(curves)
    if curves.ndim != 2 or curves.size == 0 or not np.issubdtype(curves.dtype, np.floating):
        raise ValueError(f"curves must be a non-empty 2-D float array, got shape {curves.shape}")
    if not np.all(np.isfinite(curves)):
        raise ValueError("curves contains NaN or infinite values")
    pruner = as_str(pruner, "pruner", choices=("sh", "hyperband"))
    eta = as_int(eta, "eta", minimum=2, maximum=1000)
    seed = as_seed(seed)
    num_trials, num_steps = curves.shape
    if pruner == "sh":
        chosen = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=eta)
    else:
        chosen = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=num_steps, reduction_factor=eta)
    used = [0]

    def objective(trial):
        row = curves[trial.number]
        for step in range(num_steps):
            used[0] += 1
            trial.report(float(row[step]), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(row[-1])

    # Hyperband puts each trial in a bracket by a hash of the study name and the trial number: a named
    # study makes the replay deterministic (an unnamed one gets a random name, so random brackets).
    with optuna_quiet():  # one INFO line per trial otherwise; the caller's verbosity comes back after
        study = optuna.create_study(study_name=f"replay-{pruner}-eta{eta}-seed{seed}", direction="minimize",
                                    pruner=chosen, sampler=optuna.samplers.RandomSampler(seed))
        study.optimize(objective, n_trials=num_trials)
    return used[0], study.best_trial.number
