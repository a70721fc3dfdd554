"""Optuna with TensorFlow/Keras: a pruning callback that stops unpromising trials between epochs.

`PruningCallback` is the ten lines optuna-integration's `TFKerasPruningCallback` amounts to (that
package is not installed here): after each epoch it reports the monitored validation metric to the
trial and raises `optuna.TrialPruned` when the pruner says so, which ends `model.fit` and marks
the trial PRUNED. The study tunes a Keras MLP (64-h-10, Adam) on the sklearn digits.
"""
from __future__ import annotations

from typing import Any

from impl.checks import as_int, as_str

__all__ = ["MAX_TRIALS", "make_callback", "tune"]

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
    seed = as_int(seed, "seed", minimum=0, maximum=2**32 - 1)
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
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    study.optimize(objective, n_trials=n_trials, n_jobs=1)
    states = [t.state.name for t in study.trials]
    return {"study": study, "epochs_run": len(epochs_run), "budget": n_trials * num_epochs,
            "pruned": states.count("PRUNED"), "best_value": study.best_value, "best_params": study.best_params}
