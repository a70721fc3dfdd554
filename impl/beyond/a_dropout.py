"""DVC stage `a_dropout`: the same MLP trained without dropout, with dropout 0.5 after each hidden layer,
and with Hinton et al.'s stronger recipe (also dropout 0.2 on the pixels) on a 1,000-image MNIST subset,
for several seeds, with per-epoch train / validation / test curves.

Writes data/models/beyond/dropout_curves.json (curves only; wall times go to the stage's metrics)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from impl.atomic import atomic_write_json
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

OUTPUT_NAME = "dropout_curves.json"
TINY_KNOBS = {"train_size": 100, "val_size": 50, "test_size": 100, "hidden": 16,
              "arms": {"0.0": [0.0, 0.0], "0.5": [0.0, 0.5], "input0.2_hidden0.5": [0.2, 0.5]},
              "num_epochs": 2, "batch_size": 32, "lr": 0.001, "seeds": [0], "split_seed": 0, "num_threads": 1}


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.isolation import torch_state

    with torch_state(num_threads=knobs["num_threads"], deterministic=True):  # restored after (run is called in-process by a test)
        return _run(knobs, Path(out_dir))


def _run(knobs: dict, out_dir: Path) -> dict:
    from tqdm import tqdm

    from impl.beyond import dropout_mlp
    from impl.data import mnist
    from impl.l3_optim.mlp import to_tensors

    pool = mnist.subset("train", knobs["train_size"] + knobs["val_size"], knobs["split_seed"])
    order = np.random.default_rng(knobs["split_seed"]).permutation(len(pool.y))
    train, val = order[: knobs["train_size"]], order[knobs["train_size"]:]
    test = mnist.subset("test", knobs["test_size"], knobs["split_seed"])
    data = {"train": to_tensors(pool.X[train], pool.y[train]), "val": to_tensors(pool.X[val], pool.y[val]),
            "test": to_tensors(test.X, test.y)}
    runs: dict[str, dict] = {}
    start = time.perf_counter()
    for seed in tqdm(knobs["seeds"], desc="seeds"):
        for arm, (input_dropout, hidden_dropout) in knobs["arms"].items():
            model = dropout_mlp.make_mlp(knobs["hidden"], hidden_dropout, seed, input_dropout=input_dropout)
            curves = dropout_mlp.train_curves(model, data, num_epochs=knobs["num_epochs"], batch_size=knobs["batch_size"],
                                              lr=knobs["lr"], seed=seed, progress=True)
            runs.setdefault(arm, {})[str(seed)] = curves
    record = {"runs": runs, "sizes": {k: int(len(v[1])) for k, v in data.items()}, "knobs": knobs}
    atomic_write_json(Path(out_dir) / OUTPUT_NAME, record)
    final = {d: float(np.mean([c["test_accuracy"][-1] for c in by_seed.values()])) for d, by_seed in runs.items()}
    return {"mean_final_test_accuracy": final, "train_seconds": time.perf_counter() - start}


main = stage_main(run, "beyond", "dropout")

if __name__ == "__main__":
    sys.exit(main())
