"""Which hyperparameter matters: importance evaluators on a study whose objective depends on x alone.

The objective f(x, y, z) = (x - 0.3)^2 + 0 y + 0 z + noise, over [0, 1]^3, has a known answer: every
bit of its variance that the parameters explain is x's, so a sound evaluator ranks x first with
importance near 1 and gives y and z about 0. Noise is drawn per trial from
`default_rng([seed, trial.number])`, so a study is a pure function of its seed.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_float, as_int, as_seed, as_str
from impl.isolation import optuna_quiet

__all__ = ["PARAMS", "EVALUATORS", "dominant_parameter_study", "param_importances"]

PARAMS = ("x", "y", "z")
EVALUATORS = ("fanova", "mean_decrease_impurity", "ped_anova")
MAX_TRIALS = 10_000


def dominant_parameter_study(n_trials: int, seed: int, noise_sd: float):
    """An Optuna study of `n_trials` TPE trials (`TPESampler(seed)`) minimising (x - 0.3)^2 + noise."""
    import optuna

    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    seed = as_seed(seed)
    noise_sd = as_float(noise_sd, "noise_sd", low=0.0)

    def objective(trial) -> float:
        x, y, z = (trial.suggest_float(name, 0.0, 1.0) for name in PARAMS)
        noise = noise_sd * np.random.default_rng([seed, trial.number]).standard_normal()
        return (x - 0.3) ** 2 + 0.0 * y + 0.0 * z + noise

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), direction="minimize")
    with optuna_quiet():
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    return study


def param_importances(study, evaluator: str, seed: int) -> dict[str, float]:
    """`optuna.importance.get_param_importances` with the named evaluator (forests seeded with `seed`):
    fANOVA (functional ANOVA on a random forest), mean decrease in impurity (the forest's own
    split statistics), or PED-ANOVA (no forest: compares the top trials' distribution with all)."""
    import optuna

    if not isinstance(study, optuna.study.Study):
        raise TypeError(f"study must be an optuna.study.Study, got {type(study).__name__}")
    evaluator = as_str(evaluator, "evaluator", choices=EVALUATORS)
    seed = as_seed(seed)
    if evaluator == "fanova":
        chosen = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    elif evaluator == "mean_decrease_impurity":
        chosen = optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=seed)
    else:
        chosen = optuna.importance.PedAnovaImportanceEvaluator()
    importances = optuna.importance.get_param_importances(study, evaluator=chosen)
    return {name: float(value) for name, value in importances.items()}
