"""The search's ONNX Runtime static quantization settings, model metadata and a size proxy.

`quantize_static` is `impl.onnx_tools.quantize_static` (ORT's post-training quantization in the QDQ
format: int8 weights and int8 activations whose ranges come from a calibration set) as this lesson
runs it: bytes in and out, the exported graph quantized as it is (no pre-processing), calibration
batches of 50. The three settings the search picks from:
the calibration `method` (MinMax: the observed range; Entropy: the range minimising the KL
divergence of the activation histogram; Percentile: the 99.999th percentile of |x|), `per_channel`
(one weight scale per output row, or one per tensor) and `reduce_range` (7-bit weights, for CPUs
whose int8 dot product can overflow without VNNI).

`analytic_size` is what an Optuna size objective can compute without serializing: parameters x
bits / 8 plus the bytes of the scales and zero points (catalog's L8.proxy.size).
"""
from __future__ import annotations

import itertools

from impl import onnx_tools
from impl.checks import as_bool, as_bytes, as_instance, as_int, as_str

__all__ = ["METHODS", "GRID", "DEFAULT", "CALIB_BATCH", "PREDICT_BATCH", "quantize_static", "predict", "with_metadata",
           "metadata", "analytic_size"]

METHODS = onnx_tools.METHODS  # ("MinMax", "Entropy", "Percentile")
GRID = [{"method": m, "per_channel": pc, "reduce_range": rr}
        for m, pc, rr in itertools.product(METHODS, (False, True), (False, True))]  # 12 configurations
DEFAULT = {"method": "MinMax", "per_channel": False, "reduce_range": False}  # quantize_static's defaults
CALIB_BATCH = 50
PREDICT_BATCH = 1000  # rows per ORT run when the lesson scores a model (`predict`)


def quantize_static(model_bytes, calibration, *, method: str, per_channel: bool, reduce_range: bool) -> bytes:
    """The float ONNX model `model_bytes` quantized by `onnx_tools.quantize_static` (QDQ, QInt8 weights
    and activations, no pre-processing, calibration batches of `CALIB_BATCH`) with the given calibration
    settings over `calibration` (float32 model inputs)."""
    model_bytes = as_bytes(model_bytes, "model_bytes", nonempty=True)
    return onnx_tools.quantize_static(model_bytes, calibration, method=method, per_channel=per_channel,
                                      reduce_range=reduce_range, preprocess=False, batch_size=CALIB_BATCH)


def predict(model, x):
    """Logits of an ONNX model (a path, bytes or a session) for the pixel batch `x`, as every step of the
    lesson scores one (`onnx_tools.predict`, `PREDICT_BATCH` rows per run): the search, the stored int8
    model and the evaluation get the same numbers for the same model."""
    return onnx_tools.predict(model, x, batch_size=PREDICT_BATCH)


def with_metadata(model_bytes, entries) -> bytes:
    """The model with `entries` (str -> str) set as ONNX metadata_props (existing keys replaced)."""
    import onnx

    model_bytes = as_bytes(model_bytes, "model_bytes", nonempty=True)
    as_instance(entries, "entries", dict)
    for key, value in entries.items():
        as_str(key, "entries"), as_str(value, "entries")
    proto = onnx.load_from_string(model_bytes)
    kept = [p for p in proto.metadata_props if p.key not in entries]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    for key, value in sorted(entries.items()):
        proto.metadata_props.add(key=key, value=value)
    return proto.SerializeToString()


def metadata(model) -> dict[str, str]:
    """The custom metadata of a model (a session, a path or bytes)."""
    import onnxruntime as ort

    sess = model if isinstance(model, ort.InferenceSession) else onnx_tools.make_session(model)
    return dict(sess.get_modelmeta().custom_metadata_map)


def analytic_size(layer_shapes, *, weight_bits: int, per_channel: bool, bias_bits: int = 32) -> int:
    """Bytes of the parameters: weights x weight_bits / 8 + biases x bias_bits / 8, plus one float32
    scale and one zero point (weight_bits / 8 bytes) per quantization group when weight_bits < 32
    (per output row when `per_channel`, else per tensor; the int32 bias shares the weight scales)."""
    if not isinstance(layer_shapes, (list, tuple)) or not layer_shapes:
        raise TypeError("layer_shapes must be a non-empty list of (out, in) weight shapes")
    shapes = []
    for shape in layer_shapes:
        if not isinstance(shape, (list, tuple)) or len(shape) != 2:
            raise ValueError(f"layer_shapes must hold (out, in) pairs, got {shape!r}")
        shapes.append((as_int(shape[0], "layer_shapes", minimum=1, maximum=10**6),
                       as_int(shape[1], "layer_shapes", minimum=1, maximum=10**6)))
    weight_bits = as_int(weight_bits, "weight_bits", minimum=2, maximum=32)
    bias_bits = as_int(bias_bits, "bias_bits", minimum=8, maximum=32)
    per_channel = as_bool(per_channel, "per_channel")
    total = 0.0
    for out, fan_in in shapes:
        total += out * fan_in * weight_bits / 8 + out * bias_bits / 8
        if weight_bits < 32:
            total += (out if per_channel else 1) * (4 + weight_bits / 8)
    return int(round(total))
