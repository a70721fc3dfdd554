"""ONNX export of a PyTorch model and ONNX Runtime post-training quantization, shared with Lesson 8.

- `export_onnx`: `torch.onnx.export` (the torch.export-based exporter, weights inside the file, opset
  >= 17) with a dynamic batch axis; the file is checked by `onnx.checker` before it is returned.
- `make_session` / `predict`: an ORT CPU session with explicit thread counts (idle pools spin otherwise).
- `quantize_dynamic_onnx`: weights stored as int8, activations quantized at run time per batch.
- `quantize_static_onnx`: weights and activations int8 from a calibration set (MinMax), in the QDQ
  format (QuantizeLinear/DequantizeLinear pairs that the runtime fuses into integer kernels),
  per-channel weights by default.
- `to_float16`: weights and arithmetic in float16 (onnxconverter-common), float32 input and output.
- `keras_to_onnx`: a Keras 2 (`tf_keras`) model, e.g. tfmot's quantization-aware one, through tf2onnx;
  fake-quant becomes QDQ pairs, and ORT's basic (ONNX-standard) constant folding stores the quantized
  weights as int8.

Both quantizers first run ORT's `quant_pre_process` (shape inference, graph optimization).
"""
from __future__ import annotations

import contextlib
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from impl.atomic import atomic_write_bytes
from impl.checks import MAX_SAMPLES, as_bool, as_float_array, as_instance, as_int, as_path, as_str

__all__ = [
    "INPUT_NAME", "OUTPUT_NAME", "MIN_OPSET", "export_onnx", "make_session", "predict", "quantize_dynamic_onnx",
    "quantize_static_onnx", "to_float16", "keras_to_onnx",
]

INPUT_NAME, OUTPUT_NAME = "input", "logits"
MIN_OPSET = 17  # the catalog's floor (opset 17 added LayerNormalization); ORT runs opsets up to its release's
MAX_BATCH = 1 << 16


def export_onnx(model, path, example, *, opset: int = 18, dynamic_batch: bool = True) -> Path:
    """Export a torch module (in eval mode) on `example` (a float array, batch first) to one .onnx file.

    The batch axis is dynamic unless `dynamic_batch` is False; input and output are named
    `INPUT_NAME` and `OUTPUT_NAME`. The exporter's per-node stack traces are dropped (they name this
    checkout's paths). Returns the path after `onnx.checker.check_model(full_check=True)`.
    """
    import torch

    as_instance(model, "model", torch.nn.Module)
    path = as_path(path, "path")
    example = as_float_array(example, "example", dtype=np.float32)
    if example.ndim < 2:
        raise ValueError(f"example must have a batch axis and at least one more, got shape {example.shape}")
    opset = as_int(opset, "opset", minimum=MIN_OPSET, maximum=23)
    dynamic_batch = as_bool(dynamic_batch, "dynamic_batch")
    import onnx

    model = model.eval()
    # torch.export specialises a dimension of size 1; a batch of 2 keeps the axis symbolic.
    x = torch.from_numpy(np.repeat(example[:1], 2, axis=0) if dynamic_batch else example)
    shapes = ({0: torch.export.Dim("batch", min=1, max=MAX_BATCH)},) if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        program = torch.onnx.export(model, (x,), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                    dynamic_shapes=shapes, opset_version=opset, dynamo=True,
                                    external_data=False, verbose=False)
    with tempfile.TemporaryDirectory(prefix="l5-onnx-") as tmp:
        program.save(str(Path(tmp) / "exported.onnx"), external_data=False)
        exported = onnx.load(str(Path(tmp) / "exported.onnx"))
    _drop_stack_traces(exported.graph)
    for function in exported.functions:
        _drop_stack_traces(function)
    onnx.checker.check_model(exported, full_check=True)
    atomic_write_bytes(path, exported.SerializeToString())
    return path


STACK_TRACE = "pkg.torch.onnx.stack_trace"  # node metadata naming the exporting machine's file paths


def _drop_stack_traces(graph) -> None:
    """Remove the exporter's per-node Python stack traces (absolute paths of this checkout and of the
    venv), in place, subgraphs included: the file then depends on the model, not on where it was built."""
    for node in graph.node:
        kept = [prop for prop in node.metadata_props if prop.key != STACK_TRACE]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
        for attribute in node.attribute:
            for subgraph in [attribute.g, *attribute.graphs] if attribute.HasField("g") else attribute.graphs:
                _drop_stack_traces(subgraph)


def make_session(path, *, threads: int = 1, providers: tuple[str, ...] = ("CPUExecutionProvider",)):
    """An `onnxruntime.InferenceSession` with `threads` intra-op threads and one inter-op thread."""
    import onnxruntime as ort

    path = as_path(path, "path")
    if not path.is_file():
        raise ValueError(f"path {path} is not a file")
    threads = as_int(threads, "threads", minimum=1, maximum=256)
    if isinstance(providers, str) or not isinstance(providers, (tuple, list)) or not providers:
        raise TypeError("providers must be a non-empty tuple of execution-provider names")
    for provider in providers:
        as_str(provider, "providers")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))


def predict(session, x) -> np.ndarray:
    """The session's first output for the float32 batch `x`."""
    import onnxruntime as ort

    as_instance(session, "session", ort.InferenceSession)
    x = as_float_array(x, "x", dtype=np.float32)
    expected = session.get_inputs()[0]
    if x.ndim != len(expected.shape) or x.ndim < 2:
        raise ValueError(f"x must have shape {expected.shape} (batch first), got {x.shape}")
    return session.run(None, {expected.name: np.ascontiguousarray(x)})[0]


def quantize_dynamic_onnx(src, dst, *, per_channel: bool = False) -> Path:
    """ORT `quantize_dynamic`: QInt8 weights, activations quantized at run time. Returns `dst`."""
    src, dst = _paths(src, dst)
    per_channel = as_bool(per_channel, "per_channel")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst.parent.mkdir(parents=True, exist_ok=True)
    with _preprocessed(src) as ready:
        quantize_dynamic(str(ready), str(dst), weight_type=QuantType.QInt8, per_channel=per_channel)
    return dst


class _Reader:
    """The calibration batches of one input, as ORT's CalibrationDataReader protocol wants them."""

    def __init__(self, name: str, data: np.ndarray, batch_size: int):
        self._batches = iter([{name: data[i:i + batch_size]} for i in range(0, len(data), batch_size)])

    def get_next(self):
        return next(self._batches, None)


def quantize_static_onnx(src, dst, calibration, *, per_channel: bool = True, batch_size: int = 50) -> Path:
    """ORT `quantize_static`: QDQ format, QInt8 weights (per channel by default) and QInt8 activations
    whose ranges are the MinMax of `calibration` (float32 inputs, batch first). Returns `dst`."""
    src, dst = _paths(src, dst)
    calibration = as_float_array(calibration, "calibration", dtype=np.float32)
    if calibration.ndim < 2 or len(calibration) > MAX_SAMPLES // max(1, calibration[0].size):
        raise ValueError(f"calibration must be a batch of inputs, got shape {calibration.shape}")
    per_channel = as_bool(per_channel, "per_channel")
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH)
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    name, rank = _input(src)
    if calibration.ndim != rank:
        raise ValueError(f"calibration must have the model input's rank {rank}, got shape {calibration.shape}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with _preprocessed(src) as ready:
        quantize_static(str(ready), str(dst), _Reader(name, np.ascontiguousarray(calibration), batch_size),
                        quant_format=QuantFormat.QDQ, per_channel=per_channel, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    return dst


def to_float16(src, dst) -> Path:
    """The float32 model `src` with float16 weights and arithmetic (onnxconverter-common's
    `convert_float_to_float16`), keeping float32 input and output so callers feed the same arrays.
    Returns `dst` after `onnx.checker`."""
    src, dst = _paths(src, dst)
    import onnx
    from onnxconverter_common import float16

    converted = float16.convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    onnx.checker.check_model(converted, full_check=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(converted, str(dst))
    return dst


def keras_to_onnx(model, dst, *, channels_last_input: bool = True, opset: int = MIN_OPSET) -> Path:
    """A Keras 2 model with one image input (batch, height, width, channels) to one .onnx file at `dst`.

    tf2onnx converts the graph (tfmot's fake-quant nodes become QuantizeLinear/DequantizeLinear pairs);
    with `channels_last_input` the file takes NCHW input like the torch exports (tf2onnx's
    `inputs_as_nchw`). ORT's graph optimizer at its basic level (constant folding and other
    ONNX-standard rewrites, no runtime-specific ops) then folds each weight's QuantizeLinear into an int8
    initializer, so a quantization-aware model is stored as int8. The input is named `INPUT_NAME`.
    Needs TensorFlow in this process (call it where the model was built). Names and the order of the
    constants are made canonical (`_canonical_names`), so one model gives the same file every run."""
    dst = as_path(dst, "dst")
    channels_last_input = as_bool(channels_last_input, "channels_last_input")
    opset = as_int(opset, "opset", minimum=MIN_OPSET, maximum=23)
    if not (hasattr(model, "inputs") and hasattr(model, "outputs")) or len(model.inputs) != 1:
        raise TypeError("model must be a Keras model with one input")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(f"model must take images (batch, height, width, channels), got input shape {shape}")
    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, *shape[1:]), tf.float32, name=INPUT_NAME),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset,
                                          inputs_as_nchw=[INPUT_NAME] if channels_last_input else None)
    with tempfile.TemporaryDirectory(prefix="l5-onnx-") as tmp:
        raw, folded = Path(tmp) / "converted.onnx", Path(tmp) / "folded.onnx"
        onnx.save(proto, str(raw))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(raw), sess_options=options, providers=["CPUExecutionProvider"],
                             disabled_optimizers=["ConstantSharing"])  # it keeps any one of equal constants
        model = _canonical_names(onnx.load(str(folded)))
    onnx.checker.check_model(model, full_check=True)
    atomic_write_bytes(dst, model.SerializeToString())
    return dst


def _canonical_names(model):
    """`model` with names that depend on the graph only. tf2onnx numbers the names it makes
    (`new_shape__131`) from a process-wide counter, and of equal constants (the many int8 zero points)
    keeps whichever it met first; both vary run to run, so one graph was written under different names.
    Constants are renamed `const_<k>` in order of first use; every other tensor except the graph's
    inputs and outputs loses the counters (numbered by first appearance where that is not unique);
    nodes are named `<op>_<index>` and constants stored in order of first use. Changes `model` in place
    and returns it."""
    import re

    graph = model.graph
    kept = {value.name for value in (*graph.input, *graph.output)}
    taken: dict[str, int] = {}
    renamed: dict[str, str] = {}

    def canonical(name: str) -> str:
        if name in kept or not name:
            return name
        if name not in renamed:
            base = re.sub(r"__\d+", "", name)
            taken[base] = taken.get(base, 0) + 1
            renamed[name] = base if taken[base] == 1 else f"{base}__{taken[base] - 1}"
        return renamed[name]

    constants = {tensor.name for tensor in graph.initializer}
    for name in (name for node in graph.node for name in node.input):
        if name in constants and name not in renamed:
            renamed[name] = f"const_{len(renamed)}"
    for node in graph.node:
        node.input[:] = [canonical(name) for name in node.input]
        node.output[:] = [canonical(name) for name in node.output]
    for node_index, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{node_index}"
    for tensor in graph.initializer:
        tensor.name = canonical(tensor.name)
    order = {name: index for index, name in enumerate(name for node in graph.node for name in node.input)}
    ordered = sorted(graph.initializer, key=lambda tensor: (order.get(tensor.name, len(order)), tensor.name))
    del graph.initializer[:]
    graph.initializer.extend(ordered)  # in order of first use: the optimizer's output order varies too
    for info in graph.value_info:
        info.name = canonical(info.name)
    return model


@contextlib.contextmanager
def _preprocessed(src: Path):
    """ORT's recommended pre-processing (`quant_pre_process`: shape inference and graph optimization)
    into a temporary file. Without it, on a file from torch 2.13's exporter, the quantizer's own shape
    inference stops with "Inferred shape and existing shape differ" at the classifier's Gemm."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="l5-onnx-") as tmp:
        ready = Path(tmp) / "preprocessed.onnx"
        quant_pre_process(str(src), str(ready))
        yield ready


def _paths(src: Any, dst: Any) -> tuple[Path, Path]:
    src, dst = as_path(src, "src"), as_path(dst, "dst")
    if not src.is_file():
        raise ValueError(f"src {src} is not a file")
    if src.resolve() == dst.resolve():
        raise ValueError("dst must differ from src")
    return src, dst


def _input(path: Path) -> tuple[str, int]:
    """The name and rank of the model's first input."""
    import onnx

    graph_input = onnx.load(str(path), load_external_data=False).graph.input[0]
    return graph_input.name, len(graph_input.type.tensor_type.shape.dim)
