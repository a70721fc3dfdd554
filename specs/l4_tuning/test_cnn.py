import json

import pytest

from impl.l4_tuning import cifar_cnn, studies
from impl.pipeline import artifacts, params
from specs.l4_tuning.study_plots import plot_study

MODELS = "data/models/l4_tuning"


def _json(name: str):
    return json.loads(artifacts.require(f"{MODELS}/{name}").read_text())


@pytest.mark.cpu
@pytest.mark.slow
def test_cifar(claim):
    """Optuna tunes the lesson's CIFAR-10 CNN and its choice generalises: a TPE study (seeded) over
    depth {2, 3} conv blocks, first-block width {16, 32}, lr log-uniform in [1e-4, 1e-1], dropout in
    [0, 0.5] and optimizer {SGD with momentum, Adam}, with MedianPruner on per-epoch validation
    accuracy, finds a configuration whose validation accuracy is >= 0.30 (3x chance), and that
    configuration retrained with a new seed scores test accuracy >= its validation accuracy - 0.05.
    Quick profile: 5,000 training / 1,000 validation images (a stratified split of the 50,000
    training images), 8 trials x 3 epochs; full: 45,000 / 5,000, 50 trials x 10 epochs. Test: the
    first 1,000 official test images, read once, after the study.

    Tuned by the DVC stage `tune_cnn`; no accuracy is taken from its logs: the study's best trial's
    saved weights are re-evaluated on the validation images (the best validation accuracy judged here)
    and the retrained model's on the validation and test images, each agreeing with what the stage logged.
    Course: Lesson 4, setting up and running Optuna for CNNs on CIFAR-10.
    """
    import torch

    from impl.data import cifar10
    from impl.isolation import torch_state
    from impl.l3_optim import mlp

    knobs = params.knobs("l4_tuning", "cnn")
    claim.use_seed(knobs["seed"])        # TPE, init, shuffling and dropout of every trial
    claim.use_seed(knobs["final_seed"])  # the retrained choice
    export, result = _json("cnn_trials.json"), _json("cnn_test.json")
    chosen = cifar_cnn.CnnConfig(**result["params"])

    def saved_model(name: str):
        model = cifar_cnn.make_cnn(0, chosen.depth, chosen.width, chosen.dropout)  # every weight is then loaded
        model.load_state_dict(torch.load(artifacts.require(f"{MODELS}/{name}"), weights_only=True))
        return model

    _, val = cifar10.train_val(knobs["train_size"], knobs["val_size"], knobs["split_seed"])
    test = cifar10.load("test")
    with torch_state(num_threads=knobs["num_threads"]):  # the stage's thread count: the same float sums
        study_best, retrained = saved_model("cnn_study_best.pt"), saved_model("cnn_best.pt")
        best_val_accuracy, _ = mlp.evaluate(study_best, *cifar_cnn.to_tensors(val.X, val.y))
        retrained_val_accuracy, _ = mlp.evaluate(retrained, *cifar_cnn.to_tensors(val.X, val.y))
        test_accuracy, _ = mlp.evaluate(retrained, *cifar_cnn.to_tensors(test.X, test.y))
    states = [trial["state"] for trial in export["trials"]]
    claim.record(train_size=knobs["train_size"], val_size=knobs["val_size"], test_size=len(test.y), num_epochs=knobs["num_epochs"],
                 n_trials=len(states), complete=states.count("COMPLETE"), pruned=states.count("PRUNED"),
                 chosen=result["params"], chosen_trial=export["best_trial"],
                 best_val_accuracy=best_val_accuracy, retrained_val_accuracy=retrained_val_accuracy,
                 test_accuracy=test_accuracy,
                 importances=export["importances"])
    plot_study(claim, export, what=f"CIFAR-10 CNN ({knobs['train_size']} train images)", value_label="validation accuracy",
               step_label="epoch", x_param="lr", logx=True)
    claim.expect("n_trials", len(states), "==", knobs["n_trials"])  # the budget the knobs state, all run
    # Accuracies are counts over the same images from the same weights: recomputed equals logged exactly.
    claim.expect("saved_vs_logged_best_val_accuracy_gap", abs(best_val_accuracy - export["best_value"]), "==", 0)
    claim.expect("saved_vs_logged_retrained_val_accuracy_gap",
                 abs(retrained_val_accuracy - result["final_val_accuracy"]), "==", 0)
    claim.expect("saved_vs_logged_test_accuracy_gap", abs(test_accuracy - result["test_accuracy"]), "==", 0)
    claim.expect("best_val_accuracy", best_val_accuracy, ">=", "min_best_val_accuracy")
    claim.expect("val_minus_test_accuracy", best_val_accuracy - test_accuracy, "<=", "max_val_minus_test")


@pytest.mark.cpu
def test_test_set_read_once(claim):
    """The tuned CNN's test number is not leaked into its choice: while `tune_cnn`'s study runs the
    test images cannot be read (a read raises, and none was attempted), and after `optimize`
    returns they are read exactly once, to score the chosen configuration; the stage's log is
    study started, study ended, test read, in that order. (The course's script stopped training
    early on the test set, so its test score was part of the selection.)

    The guard is shown to bite: a read inside a sealed study raises and is counted.
    Course: Lesson 4, conducting experiments and evaluating results with Optuna on CIFAR-10.
    """
    guard = studies.HeldOut(lambda: "test images")
    with guard.sealed(), pytest.raises(RuntimeError, match="while the study was running"):
        guard.read()
    claim.expect("sealed_read_refused_and_counted", guard.reads_during_study, "==", 1)
    log = _json("cnn_test.json")["guard"]
    claim.record(events=log["events"])
    claim.expect("reads_during_study", log["reads_during_study"], "==", 0)
    claim.expect("reads_after_study", log["reads_after_study"], "==", 1)
    claim.expect("events_in_order", log["events"] == ["study started", "study ended", "test read"], "==", True)
