"""DVC stage `train_vs_sgd`: the same MLP trained by Adam and by plain SGD for several seeds.

Writes data/models/l3_optim/vs_sgd.json: per optimizer and seed, the per-epoch curves and the
final full-training-set loss and accuracy (no wall times: they go to the stage's metrics).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from impl.atomic import atomic_write_json
from impl.isolation import torch_state
from impl.l3_optim import mlp, mnist_data
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

OUTPUT_NAME = "vs_sgd.json"
OPTIMIZERS = ("adam", "sgd")

TINY_KNOBS = {"train_size": 200, "num_epochs": 1, "seeds": [0]}  # seconds, for the tiny-knob stage test


def run(knobs: dict, out_dir: Path) -> dict:
    # Threads and deterministic kernels fixed so outputs reproduce; restored after (the tiny-knob test runs
    # this in-process).
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, out_dir)


def _run(knobs: dict, out_dir: Path) -> dict:
    from tqdm import tqdm

    X, y, X_test, y_test = mnist_data.train_test_tensors(knobs["train_size"], knobs["split_seed"])
    runs: dict[str, dict] = {name: {} for name in OPTIMIZERS}
    start = time.perf_counter()
    for seed in tqdm(knobs["seeds"], desc="seeds"):
        for name in OPTIMIZERS:
            model = mlp.make_mlp(seed, knobs["hidden"])
            optimizer = mlp.make_optimizer(name, model.parameters(), knobs[f"{name}_lr"])
            curves = mlp.train(model, optimizer, X, y, batch_size=knobs["batch_size"],
                               num_epochs=knobs["num_epochs"], seed=seed, X_eval=X_test, y_eval=y_test)
            final_accuracy, final_loss = mlp.evaluate(model, X, y)
            runs[name][str(seed)] = {"train_loss": curves.train_loss, "test_accuracy": curves.test_accuracy,
                                     "test_loss": curves.test_loss, "final_train_accuracy": final_accuracy,
                                     "final_train_loss": final_loss}
    record = {"runs": runs, "train_size": len(X), "knobs": knobs}
    atomic_write_json(Path(out_dir) / OUTPUT_NAME, record)
    accuracy = {name: float(np.mean([run["test_accuracy"][-1] for run in runs[name].values()])) for name in OPTIMIZERS}
    return {"mean_test_accuracy": accuracy, "train_seconds": time.perf_counter() - start}


main = stage_main(run, "l3_optim", "vs_sgd")

if __name__ == "__main__":
    sys.exit(main())
