"""Optuna with TensorFlow/Keras: a pruning callback that stops unpromising trials between epochs.

`PruningCallback` is the ten lines optuna-integration's `TFKerasPruningCallback` amounts to (that
package is not installed here): after each epoch it reports the monitored validation metric to the
trial and raises `optuna.TrialPruned` when the pruner says so, which ends `model.fit` and marks
the trial PRUNED. The study tunes a Keras MLP (64-h-10, Adam) on the sklearn digits.

`tune_in_subprocess` runs `tune` in a fresh Python process (`python -m impl.l8_production.keras_pruning`)
whose TensorFlow thread pools are pinned before TensorFlow starts: TF fixes its pools at its first op
and refuses a change afterwards, so pinning inside a process that already ran TF would silently not
happen, and the Keras seeding (`keras.utils.set_random_seed`: Python's, NumPy's and TF's global
generators) stays in that process.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from impl import timing
from impl.checks import as_float, as_int, as_seed, as_str
from impl.isolation import global_rngs_preserved, optuna_quiet

__all__ = ["MAX_TRIALS", "make_callback", "tune", "tune_in_subprocess"]

MAX_TRIALS = 1_000


def make_callback(trial, monitor: str = "val_accuracy", counter: list | None = None):
    """A keras Callback reporting `logs[monitor]` after each epoch (step = epoch, 0-based) and raising
    optuna.TrialPruned when `trial.should_prune()`. Appends 1 to `counter` per epoch run."""
    import keras
    import optuna

    if not isinstance(trial, optuna.trial.Trial):
        raise TypeError(f"trial must be an optuna.trial.Trial, got {type(trial).__name__}")
    monitor = as_str(monitor, "monitor")
    if counter is not None and not isinstance(counter, list):
        raise TypeError(f"counter must be a list or None, got {type(counter).__name__}")

    class PruningCallback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if counter is not None:
                counter.append(1)
            value = (logs or {}).get(monitor)
            if value is None:
                raise ValueError(f"monitor {monitor!r} is not among the epoch's logs {sorted(logs or {})}")
            trial.report(float(value), step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch} with {monitor} {value:.4f}")

    return PruningCallback()


def tune(n_trials: int, num_epochs: int, seed: int, *, n_startup_trials: int = 4, n_warmup_steps: int = 2,
         batch_size: int = 64) -> dict[str, Any]:
    """A TPE study (seeded) with MedianPruner over hidden units {16, 32, 64, 128} and Adam's lr (log-uniform
    in [1e-4, 3e-2]), maximising validation accuracy on the digits. Returns the study, the epochs run
    by every trial together and the budget (n_trials x num_epochs)."""
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    seed = as_seed(seed)
    n_startup_trials = as_int(n_startup_trials, "n_startup_trials", minimum=0, maximum=MAX_TRIALS)
    n_warmup_steps = as_int(n_warmup_steps, "n_warmup_steps", minimum=0, maximum=1000)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=10_000)
    import keras
    import optuna

    from impl.l8_production.jax_tuning import digits_split

    X, y, X_val, y_val = digits_split(seed)
    epochs_run: list[int] = []

    def objective(trial) -> float:
        hidden = trial.suggest_categorical("hidden", [16, 32, 64, 128])
        lr = trial.suggest_float("lr", 1e-4, 3e-2, log=True)
        keras.utils.set_random_seed(seed + trial.number)
        net = keras.Sequential([keras.Input((X.shape[1],)), keras.layers.Dense(hidden, activation="relu"),
                                keras.layers.Dense(10, activation="softmax")])
        net.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
        history = net.fit(X, y, validation_data=(X_val, y_val), epochs=num_epochs, batch_size=batch_size,
                          verbose=0, shuffle=True, callbacks=[make_callback(trial, counter=epochs_run)])
        return float(history.history["val_accuracy"][-1])

    pruner = optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    with optuna_quiet(), global_rngs_preserved():  # each trial seeds Keras' (global) generators: put them back
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
        study.optimize(objective, n_trials=n_trials, n_jobs=1)
    states = [t.state.name for t in study.trials]
    return {"study": study, "epochs_run": len(epochs_run), "budget": n_trials * num_epochs,
            "pruned": states.count("PRUNED"), "best_value": study.best_value, "best_params": study.best_params}


def tune_in_subprocess(n_trials: int, num_epochs: int, seed: int, *, n_startup_trials: int = 4,
                       n_warmup_steps: int = 2, batch_size: int = 64, num_threads: int = 2,
                       timeout_s: float = 1800.0) -> dict[str, Any]:
    """`tune` in a new process with TensorFlow on `num_threads` intra-op threads and one inter-op thread.
    Returns plain data: epochs_run, budget, pruned, best_value, best_params, and per trial its number,
    state and intermediate values ([[epoch, value], ...])."""
    args = dict(n_trials=as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS),
                num_epochs=as_int(num_epochs, "num_epochs", minimum=1, maximum=1000),
                seed=as_seed(seed),
                n_startup_trials=as_int(n_startup_trials, "n_startup_trials", minimum=0, maximum=MAX_TRIALS),
                n_warmup_steps=as_int(n_warmup_steps, "n_warmup_steps", minimum=0, maximum=1000),
                batch_size=as_int(batch_size, "batch_size", minimum=1, maximum=10_000),
                num_threads=as_int(num_threads, "num_threads", minimum=1, maximum=256))
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=86400.0, low_open=True)
    from impl import paths

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(paths.ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "impl.l8_production.keras_pruning", json.dumps(args)], cwd=paths.ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"the Keras tuning process exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tune_in_subprocess`: pin TensorFlow's threads in this fresh process, tune, print JSON."""
    parser = argparse.ArgumentParser(description=tune_in_subprocess.__doc__.split("\n")[0])
    parser.add_argument("arguments", help="tune_in_subprocess's arguments as a JSON object")
    args = json.loads(parser.parse_args(argv).arguments)
    # A fresh process: TF has run no op yet, so the pools can still be set (a RuntimeError here is a bug).
    tf_threads = timing.pin_tf_threads(args.pop("num_threads"))
    result = tune(args.pop("n_trials"), args.pop("num_epochs"), args.pop("seed"), **args)
    trials = [{"number": t.number, "state": t.state.name,
               "intermediate_values": sorted([int(step), float(v)] for step, v in t.intermediate_values.items())}
              for t in result.pop("study").trials]
    print(json.dumps({**result, "trials": trials,
                      "tf_threads": [tf_threads["intra_op"], tf_threads["inter_op"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
