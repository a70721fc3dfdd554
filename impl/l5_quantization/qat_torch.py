"""DVC stage `qat_torch`: quantization-aware training of `model:mlp_torch` on the W3A4 and W2A4 grids, and
its control, over several seeds.

QAT here is `fakequant.LowBitMLP` (per-channel symmetric weights, unsigned activations whose ranges are
calibrated once on the float model) trained for `epochs` with Adam from the float weights. Training
for more epochs can raise accuracy on its own, so "QAT recovers the accuracy PTQ loses" is judged against
a control: the same float model trained for the same epochs, with the same optimizer, rate and batch
order (seed), without fake quantization. The specs recompute every accuracy from the saved weights.

Writes data/models/l5_quantization/mlp_qat.pt: a dict (loadable with `weights_only=True`) holding
`act_max` (the calibrated activation ranges, one per Linear layer, shared by PTQ and every QAT run),
`control/seed<k>` and `qat_w<w>a<a>/seed<k>` (state_dicts of the wrapped MLP).
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

from impl.atomic import atomic_save_torch
from impl.isolation import torch_state
from impl.l5_quantization import fakequant, models
from impl.l5_quantization.train_models import MLP
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

QAT_FILE = "mlp_qat.pt"
TINY_KNOBS = {"seeds": [0], "num_epochs": 1, "calibration_size": 20}


def grid_key(weight_bits: int, act_bits: int) -> str:
    return f"qat_w{weight_bits}a{act_bits}"


def run(knobs: dict, out_dir: Path) -> dict:
    """torch's threads and deterministic mode are restored after the run (the tiny stage test runs it in-process)."""
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, Path(out_dir))


def _run(knobs: dict, out_dir: Path) -> dict:
    import torch

    from impl.pipeline import artifacts

    float_net = models.load_state(artifacts.require(f"data/models/l5_quantization/{MLP}"))
    X_train, y_train, X_test, y_test = models.mnist5k(knobs["split_seed"])
    x_train, x_test = models.to_nchw(X_train), models.to_nchw(X_test)
    calibration = torch.from_numpy(x_train[:knobs["calibration_size"]])
    act_max = fakequant.LowBitMLP(copy.deepcopy(float_net), calibration).act_max
    train = dict(epochs=knobs["num_epochs"], lr=knobs["lr"], batch_size=knobs["batch_size"])
    saved, summary = {"act_max": torch.tensor(act_max, dtype=torch.float64)}, {}
    for seed in knobs["seeds"]:
        control = copy.deepcopy(float_net)
        models.train(control, x_train, y_train, seed=seed, **train)
        saved[f"control/seed{seed}"] = control.state_dict()
        summary[f"control_seed{seed}_accuracy"] = top1_accuracy(models.predict_logits(control, x_test), y_test)
        for weight_bits, act_bits in knobs["grids"]:
            qat = fakequant.LowBitMLP(copy.deepcopy(float_net), weight_bits=weight_bits, act_bits=act_bits,
                                      act_max=act_max)
            models.train(qat.module, x_train, y_train, seed=seed, **train)
            key = grid_key(weight_bits, act_bits)
            saved[f"{key}/seed{seed}"] = qat.mlp.state_dict()
            summary[f"{key}_seed{seed}_accuracy"] = top1_accuracy(models.predict_logits(qat.module, x_test), y_test)
    atomic_save_torch(out_dir / QAT_FILE, saved)
    return summary


main = stage_main(run, "l5_quantization", "qat")

if __name__ == "__main__":
    sys.exit(main())
