"""Pruning: an oracle for Optuna's median rule, a replay driver, and the budget a pruner spends.

The oracle restates `optuna.pruners.PercentilePruner.prune` (MedianPruner is its 50th percentile)
from its documented semantics, for checking the library against: with at least
`n_startup_trials` COMPLETE trials, from step `n_warmup_steps` on, at the first report in each
window of `interval_steps` steps, prune when the trial's best value so far (NaNs ignored; all NaN
prunes) is strictly worse than the percentile of the completed trials' values at the same step
(NaNs ignored; no verdict while fewer than `n_min_trials` of them reported that step).

The budget study runs `n_trials` learning curves (`impl.l4_tuning.curves`) under a pruner with a
`RandomSampler(seed)`: the random sampler ignores history, so the pruned and unpruned studies of one
seed try the same configurations in the same order, and trial k draws the same noise in both.
"""
from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Mapping, NamedTuple

import numpy as np

from impl.checks import MAX_STEPS, as_bool, as_float, as_int, as_seed, as_str, finite_or_diverged
from impl.isolation import optuna_quiet
from impl.l4_tuning import curves

__all__ = ["PRUNERS", "PRUNE_REASONS", "CurveStudy", "make_pruner", "median_oracle", "replay_median_pruner",
           "run_curve_study"]

PRUNERS = ("none", "median", "successive_halving", "hyperband")
# The oracle's verdicts: the two that prune, then every rule that keeps a trial running.
PRUNE_REASONS = ("worse_than_percentile", "all_nan", "not_worse", "startup", "warmup", "interval", "too_few_at_step")
MAX_TRIALS = 10_000


def _curve(value, name: str, allow_empty: bool = False) -> dict[int, float]:
    """{step: value} with int steps >= 0 and real values (NaN allowed: Optuna accepts NaN reports)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping step -> value, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must hold at least one reported step")
    if len(value) > MAX_STEPS:
        raise ValueError(f"{name} must hold at most {MAX_STEPS} steps, got {len(value)}")
    out = {}
    for step, item in value.items():
        if isinstance(step, bool) or not isinstance(step, Integral) or step < 0:
            raise TypeError(f"{name} steps must be ints >= 0, got {step!r}")
        if isinstance(item, bool) or not isinstance(item, Real):
            raise TypeError(f"{name} values must be real numbers, got {type(item).__name__}")
        out[int(step)] = float(item)
    return out


def _curves(value, name: str, allow_empty: bool) -> list[dict[int, float]]:
    if isinstance(value, Mapping) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of mappings step -> value, got {type(value).__name__}")
    if len(value) > MAX_TRIALS or (not value and not allow_empty):
        raise ValueError(f"{name} must hold {0 if allow_empty else 1}..{MAX_TRIALS} curves, got {len(value)}")
    return [_curve(item, name, allow_empty) for item in value]


def median_oracle(reported, completed, *, percentile: float = 50.0, n_startup_trials: int = 5,
                  n_warmup_steps: int = 0, interval_steps: int = 1, n_min_trials: int = 1,
                  maximize: bool = False) -> tuple[bool, str]:
    """(prune?, reason in PRUNE_REASONS) for a trial that has `reported` {step: value} so far, given
    the intermediate values of the COMPLETE trials."""
    reported, completed = _curve(reported, "reported"), _curves(completed, "completed", allow_empty=True)
    percentile = as_float(percentile, "percentile", low=0.0, high=100.0)
    n_startup_trials = as_int(n_startup_trials, "n_startup_trials", minimum=0, maximum=MAX_TRIALS)
    n_warmup_steps = as_int(n_warmup_steps, "n_warmup_steps", minimum=0, maximum=MAX_STEPS)
    interval_steps = as_int(interval_steps, "interval_steps", minimum=1, maximum=MAX_STEPS)
    n_min_trials = as_int(n_min_trials, "n_min_trials", minimum=1, maximum=MAX_TRIALS)
    maximize = as_bool(maximize, "maximize")
    if not completed or len(completed) < n_startup_trials:
        return False, "startup"
    step = max(reported)
    if step < n_warmup_steps:
        return False, "warmup"
    window_start = n_warmup_steps + (step - n_warmup_steps) // interval_steps * interval_steps
    if any(window_start <= s < step for s in reported):  # this window was judged at an earlier report
        return False, "interval"
    mine = [v for v in reported.values() if not math.isnan(v)]
    if not mine:
        return True, "all_nan"
    at_step = [c[step] for c in completed if step in c]  # NaNs count toward n_min_trials, not the percentile
    theirs = [v for v in at_step if not math.isnan(v)]
    if len(at_step) < n_min_trials or not theirs:
        return False, "too_few_at_step"
    if maximize:  # best is the largest; the bar is the percentile counted from the top
        worse = max(mine) < np.percentile(theirs, 100.0 - percentile)
    else:
        worse = min(mine) > np.percentile(theirs, percentile)
    return bool(worse), "worse_than_percentile" if worse else "not_worse"


def replay_median_pruner(curves_by_trial, *, n_startup_trials: int, n_warmup_steps: int, interval_steps: int,
                         n_min_trials: int, maximize: bool) -> list[list[bool]]:
    """Feed each curve, in order, to a study with Optuna's `MedianPruner`; per trial the answers of
    `should_prune()` after each report, up to and including the first True (the trial is then
    PRUNED; a trial never pruned is COMPLETE)."""
    import optuna

    curves_by_trial = _curves(curves_by_trial, "curves_by_trial", allow_empty=False)
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=as_int(n_startup_trials, "n_startup_trials", minimum=0, maximum=MAX_TRIALS),
        n_warmup_steps=as_int(n_warmup_steps, "n_warmup_steps", minimum=0, maximum=MAX_STEPS),
        interval_steps=as_int(interval_steps, "interval_steps", minimum=1, maximum=MAX_STEPS),
        n_min_trials=as_int(n_min_trials, "n_min_trials", minimum=1, maximum=MAX_TRIALS),
    )
    study = optuna.create_study(direction="maximize" if as_bool(maximize, "maximize") else "minimize", pruner=pruner)
    answers = []
    # NumPy's note on a trial or step of all NaNs is expected (a rule here), and so is Optuna's log: both silenced.
    with warnings.catch_warnings(), optuna_quiet():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        for curve in curves_by_trial:
            trial, said = study.ask(), []
            for step in sorted(curve):
                trial.report(curve[step], step)
                said.append(trial.should_prune())
                if said[-1]:
                    break
            answers.append(said)
            if said[-1]:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, 0.0)  # the objective value plays no part in the percentile rule
    return answers


def make_pruner(pruner: str):
    """The named pruner with the lesson's settings: MedianPruner(5 startup trials, 3 warm-up steps);
    SuccessiveHalving and Hyperband at Optuna's defaults (reduction factor 4 and 3, min resource 1)."""
    import optuna

    pruner = as_str(pruner, "pruner", choices=PRUNERS)
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3)
    if pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


class CurveStudy(NamedTuple):
    configs: np.ndarray       # (n_trials, 2): lr, dropout as sampled
    steps_used: np.ndarray    # (n_trials,): steps each trial ran before it completed or was pruned
    final_values: np.ndarray  # (n_trials,): the last loss of each COMPLETE trial, NaN for pruned ones
    num_steps: int

    @property
    def budget_fraction(self) -> float:
        """Steps run / steps an unpruned study runs."""
        return float(self.steps_used.sum() / (len(self.steps_used) * self.num_steps))

    @property
    def best_final(self) -> float:
        return float(np.nanmin(self.final_values))


def run_curve_study(pruner: str, *, n_trials: int, num_steps: int, seed: int, noise_sd: float,
                    crossing: bool = False) -> CurveStudy:
    """Tune (lr, dropout) on synthetic learning curves under `pruner` with `RandomSampler(seed)`.

    `crossing` uses `curves.lr_time_constant` (fast starters can lead early and lose late) instead
    of the shared time constant. The study is named after the seed: Hyperband assigns trials to its
    brackets by a hash of the study name and trial number, so a fixed name makes the run repeatable.
    """
    import optuna

    pruner = make_pruner(pruner)
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    seed = as_seed(seed)
    noise_sd = as_float(noise_sd, "noise_sd", low=0.0)
    crossing = as_bool(crossing, "crossing")
    steps_used, final_values = np.zeros(n_trials, dtype=int), np.full(n_trials, np.nan)

    def objective(trial) -> float:
        lr = trial.suggest_float("lr", *curves.LR_RANGE, log=True)
        dropout = trial.suggest_float("dropout", *curves.DROPOUT_RANGE)
        tau = curves.lr_time_constant(lr) if crossing else curves.SHARED_TIME_CONSTANT
        loss = curves.learning_curve(curves.config_plateau(lr, dropout), tau, num_steps, noise_sd,
                                     np.random.default_rng([seed, trial.number]))
        finite_or_diverged(loss, "the learning curve", f"noise_sd = {noise_sd:g}", verb="overflowed")
        for step, value in enumerate(loss):
            trial.report(float(value), step)
            steps_used[trial.number] = step + 1
            if trial.should_prune():
                raise optuna.TrialPruned()
        final_values[trial.number] = loss[-1]
        return float(loss[-1])

    study = optuna.create_study(study_name=f"curves-seed{seed}", sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=pruner)
    with optuna_quiet():
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    configs = np.array([[t.params["lr"], t.params["dropout"]] for t in study.trials])
    return CurveStudy(configs, steps_used, final_values, num_steps)
