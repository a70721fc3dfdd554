"""Lesson 5's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the bad
values from each argument's kind; nothing here is chosen per bad value.
"""
import functools
import tempfile
from pathlib import Path

import numpy as np

from impl import onnx_tools, scoring
from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Array, Bytes, Choice, Count, Flag, Images, Instance, Labels, Lazy, Matrix, Optional, PathArg, Real, Seed, Tensor,
    Text,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l5_quantization import fakequant, int8_cpu, keras_models, mobilenet, models, quantize, tflite_tools


class AnyRank(Array):
    """A finite array for an elementwise function, which takes any rank: a changed rank is a valid value,
    so only the other bad values of `Array` are probed."""

    def bad(self):
        wrong_ranks = {f"{self.good.ndim - 1}-D", f"{self.good.ndim + 1}-D"}
        return [(label, value) for label, value in super().bad() if label not in wrong_ranks]


class Codes(AnyRank):
    """Integer quantization codes of any rank: floats (NaN, inf) are refused as non-integer."""


class AnyRankTensor(Tensor):
    """A finite float tensor for an elementwise function: any rank is valid, so ranks are not probed."""

    def bad(self):
        return [(label, value) for label, value in super().bad()
                if not (label.endswith("-D") and label[:-2].isdigit())]


class Batch(Array):
    """A model input batch of rank >= 2: one rank less is probed; one more is the model's business (ORT)."""

    def bad(self):
        return [(label, value) for label, value in super().bad() if label != f"{self.good.ndim + 1}-D"]


X = np.array([[-1.0, 0.0, 0.5], [2.0, -0.25, 1.0]], dtype=np.float32)
BITS = Count(8, quantize.MIN_BITS, quantize.MAX_BITS, cheap_max=True)
# The networks' weights are float32: a float64 array (or a list, which NumPy reads as float64) is refused, not rounded.
FLOAT32_MODEL = "the networks' weights are float32; a float64 input must be cast by the caller, not silently rounded"

CASES = [
    Case(quantize.qrange, BITS, Flag(False)),
    Case(quantize.affine_qparams, Real(-1.0), Real(2.0), bits=BITS),
    Case(quantize.symmetric_qparams, Real(2.0, 0.0), bits=BITS),
    Case(quantize.calibrate, AnyRank(X), scheme=Choice("affine", quantize.SCHEMES), bits=BITS,
         axis=Optional(Count(0, -2, 1, cheap_max=True))),
    Case(quantize.quantize, AnyRank(X), Real(0.01, 0.0, low_open=True), Count(128, 0, 255, cheap_max=True), bits=BITS,
         signed=Flag(False), axis=Optional(Count(1, -2, 1))),
    Case(quantize.dequantize, Codes(np.array([[0, 128, 255]])), Real(0.01, 0.0, low_open=True), Count(128, 0, 255, cheap_max=True),
         bits=BITS, signed=Flag(False), axis=Optional(Count(1, -2, 1)), dtype=Choice(np.float64, (np.float32, np.float64))),
    Case(quantize.fake_quantize, AnyRank(X), Real(0.01, 0.0, low_open=True), Count(128, 0, 255, cheap_max=True), bits=BITS,
         signed=Flag(False), axis=Optional(Count(0, -2, 1, cheap_max=True))),
    Case(quantize.quantization_mse, AnyRank(X), scheme=Choice("symmetric", quantize.SCHEMES), bits=BITS,
         axis=Optional(Count(0, -2, 1, cheap_max=True))),
]

IMAGES = (np.arange(4 * 28 * 28) % 256).astype(np.uint8).reshape(4, 28, 28)
LABELS = np.array([0, 1, 2, 3])
NCHW = IMAGES[:, None].astype(np.float32) / 255


@functools.cache
def _objects():
    """Built when the sweep runs (collecting specs imports no framework)."""
    import torch

    folder = Path(tempfile.mkdtemp(prefix="claims-sweep-l5-"))
    mlp = models.make_mlp(0, (8,))
    onnx_file = onnx_tools.export(mlp, NCHW[:2], folder / "mlp.onnx", exporter="dynamo", opset=18)
    tflite = tflite_tools.convert_keras(keras_models.build_cnn_keras((2, 4)), "float32")
    return {"cnn": models.make_cnn(0, (2, 4)), "mlp": mlp, "onnx": onnx_file, "dst": folder / "out.onnx",
            "onnx_bytes": onnx_file.read_bytes(), "session": onnx_tools.make_session(onnx_file), "tflite": tflite,
            "keras": keras_models.build_cnn_keras((2, 4)), "saved": _saved(folder, mlp, torch),
            "calibration": torch.from_numpy(NCHW), "x_t": torch.linspace(-1, 1, 12).reshape(3, 4)}


def _saved(folder: Path, mlp, torch) -> Path:
    path = folder / "mlp.pt"
    torch.save(mlp.state_dict(), path)
    return path


def l5(name):
    return Lazy(lambda: _objects()[name])


WIDTHS = Instance((2, 4))
CASES += [
    Case(models.mnist5k, Seed()),
    Case(models.mnist_validation, Seed(), Count(10, 1, 10_000)),
    Case(models.to_nchw, Images(IMAGES)),
    Case(models.to_nhwc, Images(IMAGES)),
    Case(models.make_cnn, Seed(), WIDTHS),
    Case(models.make_mlp, Seed(), Instance((8,))),
    Case(models.count_params, Instance(l5("mlp"))),
    Case(models.cnn_widths, Instance(l5("cnn"))),
    Case(models.load_state, PathArg(l5("saved"))),
    Case(models.train, Instance(l5("mlp")), Array(NCHW, linked=True), Labels(LABELS, 10, linked=True),
         epochs=Count(1, 1, 10**7), lr=Real(1e-3, 0.0, low_open=True), batch_size=Count(2, 1, 10**5), seed=Seed(),
         progress=Flag(False), schedule=Choice("cosine", models.SCHEDULES),
         on_epoch=Optional(Instance(lambda epoch, loss: None))).rejects_equivalent(
        "X", "float64", reason=FLOAT32_MODEL).rejects_equivalent("X", "list", reason=FLOAT32_MODEL),
    Case(models.predict_logits, Instance(l5("mlp")), Array(NCHW)).rejects_equivalent(
        "X", "float64", reason=FLOAT32_MODEL).rejects_equivalent("X", "list", reason=FLOAT32_MODEL),
    Case(models.log_loss, Matrix(np.eye(4, 10), linked=True), Labels(LABELS, 10, linked=True)),
    Case(scoring.top1_accuracy, Matrix(np.eye(4, 10), linked=True), Labels(LABELS, 10, linked=True)),
    Case(scoring.classifier_accuracy, Instance(l5("mlp")), AnyRankTensor(l5("calibration"), linked=True),
         Labels(LABELS, 10, linked=True), batch_size=Count(2, 1, scoring.MAX_BATCH))
    .rejects_equivalent("inputs", "float64", reason=FLOAT32_MODEL),
    Case(keras_models.build_cnn_keras, WIDTHS, legacy=Flag(False)),
    Case(keras_models.carry_weights, Instance(l5("cnn")), Instance(l5("keras"))),
    # pinning changes this process's TensorFlow pools for good (or raises where TF already ran): bad calls only
    HeavyCase(tflite_tools.in_fresh_process, Instance(models.mnist5k)),
    Case(tflite_tools.convert_keras, Instance(l5("keras")), Choice("int8", tflite_tools.VARIANTS),
         Optional(Array(np.zeros((2, 28, 28, 1), np.float32)))),
    # the example's rank is the model's business (an MLP flattens any image rank)
    Case(onnx_tools.export, Instance(l5("mlp")), AnyRank(NCHW), Optional(PathArg(l5("dst"))),
         exporter=Choice("dynamo", onnx_tools.EXPORTERS), opset=Count(18, 17, 23, cheap_max=True), dynamic_batch=Flag(True),
         input_name=Text("input"), output_name=Text("logits"), batch_name=Text("batch")).refuses(
        "example-too-narrow", naming=("example",), example=np.zeros((2, 3), np.float32)),
    Case(onnx_tools.make_session, PathArg(l5("onnx")), threads=Count(1, 1, 256),
         providers=Instance(("CPUExecutionProvider",))),
    Case(onnx_tools.make_session, Bytes(l5("onnx_bytes")), threads=Count(1, 1, 256),
         providers=Instance(("CPUExecutionProvider",))),
    Case(onnx_tools.predict, Instance(l5("session")), Batch(NCHW), batch_size=Optional(Count(2, 1, 10**8))),
    Case(onnx_tools.to_float16, PathArg(l5("onnx")), PathArg(l5("dst"))),
    # tf2onnx converts tf_keras (Keras 2) models, which only a process with TF_USE_LEGACY_KERAS builds: bad calls only
    HeavyCase(onnx_tools.keras_to_onnx, Instance(l5("keras")), PathArg(l5("dst")), channels_last_input=Flag(True),
              opset=Count(onnx_tools.MIN_OPSET, onnx_tools.MIN_OPSET, 23, cheap_max=True)),
    Case(onnx_tools.quantize_dynamic, PathArg(l5("onnx")), Optional(PathArg(l5("dst"))), per_channel=Flag(False),
         reduce_range=Flag(False), preprocess=Flag(True)),
    Case(onnx_tools.quantize_static, PathArg(l5("onnx")), Array(NCHW), Optional(PathArg(l5("dst"))),
         method=Choice("MinMax", onnx_tools.METHODS), per_channel=Flag(True), reduce_range=Flag(False),
         preprocess=Flag(True), batch_size=Count(2, 1, 1 << 16)),
    Case(fakequant.fake_quant, AnyRankTensor(l5("x_t")), Real(0.1, 0.0, low_open=True), Count(0, 0, 255, cheap_max=True), bits=BITS,
         signed=Flag(False), axis=Optional(Count(0, -2, 1, cheap_max=True))),
    Case(int8_cpu.int8_dot_product, Instance(["avx2", "avx512_vnni"])),
    Case(int8_cpu.static_reduce_range, Instance(["avx2"])),
    Case(mobilenet.separable_params, Count(3, 1, 4096), Count(5, 1, 4096), Count(3, 1, 15, cheap_max=True)).refuses("even-k", naming=("k",), k=4),
    Case(mobilenet.standard_params, Count(3, 1, 4096), Count(5, 1, 4096), Count(3, 1, 15, cheap_max=True)).refuses("even-k", naming=("k",), k=4),
    Case(mobilenet.separable_torch, Count(3, 1, 4096), Count(5, 1, 4096), Count(3, 1, 15, cheap_max=True)).refuses("even-k", naming=("k",), k=4),
    Case(mobilenet.separable_keras, Count(3, 1, 4096), Count(5, 1, 4096), Count(3, 1, 15, cheap_max=True)).refuses("even-k", naming=("k",), k=4),
    HeavyCase(mobilenet.mobilenet_v2, Real(0.35, 0.35, 0.35), Count(96, 32, 1024), Count(10, 2, 100_000)),
]


test_rejects_bad_input = bad_input_claim(
    ("impl.l5_quantization", "impl.onnx_tools", "impl.scoring"), CASES, course="Lesson 5",
    subject="Lesson 5 and of the shared `impl.onnx_tools` it exports and quantizes with and `impl.scoring` it scores with")
