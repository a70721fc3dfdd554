"""The sunspot LSTM's study on the years before the test period, and the learning-rate schedule chosen there.

Time-ordered periods (knobs `lstm` in impl/l4_tuning/params.yaml): train from the first year to
`val_first_year` - 1, validation to `test_first_year` - 1, test from `test_first_year`.
`validation_study` is the study the `tune_lstm` stage runs: values standardised by the training
years' mean and SD, TPE (seeded) over window, hidden units and lr, each trial trained on training
targets and scored by the RMSE of one-step forecasts of the validation years, MedianPruner on that
RMSE every `eval_every` epochs. It is handed the years before the test period only.

`compare_schedules` decides the one recipe choice outside the search space, the learning-rate
schedule (`sunspots_lstm.SCHEDULES`), by the same studies: one per (schedule, seed), each scored by
its best validation RMSE; the rule, fixed before running it, is the lower mean over the seeds.
No test year is passed to it. `python -m impl.l4_tuning.lstm_study` runs it with the stage's knobs
and prints the table that params.yaml's `lr_schedule` comment records.
"""
from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import numpy as np

from impl.checks import as_float_array, as_instance, as_int, as_str
from impl.l4_tuning import studies, sunspots_lstm as fc

__all__ = ["load_periods", "validation_study", "compare_schedules"]

STUDY_KNOBS = ("window", "hidden", "lr", "lr_schedule", "num_epochs", "batch_size", "eval_every", "seed", "n_trials",
               "n_startup_trials", "pruner_startup_trials", "pruner_warmup_steps")
MAX_SEEDS = 100


def load_periods(knobs: dict) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(years, values, train_end, val_end) of the yearly sunspots: the validation period is
    [train_end, val_end), the test period [val_end, len)."""
    from impl.data import series

    as_instance(knobs, "knobs", dict)
    sunspots = series.sunspots_yearly()
    years = sunspots.t.astype(int)
    if years[-1] != knobs["test_last_year"]:
        raise ValueError(f"sunspots end in {years[-1]}, the knobs expect {knobs['test_last_year']}")
    return years, sunspots.values, _index(years, knobs["val_first_year"]), _index(years, knobs["test_first_year"])


def _index(years: np.ndarray, year: int) -> int:
    found = np.flatnonzero(years == year)
    if len(found) != 1:
        raise ValueError(f"year {year} is not in the series ({int(years[0])}-{int(years[-1])})")
    return int(found[0])


def _checked_knobs(knobs) -> dict[str, Any]:
    as_instance(knobs, "knobs", dict)
    missing = sorted(set(STUDY_KNOBS) - set(knobs))
    if missing:
        raise ValueError(f"knobs lacks {missing}")
    as_str(knobs["lr_schedule"], "knobs['lr_schedule']", choices=fc.SCHEDULES)
    return knobs


def validation_study(known, train_end: int, knobs: dict, *, name: str,
                     held_out: studies.HeldOut | None = None) -> dict[str, Any]:
    """`studies.run_study` of the LSTM on `known` (the years before the test period): trials train on
    targets before `train_end` and are scored on [train_end, len(known)). Returns its export."""
    known = as_float_array(known, "known", ndim=1)
    train_end = as_int(train_end, "train_end", minimum=2, maximum=len(known) - 1)
    knobs, name = _checked_knobs(knobs), as_str(name, "name")
    held_out = studies.HeldOut(lambda: None) if held_out is None else as_instance(held_out, "held_out", studies.HeldOut)
    val_end = len(known)
    mean, sd = float(known[:train_end].mean()), float(known[:train_end].std())  # training years only
    z = (known - mean) / sd
    fit = dict(num_epochs=knobs["num_epochs"], batch_size=knobs["batch_size"], eval_every=knobs["eval_every"],
               schedule=knobs["lr_schedule"])

    def objective(trial) -> float:
        window = trial.suggest_int("window", *knobs["window"])
        hidden = trial.suggest_categorical("hidden", knobs["hidden"])
        lr = trial.suggest_float("lr", *knobs["lr"], log=True)
        X, y = fc.windows(z, window, window, train_end)
        X_val, _ = fc.windows(z, window, train_end, val_end)
        model, scores = fc.make_lstm(knobs["seed"], hidden), []

        def report(epoch: int) -> bool:
            scores.append(fc.rmse(fc.predict(model, X_val) * sd + mean, known[train_end:val_end]))
            studies.report_or_prune(trial, scores[-1], epoch)
            return False

        fc.fit_lstm(model, X, y, lr=lr, seed=knobs["seed"], on_eval=report, **fit)
        return scores[-1]

    return studies.run_study(name, objective, knobs, direction="minimize", held_out=held_out)


def compare_schedules(known, train_end: int, knobs: dict, seeds) -> dict[str, Any]:
    """Best validation RMSE of `validation_study` per schedule and seed, and the schedule with the lower
    mean over the seeds (ties: the first in SCHEDULES). `seeds` replace knobs['seed'] one at a time."""
    known = as_float_array(known, "known", ndim=1)
    train_end = as_int(train_end, "train_end", minimum=2, maximum=len(known) - 1)
    knobs = _checked_knobs(knobs)
    if not isinstance(seeds, (list, tuple)) or not 1 <= len(seeds) <= MAX_SEEDS:
        raise TypeError(f"seeds must be a list of 1..{MAX_SEEDS} seeds, got {seeds!r}")
    seeds = [as_int(s, "seeds", minimum=0, maximum=2**32 - 1) for s in seeds]
    best = {schedule: [validation_study(known, train_end, {**knobs, "seed": s, "lr_schedule": schedule},
                                        name=f"l4_tuning.lstm_schedule.{schedule}.{s}")["best_value"]
                       for s in seeds] for schedule in fc.SCHEDULES}
    means = {schedule: float(np.mean(values)) for schedule, values in best.items()}
    first, second = fc.SCHEDULES
    return {"seeds": seeds, "best_val_rmse": best, "mean_best_val_rmse": means,
            "paired_wins": {first: sum(a < b for a, b in zip(best[first], best[second])),
                            second: sum(b < a for a, b in zip(best[first], best[second]))},
            "chosen": min(fc.SCHEDULES, key=lambda schedule: means[schedule])}


def main(argv: list[str] | None = None) -> int:
    """Print `compare_schedules` for the stage's knobs over seeds 0-4 (the years before the test period only)."""
    from impl.isolation import torch_state
    from impl.pipeline import params

    seeds = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [0, 1, 2, 3, 4]
    knobs = params.knobs("l4_tuning", "lstm")
    _, values, train_end, val_end = load_periods(knobs)
    with torch_state(num_threads=knobs["num_threads"], deterministic=True), contextlib.redirect_stdout(sys.stderr):
        table = compare_schedules(values[:val_end].copy(), train_end, knobs, seeds)
    print(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
