"""DVC stage `b_cnn_recipe`: the number of epochs of B.cnn.time_to_99's recipe, chosen on validation data.

The recipe (the notes' CNN, Adam with a one-cycle schedule, `cnn_train.train_notes_cnn`) needs as
few epochs as reach 99%; which count does is decided here, never on the test set. A stratified
`val_size` of the 60,000 training images is held out; the rest trains one model per candidate
epoch count, in increasing order, and the first whose validation accuracy clears `target` by
`margin` (a standard error of an accuracy near 0.99 on `val_size` images, so the choice does not
rest on noise alone) is the recipe; later candidates are not trained. If none clears, the largest is
chosen and `cleared` says so. The spec then trains that recipe on all 60,000 images and reads the
official test set once.

Writes data/models/beyond/cnn_recipe.json: every trained candidate's validation accuracy, the
chosen epoch count and the rule's inputs (no timings: those go to the stage's metrics file).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from impl.atomic import atomic_write_json
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

RECIPE_NAME = "cnn_recipe.json"
TINY_KNOBS = {"val_size": 200, "split_seed": 0, "candidate_epochs": [0.05, 0.1], "batch_size": 32, "max_lr": 0.004,
              "target": 0.99, "margin": 0.002, "seed": 0, "num_threads": 1}


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.beyond import cnn_train
    from impl.data import mnist, splits
    from impl.isolation import torch_state

    arrays = mnist.read_prepared()  # data/prepared/mnist.npz, a dep of this stage; the test images are not read
    X, y = arrays["X_train"], arrays["y_train"]
    val = splits.stratified_indices(y, knobs["val_size"], knobs["split_seed"])
    fit = np.setdiff1d(np.arange(len(y)), val)
    accuracy, chosen = {}, None
    with torch_state(num_threads=knobs["num_threads"]):
        for epochs in sorted(float(e) for e in knobs["candidate_epochs"]):
            model = cnn_train.train_notes_cnn(X[fit], y[fit], epochs, knobs["batch_size"], knobs["max_lr"],
                                              seed=knobs["seed"]).model
            accuracy[repr(epochs)] = cnn_train.accuracy(model, X[val], y[val])
            if accuracy[repr(epochs)] >= knobs["target"] + knobs["margin"]:
                chosen = epochs
                break
    cleared = chosen is not None
    chosen = chosen if cleared else max(float(e) for e in knobs["candidate_epochs"])
    recipe = {"val_accuracy": accuracy, "num_epochs": chosen, "cleared": cleared, "num_fit": int(len(fit)),
              "num_val": int(len(val)), "target": knobs["target"], "margin": knobs["margin"],
              "batch_size": knobs["batch_size"], "max_lr": knobs["max_lr"], "seed": knobs["seed"]}
    atomic_write_json(Path(out_dir) / RECIPE_NAME, recipe)
    return {"num_epochs": chosen, "cleared": cleared, **{f"val_accuracy_{k}": v for k, v in accuracy.items()}}


main = stage_main(run, "beyond", "cnn_recipe")

if __name__ == "__main__":
    raise SystemExit(main())
