"""DVC stage `convert_onnx_fp16`: the trained CNN's ONNX file with float16 weights and arithmetic.

`onnx_tools.to_float16` (onnxconverter-common) converts `cnn_fp32.onnx`, keeping float32 input and
output, so the fp16 row of the comparison table is the same trained network as every other row.

Writes data/models/l5_quantization/cnn_fp16.onnx.
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl import onnx_tools
from impl.l5_quantization import models
from impl.l5_quantization.train_models import CNN_ONNX
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

FP16 = "cnn_fp16.onnx"
TINY_KNOBS: dict = {}


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.pipeline import artifacts

    source = artifacts.require(f"data/models/l5_quantization/{CNN_ONNX['fp32']}")
    target = onnx_tools.to_float16(source, Path(out_dir) / FP16)
    _, _, X_test, y_test = models.mnist5k(knobs["split_seed"])
    x_test = models.to_nchw(X_test)
    summary = {}
    for variant, path in {"fp32": source, "fp16": target}.items():
        session = onnx_tools.make_session(path, threads=1)
        summary[f"{variant}_accuracy"] = top1_accuracy(onnx_tools.predict(session, x_test), y_test)
        summary[f"{variant}_bytes"] = path.stat().st_size
    return summary


main = stage_main(run, "l5_quantization", "onnx_fp16")

if __name__ == "__main__":
    sys.exit(main())
