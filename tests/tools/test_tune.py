"""`make tune`: Lesson 4's CNN study over worker processes sharing one study in a real PostgreSQL."""
import json

import pytest

from impl.l4_tuning import postgres, tune

TINY = {"n_trials": 4, "num_epochs": 1, "train_size": 400, "val_size": 200, "n_startup_trials": 2, "pruner_startup_trials": 2}


def test_two_workers_share_one_study_and_the_test_set_is_read_once(tmp_path):
    reason = postgres.unavailable_reason()
    if reason is not None:
        pytest.skip(f"no local PostgreSQL server can be started: {reason}")
    result = tune.tune(2, out_dir=tmp_path, **TINY)
    trials = json.loads((tmp_path / "trials.json").read_text())
    # One budget for the study, not a share per worker: the workers together start 4 trials (a fifth only when
    # both finish at the same instant), whichever of them is free first takes the next.
    n = trials["n_trials"]
    assert 4 <= n <= 5 and len(result["trials_per_worker"]) == 2 and sum(result["trials_per_worker"]) == n
    assert sorted(t["number"] for t in trials["trials"]) == list(range(n))
    assert result["best_params"] == trials["best_params"] and 0.0 <= result["test_accuracy"] <= 1.0
    assert json.loads((tmp_path / "result.json").read_text())["workers"] == 2


def test_unknown_knobs_and_too_many_workers_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown knobs"):
        tune.study_knobs(n_layers=3)
    with pytest.raises(ValueError, match="cannot keep 5 workers busy"):
        tune.tune(5, storage="sqlite:///unused.db", out_dir=tmp_path, n_trials=4)


def test_a_shared_budget_counts_the_trials_other_workers_already_added():
    """`studies.optimize(..., shared=True)` tops the study up to `n_trials` (another worker's trials count), and a
    worker that arrives once the budget is spent runs none: a fixed share would run 5 more, then 5 again."""
    import optuna

    from impl.isolation import optuna_quiet
    from impl.l4_tuning import studies

    def objective(trial):
        return trial.suggest_float("x", 0.0, 1.0)

    with optuna_quiet():
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(objective, n_trials=3)  # what the other workers ran
        studies.optimize(study, objective, 5, progress=False, shared=True)
        assert len(study.trials) == 5
        studies.optimize(study, objective, 5, progress=False, shared=True)
        assert len(study.trials) == 5
