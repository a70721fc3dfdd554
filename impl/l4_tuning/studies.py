"""What the tuning stages share: a fresh seeded study, a progress bar, a content-only export, importances,
and a held-out test set that cannot be read while a study runs.

Reproducibility: `TPESampler(seed)` with `n_jobs=1` proposes the same parameters for the same
history, and the objectives train with seeded init and shuffling under
`torch.use_deterministic_algorithms(True)`, so the same knobs give the same trials. A stage
always starts from an empty study (an existing one of the same name is deleted first), so a
rerun does not resume, and adds to, an earlier run's trials.

The export keeps content only (number, state, params, intermediate values, value) and is the
study's DVC output; the storage (datetimes) never is: by default a temporary SQLite file, or the
RDB that $CLAIMS_OPTUNA_STORAGE names (`impl.l4_tuning.storage`).
"""
from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from impl.checks import as_bool, as_callable, as_instance, as_int, as_seed, as_str
from impl.isolation import optuna_quiet

__all__ = ["MAX_TRIALS", "DIRECTIONS", "HeldOut", "study_storage", "new_study", "optimize", "export_trials", "history",
           "param_importances", "run_study"]

MAX_TRIALS = 10_000  # a study past this is a typo, not a lesson's budget
DIRECTIONS = ("maximize", "minimize")


class HeldOut:
    """A test set behind a seal. `read()` loads it (through `loader`) and logs the read; inside
    `with held_out.sealed():` (the study) a read raises, so a stage that peeked at the test set
    while tuning fails instead of reporting a leaked number. `record()` says when reads happened."""

    def __init__(self, loader: Callable[[], Any]):
        self._loader = as_callable(loader, "loader")
        self._sealed = False
        self.events: list[str] = []
        self.reads_during_study = 0  # attempted reads while sealed (each raised)
        self.reads_after_study = 0

    @contextlib.contextmanager
    def sealed(self):
        self._sealed = True
        self.events.append("study started")
        try:
            yield self
        finally:
            self._sealed = False
            self.events.append("study ended")

    def read(self) -> Any:
        if self._sealed:
            self.reads_during_study += 1
            self.events.append("test read refused (study running)")
            raise RuntimeError("the test set was read while the study was running (a leak): read it after optimize()")
        self.reads_after_study += 1
        self.events.append("test read")
        return self._loader()

    def record(self) -> dict[str, Any]:
        return {"reads_during_study": self.reads_during_study, "reads_after_study": self.reads_after_study,
                "events": list(self.events)}


@contextlib.contextmanager
def study_storage():
    """The storage URL a stage's study runs in: $CLAIMS_OPTUNA_STORAGE when set (e.g. PostgreSQL, where
    the study stays for a dashboard), else a SQLite file in a temporary folder removed afterwards. The
    study's DVC output is its `export_trials` JSON; the storage holds datetimes, so it is never one."""
    from impl.l4_tuning import storage

    with tempfile.TemporaryDirectory(prefix="l4-study-") as folder:
        yield storage.storage_url(Path(folder) / "study.db")


def new_study(name: str, url: str, *, direction: str, seed: int, n_startup_trials: int, pruner_startup_trials: int,
              pruner_warmup_steps: int, pruner_interval_steps: int = 1):
    """An empty study `name` at storage `url` (an existing one is deleted first): TPE seeded by `seed`,
    random for its first `n_startup_trials`; MedianPruner on the reported intermediate values."""
    from impl.l4_tuning import storage

    name, url = as_str(name, "name"), storage.check_url(url)
    direction = as_str(direction, "direction", choices=DIRECTIONS)
    seed = as_seed(seed)
    n_startup_trials = as_int(n_startup_trials, "n_startup_trials", minimum=0, maximum=MAX_TRIALS)
    pruner_startup_trials = as_int(pruner_startup_trials, "pruner_startup_trials", minimum=0, maximum=MAX_TRIALS)
    pruner_warmup_steps = as_int(pruner_warmup_steps, "pruner_warmup_steps", minimum=0, maximum=10**6)
    pruner_interval_steps = as_int(pruner_interval_steps, "pruner_interval_steps", minimum=1, maximum=10**6)
    import optuna

    with contextlib.suppress(KeyError):  # KeyError: no study of that name yet
        optuna.delete_study(study_name=name, storage=url)
    return optuna.create_study(
        study_name=name, storage=url, direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=pruner_startup_trials, n_warmup_steps=pruner_warmup_steps,
                                           interval_steps=pruner_interval_steps),
    )


def optimize(study, objective: Callable, n_trials: int, *, desc: str = "trials", progress: bool = True,
             shared: bool = False) -> None:
    """`study.optimize(objective, n_trials, n_jobs=1)` with a trial progress bar (off when $CI is set)
    and Optuna's per-trial log lines silenced (the bar shows the state and the best value).

    With `shared`, `n_trials` is the budget of the whole study, which other processes work on too: this one
    starts trials while the study holds fewer than `n_trials` (running ones included), so a worker whose
    trials are pruned early takes more of them instead of idling while another finishes a fixed share.
    Two workers finishing at the same moment may start one trial each past the budget (at most one per
    extra worker)."""
    import optuna

    as_instance(study, "study", optuna.Study)
    objective = as_callable(objective, "objective")
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    desc, progress = as_str(desc, "desc"), as_bool(progress, "progress")
    shared = as_bool(shared, "shared")
    from tqdm import tqdm

    if shared and len(study.get_trials(deepcopy=False)) >= n_trials:
        return
    bar = tqdm(total=n_trials, desc=desc, unit="trial", disable=not progress or bool(os.environ.get("CI")))

    def tick(study, trial) -> None:
        bar.update(1)
        finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        bar.set_postfix(last=trial.state.name.lower(), best=f"{study.best_value:.4g}" if finished else "-")

    callbacks = [tick, optuna.study.MaxTrialsCallback(n_trials, states=None)] if shared else [tick]
    try:
        with optuna_quiet():
            study.optimize(objective, n_trials=None if shared else n_trials, n_jobs=1, callbacks=callbacks)
    finally:
        bar.close()


def report_or_prune(trial, value: float, step: int) -> None:
    """Report `value` at `step` to the trial (its pruner reads it) and end the trial, by raising
    optuna.TrialPruned, when the pruner says so: the one pruning hook every study here uses."""
    import optuna

    as_instance(trial, "trial", optuna.trial.BaseTrial)
    trial.report(float(value), as_int(step, "step", minimum=0, maximum=10**9))
    if trial.should_prune():
        raise optuna.TrialPruned()


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def export_trials(study) -> dict[str, Any]:
    """Every trial as content (number, state, params, intermediate values by step, value), the
    direction and the best trial; no datetimes, so equal studies give equal exports."""
    import optuna

    as_instance(study, "study", optuna.Study)
    trials = [{"number": t.number, "state": t.state.name, "params": dict(t.params),
               "intermediate_values": [[int(step), _finite(v)] for step, v in sorted(t.intermediate_values.items())],
               "value": _finite(t.value)} for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = study.best_trial if complete else None
    return {"direction": study.direction.name.lower(), "n_trials": len(trials),
            "best_trial": best.number if best else None, "best_value": _finite(best.value) if best else None,
            "best_params": dict(best.params) if best else None, "trials": trials}


def history(export: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per trial of an `export_trials` result: its state, value (a pruned trial: its last
    reported value), the best complete value so far, and the last step it reported (a DVC plot)."""
    if not isinstance(export, dict):
        raise TypeError(f"export must be a dict from export_trials, got {type(export).__name__}")
    if export.get("direction") not in DIRECTIONS or not isinstance(export.get("trials"), list):
        raise ValueError("export must be a dict from export_trials (with 'direction' and 'trials')")
    better = max if export["direction"] == "maximize" else min
    rows, best = [], None
    for trial in export["trials"]:
        reported = trial["intermediate_values"]
        value = trial["value"] if trial["state"] == "COMPLETE" else (reported[-1][1] if reported else None)
        if trial["state"] == "COMPLETE" and trial["value"] is not None:
            best = trial["value"] if best is None else better(best, trial["value"])
        rows.append({"trial": trial["number"], "state": trial["state"], "value": value, "best_value": best,
                     "last_step": reported[-1][0] if reported else 0})
    return rows


def param_importances(study, seed: int) -> dict[str, float]:
    """fANOVA importances (Optuna's FanovaImportanceEvaluator, seeded) over the complete trials, in
    Optuna's order (most important first); {} with fewer than 2 complete trials."""
    import optuna

    as_instance(study, "study", optuna.Study)
    seed = as_seed(seed)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2:
        return {}
    importances = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed))
    return {name: float(value) for name, value in importances.items()}


def run_study(name: str, objective: Callable, knobs: dict[str, Any], *, direction: str, held_out: HeldOut) -> dict[str, Any]:
    """A stage's whole study: a fresh study `name` in `study_storage()`, optimised with the test set
    sealed, exported with its seeded importances. The knobs name the seed, the trial budget and
    the sampler's and pruner's start-up. Raises when no trial completed (there is nothing to choose)."""
    name, objective = as_str(name, "name"), as_callable(objective, "objective")  # all checked before any file exists
    direction = as_str(direction, "direction", choices=DIRECTIONS)
    as_instance(held_out, "held_out", HeldOut)
    if not isinstance(knobs, dict):
        raise TypeError(f"knobs must be a dict, got {type(knobs).__name__}")
    missing = sorted({"seed", "n_trials", "n_startup_trials", "pruner_startup_trials", "pruner_warmup_steps"} - set(knobs))
    if missing:
        raise ValueError(f"knobs lacks {missing}")
    with study_storage() as url:
        study = new_study(name, url, direction=direction, seed=knobs["seed"],
                          n_startup_trials=knobs["n_startup_trials"],
                          pruner_startup_trials=knobs["pruner_startup_trials"],
                          pruner_warmup_steps=knobs["pruner_warmup_steps"])
        with held_out.sealed():
            optimize(study, objective, knobs["n_trials"], desc=name.partition("@")[0])
        export = export_trials(study)
        export["importances"] = param_importances(study, knobs["seed"])
    if export["best_params"] is None:
        raise RuntimeError(f"{name}: none of the {export['n_trials']} trials completed, so there is no choice")
    return export
