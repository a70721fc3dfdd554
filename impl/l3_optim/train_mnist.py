"""DVC stage `train_mnist`: the lesson's MLP (784-128-10) trained with Adam on real MNIST.

Writes data/models/l3_optim/mnist_mlp.pt (state_dict) and mnist_curves.json (one row per
epoch: train loss, test loss and test accuracy on the official 10k test set; a DVC plot).
Epoch wall times go to the stage's metrics, so both outputs reproduce bit for bit.
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.atomic import atomic_save_torch, atomic_write_json
from impl.isolation import torch_state
from impl.l3_optim import mlp, mnist_data
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MODEL_NAME, CURVES_NAME = "mnist_mlp.pt", "mnist_curves.json"

TINY_KNOBS = {"train_size": 200, "num_epochs": 1}  # seconds, for the tiny-knob stage test


def run(knobs: dict, out_dir: Path) -> dict:
    # Threads and deterministic kernels fixed so outputs reproduce; restored after (the tiny-knob test runs
    # this in-process).
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, out_dir)


def _run(knobs: dict, out_dir: Path) -> dict:
    X, y, X_test, y_test = mnist_data.train_test_tensors(knobs["train_size"], knobs["split_seed"])
    model = mlp.make_mlp(knobs["seed"], knobs["hidden"])
    optimizer = mlp.make_optimizer("adam", model.parameters(), knobs["lr"])
    curves = mlp.train(model, optimizer, X, y, batch_size=knobs["batch_size"], num_epochs=knobs["num_epochs"],
                       seed=knobs["seed"], X_eval=X_test, y_eval=y_test, progress=True)
    atomic_save_torch(Path(out_dir) / MODEL_NAME, model.state_dict())
    rows = [{"epoch": e + 1, "train_loss": curves.train_loss[e], "test_loss": curves.test_loss[e],
             "test_accuracy": curves.test_accuracy[e]} for e in range(len(curves.train_loss))]
    atomic_write_json(Path(out_dir) / CURVES_NAME, rows)
    return {"train_size": len(X), "test_size": len(X_test), "num_epochs": knobs["num_epochs"],
            "test_accuracy": curves.test_accuracy[-1], "train_seconds": sum(curves.epoch_seconds)}


main = stage_main(run, "l3_optim", "mnist")

if __name__ == "__main__":
    sys.exit(main())
