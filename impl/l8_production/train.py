"""DVC stage `train`: the lesson's MLP (784-512-256-10) on the train split, exported to ONNX.

Adam with seeded init and shuffling, torch's deterministic algorithms and a fixed thread count, so
a rerun writes the same bytes. Writes data/models/l8_production/mlp.pt (state_dict) and
model_fp32.onnx (the deployed float model: float32 pixels [N, 1, 28, 28] in [0, 1] -> logits).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.atomic import atomic_write_bytes, torch_bytes
from impl.isolation import torch_state
from impl.l3_optim import mlp as l3
from impl.l8_production import artifacts, model
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS = {"hidden": [16, 8], "num_epochs": 1}


def run(knobs: dict, out_dir: Path) -> dict:
    # One fixed thread count and deterministic kernels, restored on return (a test may call run() in-process).
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        data = artifacts.load_arrays("splits")
        X, y = l3.to_tensors(data["X_train"], data["y_train"])
        X_val, y_val = l3.to_tensors(data["X_val"], data["y_val"])
        net = model.make_mlp(knobs["seed"], tuple(knobs["hidden"]))
        optimizer = l3.make_optimizer("adam", net.parameters(), knobs["lr"])
        curves = l3.train(net, optimizer, X, y, batch_size=knobs["batch_size"], num_epochs=knobs["num_epochs"],
                          seed=knobs["seed"], X_eval=X_val, y_eval=y_val, progress=True)
        weights = torch_bytes(net.state_dict())
        onnx_bytes = model.export_onnx(net, doc="MNIST MLP 784-512-256-10 (Lesson 8), float32")
    atomic_write_bytes(Path(out_dir) / artifacts.FILES["weights"], weights)
    atomic_write_bytes(Path(out_dir) / artifacts.FILES["fp32"], onnx_bytes)
    return {"val_accuracy": curves.test_accuracy[-1], "train_loss": curves.train_loss[-1],
            "parameters": int(sum(p.numel() for p in net.parameters()))}


main = stage_main(run, "l8_production", "train")

if __name__ == "__main__":
    sys.exit(main())
