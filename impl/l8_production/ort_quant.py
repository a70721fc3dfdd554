"""ONNX Runtime static quantization with explicit calibration settings, model metadata and a size proxy.

`quantize_static` is ORT's post-training quantization in the QDQ format: int8 weights and int8
activations whose ranges come from a calibration set. The three settings the search picks from:
the calibration `method` (MinMax: the observed range; Entropy: the range minimising the KL
divergence of the activation histogram; Percentile: the 99.999th percentile of |x|), `per_channel`
(one weight scale per output row, or one per tensor) and `reduce_range` (7-bit weights, for CPUs
whose int8 dot product can overflow without VNNI).

`analytic_size` is what an Optuna size objective can compute without serializing: parameters x
bits / 8 plus the bytes of the scales and zero points (catalog's L8.proxy.size).
"""
from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np

from impl.checks import MAX_SAMPLES, as_bool, as_bytes, as_float_array, as_instance, as_int, as_path, as_str

__all__ = ["METHODS", "GRID", "DEFAULT", "quantize_static", "with_metadata", "metadata", "session", "run",
           "analytic_size"]

METHODS = ("MinMax", "Entropy", "Percentile")
GRID = [{"method": m, "per_channel": pc, "reduce_range": rr}
        for m, pc, rr in itertools.product(METHODS, (False, True), (False, True))]  # 12 configurations
DEFAULT = {"method": "MinMax", "per_channel": False, "reduce_range": False}  # quantize_static's defaults
CALIB_BATCH = 50


class _Reader:
    """Calibration batches in ORT's CalibrationDataReader protocol."""

    def __init__(self, name: str, data: np.ndarray):
        self._batches = iter([{name: data[i:i + CALIB_BATCH]} for i in range(0, len(data), CALIB_BATCH)])

    def get_next(self):
        return next(self._batches, None)


def quantize_static(model_bytes, calibration, *, method: str, per_channel: bool, reduce_range: bool) -> bytes:
    """The float ONNX model `model_bytes` quantized by ORT `quantize_static` (QDQ, QInt8 weights and
    activations) with the given calibration settings over `calibration` (float32 model inputs)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as ort_quantize_static

    model_bytes = as_bytes(model_bytes, "model_bytes", nonempty=True)
    calibration = as_float_array(calibration, "calibration", dtype=np.float32)
    if calibration.ndim < 2 or calibration.size > MAX_SAMPLES:
        raise ValueError(f"calibration must be a batch of model inputs, got shape {calibration.shape}")
    method = as_str(method, "method", choices=METHODS)
    per_channel, reduce_range = as_bool(per_channel, "per_channel"), as_bool(reduce_range, "reduce_range")
    try:
        proto = onnx.load_from_string(model_bytes)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ValueError(f"model_bytes is not an ONNX model: {exc}") from exc
    name = proto.graph.input[0].name
    with tempfile.TemporaryDirectory(prefix="l8-quant-") as folder:
        src, dst = Path(folder) / "float.onnx", Path(folder) / "int8.onnx"
        src.write_bytes(model_bytes)
        ort_quantize_static(str(src), str(dst), _Reader(name, np.ascontiguousarray(calibration)),
                            quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                            weight_type=QuantType.QInt8, per_channel=per_channel, reduce_range=reduce_range,
                            calibrate_method=getattr(CalibrationMethod, method))
        return dst.read_bytes()


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

    sess = model if isinstance(model, ort.InferenceSession) else session(model)
    return dict(sess.get_modelmeta().custom_metadata_map)


def session(model, *, threads: int = 1):
    """An ORT CPU session with `threads` intra-op threads and one inter-op thread, for a model file
    (Lesson 5's `make_session`) or a model's serialized bytes."""
    import onnxruntime as ort

    from impl.l5_quantization import onnx_tools

    threads = as_int(threads, "threads", minimum=1, maximum=256)
    if not isinstance(model, (bytes, bytearray)):
        path = as_path(model, "model")
        if not path.is_file():
            raise ValueError(f"model {path} is not a file")
        return onnx_tools.make_session(path, threads=threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads, options.log_severity_level = 1, 3
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(as_bytes(model, "model", nonempty=True), sess_options=options,
                                providers=["CPUExecutionProvider"])


def run(model, pixels, *, batch_size: int = 1000) -> np.ndarray:
    """Logits of a model (a session, a path or bytes) for float32 inputs, in batches."""
    import onnxruntime as ort

    from impl.l5_quantization import onnx_tools

    pixels = as_float_array(pixels, "pixels", dtype=np.float32)
    if pixels.ndim < 2:
        raise ValueError(f"pixels must be a batch (batch axis first), got shape {pixels.shape}")
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    sess = model if isinstance(model, ort.InferenceSession) else session(model)
    return np.concatenate([onnx_tools.predict(sess, pixels[i:i + batch_size])
                           for i in range(0, len(pixels), batch_size)])


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
