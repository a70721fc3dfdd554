"""DVC stage `qat_tfmot`: quantization-aware training of the CNN with TF Model Optimization.

tfmot works on `tf_keras` (Keras 2) models only, and importing it sets TF_USE_LEGACY_KERAS=1 for the
whole process; this stage does its work in a spawned process of its own, and nothing else of the lesson imports tfmot.
The CNN is built in tf_keras with the trained weights of `cnn_torch.pt`, wrapped by
`tfmot.quantization.keras.quantize_model` (fake-quant on weights and activations, BatchNorm folded),
fine-tuned for `epochs` on the mnist5k training images and converted to a full-integer int8 `.tflite`
(the representative images only fix the input/output scales; the other ranges were learned).

Writes data/models/l5_quantization/cnn_qat.tflite and qat_tfmot.json (per-epoch training loss).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.l5_quantization import models, tflite_tools
from impl.l5_quantization.convert_tflite import keras_cnn
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

QAT_TFLITE, LOG = "cnn_qat.tflite", "qat_tfmot.json"
TINY_KNOBS = {"representative_size": 10, "train_size": 256}


def run(knobs: dict, out_dir: Path) -> dict:
    """The work runs in a fresh (spawned) process, so TF_USE_LEGACY_KERAS never reaches this one."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_qat, dict(knobs), str(out_dir)).result()


def _qat(knobs: dict, out_dir: str) -> dict:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # before TensorFlow is imported: tf.keras is then tf_keras
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf_keras.utils.set_random_seed(knobs["seed"])
    tf.config.experimental.enable_op_determinism()
    X_train, y_train, X_test, y_test = models.mnist5k(knobs["split_seed"])
    X_train, y_train = X_train[:knobs.get("train_size", len(X_train))], y_train[:knobs.get("train_size", len(y_train))]
    x_train, x_test = models.to_nhwc(X_train), models.to_nhwc(X_test)
    model = keras_cnn(legacy=True)
    qat = tfmot.quantization.keras.quantize_model(model)
    qat.compile(optimizer=tf_keras.optimizers.Adam(knobs["lr"]),
                loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = qat.fit(x_train, y_train, epochs=knobs["epochs"], batch_size=knobs["batch_size"], shuffle=True,
                      verbose=0)
    content = tflite_tools.convert_keras(qat, "int8", x_train[:knobs["representative_size"]])
    atomic_write_bytes(Path(out_dir) / QAT_TFLITE, content)
    losses = [round(float(v), 6) for v in history.history["loss"]]
    rows = [{"epoch": epoch + 1, "loss": loss} for epoch, loss in enumerate(losses)]
    atomic_write_text(Path(out_dir) / LOG, json.dumps(rows, indent=1) + "\n")
    return {"qat_int8_accuracy": models.accuracy(tflite_tools.TFLiteRunner(content)(x_test), y_test),
            "qat_int8_bytes": len(content), "epoch_loss": losses[-1], "tf_keras": tf_keras.__version__,
            "tfmot": tfmot.__version__}


main = stage_main(run, "l5_quantization", "tfmot")

if __name__ == "__main__":
    sys.exit(main())
