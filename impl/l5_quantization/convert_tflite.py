"""DVC stage `convert_tflite`: the trained CNN in Keras (`model:cnn_keras`) and its four TFLite variants.

The Keras network is `keras_models.build_cnn_keras` with the weights of `cnn_torch.pt` carried across,
so the TFLite and ONNX toolchains quantize the same trained model. Conversions (`tflite_tools`):
float32 (no optimizations), float16, dynamic-range and full-integer int8 (calibrated on the first
`representative_size` mnist5k training images, int8 input and output).

Writes data/models/l5_quantization/cnn_float32.tflite, cnn_float16.tflite, cnn_dynamic.tflite and
cnn_int8.tflite. The Keras model itself is rebuilt from cnn_torch.pt wherever it is needed (a `.keras`
zip would carry timestamps, and outputs here reproduce bit for bit).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl import timing
from impl.atomic import atomic_write_bytes
from impl.l5_quantization import keras_models, models, tflite_tools
from impl.l5_quantization.train_models import CNN
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

TFLITE = {variant: f"cnn_{variant}.tflite" for variant in tflite_tools.VARIANTS}
TINY_KNOBS = {"representative_size": 10}


def cnn_weights() -> Path:
    """The path of `cnn_torch.pt`, brought up to date by `train_models`."""
    from impl.pipeline import artifacts

    return artifacts.require(f"data/models/l5_quantization/{CNN}")


def keras_cnn(*, legacy: bool = False, weights: str | Path | None = None):
    """The Keras CNN with the trained weights of `cnn_torch.pt` (at `weights`, default: brought up to date)."""
    net = models.load_state(cnn_weights() if weights is None else weights)
    return keras_models.carry_weights(net, keras_models.build_cnn_keras(models.cnn_widths(net), legacy=legacy))


def run(knobs: dict, out_dir: Path) -> dict:
    """The conversions run in a fresh process, where TensorFlow's threads are really pinned (and from
    which no TF state reaches the caller: the tiny stage test calls `run` in the test process)."""
    return tflite_tools.in_fresh_process(_convert, dict(knobs), str(out_dir), str(cnn_weights()))


def _convert(knobs: dict, out_dir: str, weights: str) -> dict:
    threads = timing.pin_tf_threads(1)
    model = keras_cnn(weights=weights)
    X_train, _, X_test, y_test = models.mnist5k(knobs["split_seed"])
    representative = models.to_nhwc(X_train[:knobs["representative_size"]])
    x_test = models.to_nhwc(X_test)
    summary = {"keras_accuracy": top1_accuracy(model.predict(x_test, verbose=0), y_test), "tf_threads": threads}
    for variant, file in TFLITE.items():
        content = tflite_tools.convert_keras(model, variant, representative if variant == "int8" else None)
        atomic_write_bytes(Path(out_dir) / file, content)
        runner = tflite_tools.TFLiteRunner(content)
        summary[f"{variant}_accuracy"] = top1_accuracy(runner(x_test), y_test)
        summary[f"{variant}_bytes"] = len(content)
    return summary


main = stage_main(run, "l5_quantization", "tflite")

if __name__ == "__main__":
    sys.exit(main())
