import pytest


@pytest.mark.cpu
@pytest.mark.slow
def test_keras_pruning(claim):
    """Tuning a Keras MLP on the digits (12 TPE trials x 8 epochs, seed 0, hidden units and Adam's lr)
    with `MedianPruner(n_startup_trials=4, n_warmup_steps=2)` through a pruning callback (the ten lines
    of optuna-integration's `TFKerasPruningCallback`, which is not installed) prunes at least one trial,
    runs at most 85% of the 96 epochs, and still finds a configuration with validation accuracy >= 0.95.

    Course: Lesson 8, integrating Optuna with TensorFlow.
    """
    import optuna
    import tensorflow as tf

    from impl.l8_production import keras_pruning

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:  # protocol P1 thread counts; TF refuses the change once its runtime is up (then it keeps its own)
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    result = keras_pruning.tune(claim.t["n_trials"], claim.t["num_epochs"], claim.use_seed(0),
                                n_startup_trials=claim.t["n_startup_trials"], n_warmup_steps=claim.t["n_warmup_steps"])
    study = result["study"]
    claim.record(epochs_run=result["epochs_run"], budget=result["budget"], best_params=result["best_params"],
                 states=[t.state.name for t in study.trials])
    claim.plot("Validation accuracy per epoch (pruned trials stop early)", list(range(claim.t["num_epochs"])),
               {f"trial {t.number} ({t.state.name.lower()})": [t.intermediate_values.get(e, float("nan"))
                                                               for e in range(claim.t["num_epochs"])]
                for t in study.trials}, xlabel="epoch", ylabel="val accuracy")
    claim.expect("pruned_trials", result["pruned"], ">=", "min_pruned")
    claim.expect("epoch_fraction", result["epochs_run"] / result["budget"], "<=", "max_epoch_fraction")
    claim.expect("best_val_accuracy", result["best_value"], ">=", "min_best_val_accuracy")
