"""DVC stage `train_models`: Lesson 5's PyTorch networks trained from scratch on mnist5k, exported to ONNX
and quantized by ONNX Runtime.

Pretrained ResNet/MobileNet weights cannot be had offline; these small models stand in for them:
the ResNet-style CNN (`model:cnn_torch`, ~118k parameters), the MLP 784-256-10 (`model:mlp_torch`) and the
MLP 784-512-256-10 of the ORT dynamic-quantization claim. All train with Adam on the 4,000 mnist5k training
images (pixels in [0, 1]).

Writes data/models/l5_quantization/: cnn_torch.pt, mlp_torch.pt, mlp_wide.pt (state_dicts);
cnn_fp32.onnx (dynamic batch axis), cnn_dynamic.onnx (ORT quantize_dynamic, int8 weights),
cnn_static.onnx (ORT quantize_static: QDQ, per-channel int8 weights, int8 activations, MinMax over
`calibration_size` training images); mlp_wide_fp32.onnx and mlp_wide_dynamic.onnx.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

from impl.atomic import atomic_write_bytes
from impl.l5_quantization import models, onnx_tools
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

CNN, MLP, MLP_WIDE = "cnn_torch.pt", "mlp_torch.pt", "mlp_wide.pt"
CNN_ONNX = {"fp32": "cnn_fp32.onnx", "dynamic": "cnn_dynamic.onnx", "static": "cnn_static.onnx"}
MLP_ONNX = {"fp32": "mlp_wide_fp32.onnx", "dynamic": "mlp_wide_dynamic.onnx"}

TINY_KNOBS = {"cnn_epochs": 1, "mlp_epochs": 1, "cnn_widths": [4, 8], "calibration_size": 20}


def _save(model, path: Path) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    atomic_write_bytes(path, buffer.getvalue())


def run(knobs: dict, out_dir: Path) -> dict:
    import torch

    torch.set_num_threads(knobs["num_threads"])
    torch.use_deterministic_algorithms(True)
    out_dir = Path(out_dir)
    X_train, y_train, X_test, y_test = models.mnist5k(knobs["split_seed"])
    x_train, x_test = models.to_nchw(X_train), models.to_nchw(X_test)
    train = dict(lr=knobs["lr"], batch_size=knobs["batch_size"], seed=knobs["seed"], progress=True)
    summary = {}
    nets = {
        "cnn": (models.make_cnn(knobs["seed"], tuple(knobs["cnn_widths"])), knobs["cnn_epochs"], CNN),
        "mlp": (models.make_mlp(knobs["seed"], tuple(knobs["mlp_hidden"])), knobs["mlp_epochs"], MLP),
        "mlp_wide": (models.make_mlp(knobs["seed"], tuple(knobs["mlp_wide_hidden"])), knobs["mlp_epochs"], MLP_WIDE),
    }
    for name, (net, epochs, file) in nets.items():
        losses = models.train(net, x_train, y_train, epochs=epochs, **train)
        _save(net, out_dir / file)
        summary[f"{name}_params"] = models.count_params(net)
        summary[f"{name}_final_loss"] = round(losses[-1], 6)
        summary[f"{name}_test_accuracy"] = models.accuracy(models.predict_logits(net, x_test), y_test)

    calibration = x_train[:knobs["calibration_size"]]
    for name, files in (("cnn", CNN_ONNX), ("mlp_wide", MLP_ONNX)):
        fp32 = onnx_tools.export_onnx(nets[name][0], out_dir / files["fp32"], x_train[:2], opset=knobs["opset"])
        onnx_tools.quantize_dynamic_onnx(fp32, out_dir / files["dynamic"])
        if "static" in files:
            onnx_tools.quantize_static_onnx(fp32, out_dir / files["static"], calibration)
        for variant, file in files.items():
            session = onnx_tools.make_session(out_dir / file)
            scores = onnx_tools.predict(session, x_test)
            summary[f"{name}_onnx_{variant}_accuracy"] = models.accuracy(scores, y_test)
            summary[f"{name}_onnx_{variant}_bytes"] = (out_dir / file).stat().st_size
    return summary


main = stage_main(run, "l5_quantization", "train")

if __name__ == "__main__":
    sys.exit(main())
