"""DVC stage `train_models`: Lesson 5's PyTorch networks trained from scratch on mnist5k, exported to ONNX
and quantized by ONNX Runtime.

Pretrained ResNet/MobileNet weights cannot be had offline; these small models stand in for them:
the ResNet-style CNN (`model:cnn_torch`, ~118k parameters), the MLP 784-256-10 (`model:mlp_torch`) and the
MLP 784-512-256-10 of the ORT dynamic-quantization claim. All train with Adam on the 4,000 mnist5k training
images (pixels in [0, 1]) to convergence: the learning rate decays to 0 on a cosine over the epochs, and
after every epoch the model is scored on 1,000 validation images (`models.mnist_validation`, never the
test set), so the curve shows where it settled. The epoch counts were chosen on that curve: the CNN's
validation accuracy is flat (within a few tenths of a point) over its last epochs, the MLPs' too, and
more epochs do not raise it (the QAT claims also fine-tune a control to check this).

Writes data/models/l5_quantization/: cnn_torch.pt, mlp_torch.pt, mlp_wide.pt (state_dicts);
cnn_fp32.onnx (dynamic batch axis), cnn_dynamic.onnx (ORT quantize_dynamic, int8 weights),
cnn_static.onnx (ORT quantize_static: QDQ, per-channel int8 weights, 7-bit on a CPU without a VNNI/AMX
int8 dot product as ORT advises (`int8_cpu.static_reduce_range`, recorded in the metrics), int8 activations,
MinMax over `calibration_size` training images); mlp_wide_fp32.onnx and mlp_wide_dynamic.onnx; train_curves.json
(per net and epoch: training loss, validation loss and accuracy).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl import onnx_tools
from impl.atomic import atomic_save_torch, atomic_write_json
from impl.isolation import torch_state
from impl.l5_quantization import int8_cpu, models
from impl.pipeline import hardware
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

CNN, MLP, MLP_WIDE, CURVES = "cnn_torch.pt", "mlp_torch.pt", "mlp_wide.pt", "train_curves.json"
CNN_ONNX = {"fp32": "cnn_fp32.onnx", "dynamic": "cnn_dynamic.onnx", "static": "cnn_static.onnx"}
MLP_ONNX = {"fp32": "mlp_wide_fp32.onnx", "dynamic": "mlp_wide_dynamic.onnx"}

TINY_KNOBS = {"cnn_epochs": 1, "mlp_epochs": 1, "cnn_widths": [4, 8], "calibration_size": 20, "val_size": 50}


def _save(model, path: Path) -> None:
    atomic_save_torch(path, model.state_dict())


def run(knobs: dict, out_dir: Path) -> dict:
    """torch's threads and deterministic mode are set for the run and restored after it (the tiny stage
    test calls `run` inside the test process)."""
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, Path(out_dir))


def _train_with_curve(net, epochs: int, data: tuple, train: dict) -> tuple[list[float], list[dict]]:
    x_train, y_train, x_val, y_val = data
    curve = []

    def score(epoch: int, loss: float) -> None:
        logits = models.predict_logits(net, x_val)
        curve.append({"epoch": epoch, "train_loss": round(loss, 6),
                      "val_loss": round(models.log_loss(logits, y_val), 6),
                      "val_accuracy": top1_accuracy(logits, y_val)})

    losses = models.train(net, x_train, y_train, epochs=epochs, on_epoch=score, **train)
    return losses, curve


def _run(knobs: dict, out_dir: Path) -> dict:
    X_train, y_train, X_test, y_test = models.mnist5k(knobs["split_seed"])
    X_val, y_val = models.mnist_validation(knobs["split_seed"], knobs["val_size"])
    x_train, x_test = models.to_nchw(X_train), models.to_nchw(X_test)
    data = (x_train, y_train, models.to_nchw(X_val), y_val)
    train = dict(lr=knobs["lr"], batch_size=knobs["batch_size"], seed=knobs["seed"], schedule=knobs["schedule"],
                 progress=True)
    summary, curves = {}, {}
    nets = {
        "cnn": (models.make_cnn(knobs["seed"], tuple(knobs["cnn_widths"])), knobs["cnn_epochs"], CNN),
        "mlp": (models.make_mlp(knobs["seed"], tuple(knobs["mlp_hidden"])), knobs["mlp_epochs"], MLP),
        "mlp_wide": (models.make_mlp(knobs["seed"], tuple(knobs["mlp_wide_hidden"])), knobs["mlp_epochs"], MLP_WIDE),
    }
    for name, (net, epochs, file) in nets.items():
        losses, curves[name] = _train_with_curve(net, epochs, data, train)
        _save(net, out_dir / file)
        summary[f"{name}_params"] = models.count_params(net)
        summary[f"{name}_final_loss"] = round(losses[-1], 6)
        summary[f"{name}_val_accuracy"] = curves[name][-1]["val_accuracy"]
        summary[f"{name}_test_accuracy"] = top1_accuracy(models.predict_logits(net, x_test), y_test)
    atomic_write_json(out_dir / CURVES, curves)

    calibration = x_train[:knobs["calibration_size"]]
    reduce_range = int8_cpu.static_reduce_range(hardware.cpu_info()["cpu_flags"])  # 7-bit weights without VNNI
    summary["cnn_static_reduce_range"] = reduce_range
    for name, files in (("cnn", CNN_ONNX), ("mlp_wide", MLP_ONNX)):
        fp32 = onnx_tools.export(nets[name][0], x_train[:2], out_dir / files["fp32"], exporter="dynamo",
                                 opset=knobs["opset"])
        onnx_tools.quantize_dynamic(fp32, out_dir / files["dynamic"], per_channel=False, preprocess=True)
        if "static" in files:
            onnx_tools.quantize_static(fp32, calibration, out_dir / files["static"], method="MinMax", per_channel=True,
                                       reduce_range=reduce_range, preprocess=True, batch_size=50)
        for variant, file in files.items():
            session = onnx_tools.make_session(out_dir / file)
            scores = onnx_tools.predict(session, x_test)
            summary[f"{name}_onnx_{variant}_accuracy"] = top1_accuracy(scores, y_test)
            summary[f"{name}_onnx_{variant}_bytes"] = (out_dir / file).stat().st_size
    return summary


main = stage_main(run, "l5_quantization", "train")

if __name__ == "__main__":
    sys.exit(main())
