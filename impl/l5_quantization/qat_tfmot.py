"""DVC stage `qat_tfmot`: quantization-aware training of the CNN with TF Model Optimization, and its control.

tfmot works on `tf_keras` (Keras 2) models only, and importing it sets TF_USE_LEGACY_KERAS=1 for the
whole process; this stage does its work in a spawned process of its own (`tflite_tools.in_fresh_process`),
and nothing else of the lesson imports tfmot.
The CNN is built in tf_keras with the trained weights of `cnn_torch.pt`, wrapped by
`tfmot.quantization.keras.quantize_model` (fake-quant on weights and activations, BatchNorm folded),
fine-tuned for `epochs` on the mnist5k training images and converted to a full-integer int8 `.tflite`
(the representative images only fix the input/output scales; the other ranges were learned).

Fine-tuning can raise accuracy by itself, so the control is the same float model fine-tuned the same way
(optimizer, rate, epochs, batch size, seed) without fake quantization, converted to float32 and, with
post-training int8 quantization on the same representative images, to int8.

The QAT model is also converted to ONNX (`onnx_tools.keras_to_onnx`: tf2onnx turns the fake-quant nodes
into QDQ pairs, the weights are stored as int8, the input is NCHW like the torch exports), so the
comparison table has a QAT int8 row for ONNX Runtime as well as for TFLite.

Writes data/models/l5_quantization/cnn_qat.tflite, cnn_qat.onnx, cnn_control_float32.tflite,
cnn_control_int8.tflite and qat_tfmot.json (per-epoch training loss of QAT and of the control).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from impl import onnx_tools, timing
from impl.atomic import atomic_write_bytes, atomic_write_json
from impl.l5_quantization import models, tflite_tools
from impl.l5_quantization.convert_tflite import cnn_weights, keras_cnn
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

QAT_TFLITE, QAT_ONNX, LOG = "cnn_qat.tflite", "cnn_qat.onnx", "qat_tfmot.json"
CONTROL_TFLITE = {"float32": "cnn_control_float32.tflite", "int8": "cnn_control_int8.tflite"}
TINY_KNOBS = {"representative_size": 10, "train_size": 256}


def run(knobs: dict, out_dir: Path) -> dict:
    """The work runs in a fresh (spawned) process, so TF_USE_LEGACY_KERAS never reaches this one."""
    return tflite_tools.in_fresh_process(_qat, dict(knobs), str(out_dir), str(cnn_weights()))


def _fine_tune(model, x_train, y_train, knobs: dict, tf_keras) -> list[float]:
    """Adam at `lr` on cross-entropy for `epochs`, Keras' shuffling seeded by `seed`; per-epoch losses."""
    tf_keras.utils.set_random_seed(knobs["seed"])  # global seeding: this is a process of its own
    model.compile(optimizer=tf_keras.optimizers.Adam(knobs["lr"]),
                  loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x_train, y_train, epochs=knobs["num_epochs"], batch_size=knobs["batch_size"], shuffle=True,
                        verbose=0)
    return [round(float(v), 6) for v in history.history["loss"]]


def _qat(knobs: dict, out_dir: str, weights: str) -> dict:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # before TensorFlow is imported: tf.keras is then tf_keras
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras

    threads = timing.pin_tf_threads(1)
    tf.config.experimental.enable_op_determinism()
    X_train, y_train, X_test, y_test = models.mnist5k(knobs["split_seed"])
    X_train, y_train = X_train[:knobs.get("train_size", len(X_train))], y_train[:knobs.get("train_size", len(y_train))]
    x_train, x_test = models.to_nhwc(X_train), models.to_nhwc(X_test)
    representative = x_train[:knobs["representative_size"]]
    qat = tfmot.quantization.keras.quantize_model(keras_cnn(legacy=True, weights=weights))
    qat_losses = _fine_tune(qat, x_train, y_train, knobs, tf_keras)
    control = keras_cnn(legacy=True, weights=weights)
    control_losses = _fine_tune(control, x_train, y_train, knobs, tf_keras)
    files = {QAT_TFLITE: tflite_tools.convert_keras(qat, "int8", representative),
             CONTROL_TFLITE["float32"]: tflite_tools.convert_keras(control, "float32"),
             CONTROL_TFLITE["int8"]: tflite_tools.convert_keras(control, "int8", representative)}
    summary = {"tf_threads": threads, "tf_keras": tf_keras.__version__, "tfmot": tfmot.__version__}
    for file, content in files.items():
        atomic_write_bytes(Path(out_dir) / file, content)
        summary[f"{file.removesuffix('.tflite')}_accuracy"] = top1_accuracy(
            tflite_tools.TFLiteRunner(content)(x_test), y_test)
    onnx_file = onnx_tools.keras_to_onnx(qat, Path(out_dir) / QAT_ONNX)
    session = onnx_tools.make_session(onnx_file, threads=1)
    summary["cnn_qat_onnx_accuracy"] = top1_accuracy(onnx_tools.predict(session, models.to_nchw(X_test)), y_test)
    rows = [{"epoch": epoch + 1, "loss": qat_loss, "control_loss": control_loss}
            for epoch, (qat_loss, control_loss) in enumerate(zip(qat_losses, control_losses))]
    atomic_write_json(Path(out_dir) / LOG, rows)
    return summary


main = stage_main(run, "l5_quantization", "tfmot")

if __name__ == "__main__":
    sys.exit(main())
