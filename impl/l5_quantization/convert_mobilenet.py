"""DVC stage `convert_mobilenet`: Keras' MobileNetV2 (alpha 0.35, 96 x 96 x 3, 10 classes) as float32 and
full-integer int8 TFLite.

The network is built with weights=None: ImageNet weights cannot be had offline, and the claim it serves is
about sizes, which the weight values do not change. (Training it from scratch was tried on 5,000 CIFAR-10
images at 32 x 32: chance accuracy after 3 epochs and 47 s, so no accuracy is claimed for it.) The int8
converter is calibrated on the first `representative_size` CIFAR-10 training images, upsampled to 96 x 96.

Writes data/models/l5_quantization/mobilenet_float32.tflite and mobilenet_int8.tflite.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from impl import timing
from impl.atomic import atomic_write_bytes
from impl.l5_quantization import mobilenet, tflite_tools
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

FILES = {"float32": "mobilenet_float32.tflite", "int8": "mobilenet_int8.tflite"}
TINY_KNOBS = {"representative_size": 4, "size": 32}


def run(knobs: dict, out_dir: Path) -> dict:
    """The work runs in a fresh process: TensorFlow's threads are really pinned there, and Keras' global
    seeding stays there (the tiny stage test calls `run` in the test process)."""
    return tflite_tools.in_fresh_process(_convert, dict(knobs), str(out_dir))


def _convert(knobs: dict, out_dir: str) -> dict:
    import keras
    import tensorflow as tf

    threads = timing.pin_tf_threads(1)
    keras.utils.set_random_seed(knobs["seed"])  # the initial weights (global seeding: this is a process of its own)
    from impl.data import cifar10

    size = knobs["size"]
    model = mobilenet.mobilenet_v2(knobs["alpha"], size, 10)
    images = cifar10.load("train").X[: knobs["representative_size"]].transpose(0, 2, 3, 1)
    representative = tf.image.resize(images.astype(np.float32) / 255.0, (size, size)).numpy()
    summary = {"params": int(model.count_params()), "tf_threads": threads}
    for variant, file in FILES.items():
        content = tflite_tools.convert_keras(model, variant, representative if variant == "int8" else None)
        atomic_write_bytes(Path(out_dir) / file, content)
        summary[f"{variant}_bytes"] = len(content)
    return summary


main = stage_main(run, "l5_quantization", "mobilenet")

if __name__ == "__main__":
    sys.exit(main())
