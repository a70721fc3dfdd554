"""DVC stage `tune_cnn`: an Optuna study of the lesson's CIFAR-10 CNN, then one test-set read by its choice.

Search space (knobs `cnn` in impl/l4_tuning/params.yaml): depth, width, lr (log-uniform), dropout,
optimizer. TPE (seeded) proposes; MedianPruner stops a trial whose validation accuracy after an
epoch is below the median of earlier trials at that epoch. Validation is a stratified split of the
training images (`cifar10.train_val`): the study never sees the test images. Only after
`optimize` returns is the chosen configuration retrained with a new seed and the 1,000 test
images read, once, through a `HeldOut` guard that raises on any read while the study runs
(the course's script stopped early on the test set; this stage cannot).

Writes data/models/l4_tuning/: cnn_trials.json (every trial: number, state, params, per-epoch
validation accuracy, value; fANOVA importances), cnn_history.json (one row per trial: a DVC plot),
cnn_study_best.pt (the state_dict of the study's best trial as it was scored, so a spec can recompute
the best validation accuracy from weights), cnn_best.pt (the retrained model's state_dict) and
cnn_test.json (chosen config, test accuracy, the guard's read log).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.atomic import atomic_save_torch, atomic_write_bytes, atomic_write_json, torch_bytes
from impl.isolation import torch_state
from impl.l3_optim import mlp
from impl.l4_tuning import cifar_cnn, studies
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TRIALS_NAME, HISTORY_NAME, MODEL_NAME, TEST_NAME = "cnn_trials.json", "cnn_history.json", "cnn_best.pt", "cnn_test.json"
STUDY_BEST_NAME = "cnn_study_best.pt"
STUDY = "l4_tuning.tune_cnn"

TINY_KNOBS = {"train_size": 200, "val_size": 100, "n_trials": 2, "num_epochs": 1, "depths": [1], "widths": [4],
              "n_startup_trials": 1, "pruner_startup_trials": 1}


def suggest(trial, knobs: dict) -> cifar_cnn.CnnConfig:
    return cifar_cnn.CnnConfig(
        depth=trial.suggest_categorical("depth", knobs["depths"]),
        width=trial.suggest_categorical("width", knobs["widths"]),
        dropout=trial.suggest_float("dropout", *knobs["dropout"]),
        optimizer=trial.suggest_categorical("optimizer", knobs["optimizers"]),
        lr=trial.suggest_float("lr", *knobs["lr"], log=True),
    )


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.data import cifar10

    # Threads fixed (float reductions may round differently per thread count) and deterministic kernels;
    # both restored on return, since a test may call run() in its own process.
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        train, val = cifar10.train_val(knobs["train_size"], knobs["val_size"], knobs["split_seed"])
        X, y = cifar_cnn.to_tensors(train.X, train.y)
        X_val, y_val = cifar_cnn.to_tensors(val.X, val.y)
        held_out = studies.HeldOut(lambda: cifar10.load("test"))
        fit = dict(num_epochs=knobs["num_epochs"], batch_size=knobs["batch_size"])
        study_best: dict = {}  # the best complete trial so far: number, value, weights as scored

        def objective(trial) -> float:
            def report(epoch, curves) -> bool:
                studies.report_or_prune(trial, curves.test_accuracy[-1], epoch + 1)
                return False

            model, curves = cifar_cnn.train_cnn(suggest(trial, knobs), X, y, X_val, y_val, seed=knobs["seed"],
                                                on_epoch=report, **fit)
            value = curves.test_accuracy[-1]
            if not study_best or value > study_best["value"]:  # strict: Optuna's best trial is the first best
                study_best.update(number=trial.number, value=value, weights=torch_bytes(model.state_dict()))
            return value

        export = studies.run_study(f"{STUDY}@{Path(out_dir).resolve()}", objective, knobs,
                                   direction="maximize", held_out=held_out)
        if study_best["number"] != export["best_trial"]:
            raise RuntimeError(f"kept trial {study_best['number']}'s weights; the study's best is trial "
                               f"{export['best_trial']}")
        # The study is over: retrain its choice with a new seed, then read the test set once.
        chosen = cifar_cnn.CnnConfig(**export["best_params"])
        model, curves = cifar_cnn.train_cnn(chosen, X, y, X_val, y_val, seed=knobs["final_seed"], **fit)
        test = held_out.read()
        test_accuracy, test_loss = mlp.evaluate(model, *cifar_cnn.to_tensors(test.X, test.y))

    atomic_write_bytes(Path(out_dir) / STUDY_BEST_NAME, study_best["weights"])
    atomic_save_torch(Path(out_dir) / MODEL_NAME, model.state_dict())
    _write(out_dir, TRIALS_NAME, export)
    _write(out_dir, HISTORY_NAME, studies.history(export))
    _write(out_dir, TEST_NAME, {
        "params": export["best_params"], "best_trial": export["best_trial"], "best_val_accuracy": export["best_value"],
        "final_seed": knobs["final_seed"], "final_val_accuracy": curves.test_accuracy[-1],
        "test_accuracy": test_accuracy, "test_loss": test_loss, "test_size": len(test.y), "guard": held_out.record()})
    states = [t["state"] for t in export["trials"]]
    return {"train_size": len(y), "val_size": len(y_val), "n_trials": len(states), "complete": states.count("COMPLETE"),
            "pruned": states.count("PRUNED"), "best_val_accuracy": export["best_value"], "test_accuracy": test_accuracy,
            "epochs_trained": sum(len(t["intermediate_values"]) for t in export["trials"])}


def _write(out_dir: Path, name: str, content) -> None:
    atomic_write_json(Path(out_dir) / name, content)


main = stage_main(run, "l4_tuning", "cnn")

if __name__ == "__main__":
    sys.exit(main())
