"""DVC stage `train_mnist`: the lesson's MLP (784-128-10) trained with Adam on real MNIST.

Writes data/models/l3_optim/mnist_mlp.pt (state_dict) and mnist_curves.json (one row per
epoch: train loss, test loss and test accuracy on the official 10k test set; a DVC plot).
Epoch wall times go to the stage's metrics, so both outputs reproduce bit for bit.
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.l3_optim import mlp, mnist_data
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MODEL_NAME, CURVES_NAME = "mnist_mlp.pt", "mnist_curves.json"

TINY_KNOBS = {"train_size": 200, "num_epochs": 1}  # seconds, for the tiny-knob stage test


def run(knobs: dict, out_dir: Path) -> dict:
    import torch

    torch.use_deterministic_algorithms(True)
    X, y, X_test, y_test = mnist_data.train_test_tensors(knobs["train_size"], knobs["split_seed"])
    model = mlp.make_mlp(knobs["seed"], knobs["hidden"])
    optimizer = mlp.make_optimizer("adam", model.parameters(), knobs["lr"])
    curves = mlp.train(model, optimizer, X, y, batch_size=knobs["batch_size"], num_epochs=knobs["num_epochs"],
                       seed=knobs["seed"], X_eval=X_test, y_eval=y_test, progress=True)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    atomic_write_bytes(Path(out_dir) / MODEL_NAME, buffer.getvalue())
    rows = [{"epoch": e + 1, "train_loss": curves.train_loss[e], "test_loss": curves.test_loss[e],
             "test_accuracy": curves.test_accuracy[e]} for e in range(len(curves.train_loss))]
    atomic_write_text(Path(out_dir) / CURVES_NAME, json.dumps(rows, indent=1) + "\n")
    return {"train_size": len(X), "test_size": len(X_test), "num_epochs": knobs["num_epochs"],
            "test_accuracy": curves.test_accuracy[-1], "train_seconds": sum(curves.epoch_seconds)}


main = stage_main(run, "l3_optim", "mnist")

if __name__ == "__main__":
    sys.exit(main())
