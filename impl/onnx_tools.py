"""ONNX export, ONNX Runtime sessions and post-training quantization: the one place Lessons 5, 7 and 8
do each, every option an explicit argument; models in and out as files or bytes.

- `export`: a torch module by the exporter named, `"dynamo"` (torch.export-based; its per-node stack
  traces, which name this checkout's paths, dropped) or `"torchscript"` (dynamo=False); dynamic batch.
- `make_session` / `predict`: an ORT CPU session with explicit thread counts (idle pools spin
  otherwise), one inter-op thread, sequential; `predict` runs one on a float32 batch, sliced if asked.
- `quantize_dynamic`: int8 weights, activations quantized at run time per batch.
- `quantize_static`: int8 weights and activations, ranges from a calibration set (MinMax, Entropy or
  Percentile), QDQ format (QuantizeLinear/DequantizeLinear pairs the runtime fuses into integer
  kernels), per-channel or per-tensor, 7-bit weights with `reduce_range`. Either quantizer runs ORT's
  `quant_pre_process` (shape inference, graph optimization) first when `preprocess` is set.
- `to_float16`: weights and arithmetic in float16 (onnxconverter-common), float32 input and output.
- `keras_to_onnx`: a Keras 2 (`tf_keras`) model, e.g. tfmot's quantization-aware one, through tf2onnx;
  fake-quant becomes QDQ pairs, and ORT's basic constant folding stores the quantized weights as int8.
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from impl.atomic import atomic_write_bytes
from impl.checks import MAX_SAMPLES, as_bool, as_bytes, as_float_array, as_instance, as_int, as_path, as_str

__all__ = [
    "INPUT_NAME", "OUTPUT_NAME", "MIN_OPSET", "EXPORTERS", "METHODS", "CALIBRATION_BATCH", "export",
    "make_session", "predict", "quantize_dynamic", "quantize_static", "to_float16", "keras_to_onnx",
]

INPUT_NAME, OUTPUT_NAME = "input", "logits"
MIN_OPSET = 17  # the catalog's floor (opset 17 added LayerNormalization); ORT runs opsets up to its release's
EXPORTERS = ("dynamo", "torchscript")
METHODS = ("MinMax", "Entropy", "Percentile")  # ORT's calibration methods
CALIBRATION_BATCH = 50
MAX_BATCH = 1 << 16


def export(model, example, dst=None, *, exporter: str, opset: int, dynamic_batch: bool = True,
           input_name: str = INPUT_NAME, output_name: str = OUTPUT_NAME, batch_name: str = "batch"):
    """A torch module (put in eval mode) exported on `example` (a float32 array, batch first) by
    `exporter` at `opset`, as ONNX bytes; with `dst`, written there (atomically) and the path returned.

    The batch axis (named `batch_name`) is dynamic unless `dynamic_batch` is False. "dynamo" traces a
    batch of two copies of `example[0]` (torch.export specialises a dimension of size 1) and drops the
    per-node stack traces; "torchscript" traces `example` itself under `torch.no_grad()` with constant
    folding. Either file passes `onnx.checker.check_model(full_check=True)` before it is returned.
    """
    import torch

    as_instance(model, "model", torch.nn.Module)
    example = as_float_array(example, "example", dtype=np.float32)
    if example.ndim < 2:
        raise ValueError(f"example must have a batch axis and at least one more, got shape {example.shape}")
    dst = None if dst is None else as_path(dst, "dst")
    exporter = as_str(exporter, "exporter", choices=EXPORTERS)
    opset = as_int(opset, "opset", minimum=MIN_OPSET, maximum=23)
    dynamic_batch = as_bool(dynamic_batch, "dynamic_batch")
    names = [as_str(input_name, "input_name"), as_str(output_name, "output_name")]
    if names[0] == names[1]:
        raise ValueError(f"input_name and output_name must differ, both are {names[0]!r}")
    batch_name = as_str(batch_name, "batch_name")
    import onnx

    model = model.eval()
    with torch.no_grad():
        try:  # a shape the model cannot take is refused here, by name, not deep inside the exporter
            model(torch.from_numpy(example[:1]))
        except RuntimeError as exc:
            raise ValueError(f"example of shape {example.shape} does not fit the model: {exc}") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if exporter == "dynamo":
            proto = _dynamo(model, example, opset, dynamic_batch, names, batch_name)
        else:
            axes = {name: {0: batch_name} for name in names} if dynamic_batch else None
            buffer = io.BytesIO()
            with torch.no_grad():
                torch.onnx.export(model, (torch.from_numpy(example),), buffer, dynamo=False, opset_version=opset,
                                  input_names=names[:1], output_names=names[1:], dynamic_axes=axes,
                                  do_constant_folding=True)
            proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return _deliver(proto.SerializeToString(), dst)


def _dynamo(model, example: np.ndarray, opset: int, dynamic_batch: bool, names: list[str], batch_name: str):
    """The torch.export-based export as a ModelProto without the exporter's stack traces."""
    import onnx
    import torch

    x = torch.from_numpy(np.repeat(example[:1], 2, axis=0) if dynamic_batch else example)
    shapes = ({0: torch.export.Dim(batch_name, min=1, max=MAX_BATCH)},) if dynamic_batch else None
    program = torch.onnx.export(model, (x,), input_names=names[:1], output_names=names[1:], dynamic_shapes=shapes,
                                opset_version=opset, dynamo=True, external_data=False, verbose=False)
    with tempfile.TemporaryDirectory(prefix="onnx-tools-") as tmp:
        program.save(str(Path(tmp) / "exported.onnx"), external_data=False)
        proto = onnx.load(str(Path(tmp) / "exported.onnx"))
    _drop_stack_traces(proto.graph)
    for function in proto.functions:
        _drop_stack_traces(function)
    return proto


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


def make_session(model, *, threads: int = 1, providers: tuple[str, ...] = ("CPUExecutionProvider",)):
    """An `onnxruntime.InferenceSession` on a model file or a model's serialized bytes, with `threads`
    intra-op threads, one inter-op thread and sequential execution."""
    import onnxruntime as ort

    source = _source(model, "model")
    threads = as_int(threads, "threads", minimum=1, maximum=256)
    if isinstance(providers, str) or not isinstance(providers, (tuple, list)) or not providers:
        raise TypeError("providers must be a non-empty tuple of execution-provider names")
    for provider in providers:
        as_str(provider, "providers")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(source) if isinstance(source, Path) else source, sess_options=options,
                                providers=list(providers))


def predict(model, x, *, batch_size: int | None = None) -> np.ndarray:
    """The first output of `model` (a session; a file or bytes get a one-thread session) for the float32
    batch `x`: one run, or runs over slices of `batch_size` rows, concatenated."""
    import onnxruntime as ort

    x = as_float_array(x, "x", dtype=np.float32)
    batch_size = None if batch_size is None else as_int(batch_size, "batch_size", minimum=1, maximum=MAX_SAMPLES)
    session = model if isinstance(model, ort.InferenceSession) else make_session(model)
    expected = session.get_inputs()[0]
    if x.ndim != len(expected.shape) or x.ndim < 2:
        raise ValueError(f"x must have shape {expected.shape} (batch first), got {x.shape}")
    if batch_size is None:
        return session.run(None, {expected.name: np.ascontiguousarray(x)})[0]
    return np.concatenate([session.run(None, {expected.name: np.ascontiguousarray(x[i:i + batch_size])})[0]
                           for i in range(0, len(x), batch_size)])


def quantize_dynamic(model, dst=None, *, per_channel: bool, reduce_range: bool = False, preprocess: bool):
    """ORT `quantize_dynamic` of a model file or bytes: QInt8 weights (per output channel or per tensor;
    7-bit with `reduce_range`), activations quantized at run time. Returns the bytes, or `dst` once written."""
    source = _source(model, "model")
    dst = _destination(dst, source)
    per_channel, reduce_range = as_bool(per_channel, "per_channel"), as_bool(reduce_range, "reduce_range")
    preprocess = as_bool(preprocess, "preprocess")
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as ort_quantize_dynamic

    with _staged(source, preprocess) as (ready, out):
        ort_quantize_dynamic(str(ready), str(out), weight_type=QuantType.QInt8, per_channel=per_channel,
                             reduce_range=reduce_range)
        return _deliver(out.read_bytes(), dst)


class _Reader:
    """The calibration batches of one input, as ORT's CalibrationDataReader protocol wants them."""

    def __init__(self, name: str, data: np.ndarray, batch_size: int):
        self._batches = iter([{name: data[i:i + batch_size]} for i in range(0, len(data), batch_size)])

    def get_next(self):
        return next(self._batches, None)


def quantize_static(model, calibration, dst=None, *, method: str, per_channel: bool, reduce_range: bool,
                    preprocess: bool, batch_size: int = CALIBRATION_BATCH):
    """ORT `quantize_static` of a model file or bytes: QDQ format, QInt8 weights (per output channel or
    per tensor; 7-bit with `reduce_range`) and QInt8 activations (asymmetric) whose ranges `method`
    computes over `calibration` (float32 model inputs, batch first, fed `batch_size` rows at a time).
    Returns the bytes, or `dst` once written."""
    source = _source(model, "model")
    dst = _destination(dst, source)
    calibration = as_float_array(calibration, "calibration", dtype=np.float32)
    if calibration.ndim < 2 or calibration.size > MAX_SAMPLES:
        raise ValueError(f"calibration must be a batch of model inputs, got shape {calibration.shape}")
    method = as_str(method, "method", choices=METHODS)
    per_channel, reduce_range = as_bool(per_channel, "per_channel"), as_bool(reduce_range, "reduce_range")
    preprocess = as_bool(preprocess, "preprocess")
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH)
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as ort_quantize_static

    name, rank = _input(source)
    if calibration.ndim != rank:
        raise ValueError(f"calibration must have the model input's rank {rank}, got shape {calibration.shape}")
    with _staged(source, preprocess) as (ready, out):
        ort_quantize_static(str(ready), str(out), _Reader(name, np.ascontiguousarray(calibration), batch_size),
                            quant_format=QuantFormat.QDQ, per_channel=per_channel, reduce_range=reduce_range,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            calibrate_method=getattr(CalibrationMethod, method),
                            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
        return _deliver(out.read_bytes(), dst)


def to_float16(src, dst) -> Path:
    """The float32 model `src` with float16 weights and arithmetic (onnxconverter-common's
    `convert_float_to_float16`), keeping float32 input and output so callers feed the same arrays.
    Returns `dst` after `onnx.checker`."""
    src = as_path(src, "src")
    if not src.is_file():
        raise ValueError(f"src {src} is not a file")
    dst = _destination(as_path(dst, "dst"), src)
    import onnx
    from onnxconverter_common import float16

    converted = float16.convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    onnx.checker.check_model(converted, full_check=True)
    atomic_write_bytes(dst, converted.SerializeToString())
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
    with tempfile.TemporaryDirectory(prefix="onnx-tools-") as tmp:
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
def _staged(source: Path | bytes, preprocess: bool):
    """(the quantizer's input file, its output file) in a temporary folder: `source` itself, or its bytes
    as a file, after ORT's recommended pre-processing when `preprocess` is set (`quant_pre_process`:
    shape inference and graph optimization; without it, on a file from torch 2.13's dynamo exporter, the
    quantizer's own shape inference stops with "Inferred shape and existing shape differ" at a Gemm)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="onnx-tools-") as tmp:
        ready = source
        if isinstance(source, bytes):
            ready = Path(tmp) / "float.onnx"
            ready.write_bytes(source)
        if preprocess:
            quant_pre_process(str(ready), str(Path(tmp) / "preprocessed.onnx"))
            ready = Path(tmp) / "preprocessed.onnx"
        yield ready, Path(tmp) / "quantized.onnx"


def _source(model: Any, name: str) -> Path | bytes:
    """A model given as an existing file (str or os.PathLike) or as its non-empty serialized bytes."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return as_bytes(model, name, nonempty=True)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path or the model's bytes, got {type(model).__name__}")
    path = as_path(model, name)
    if not path.is_file():
        raise ValueError(f"{name} {path} is not a file")
    return path


def _destination(dst: Any, source: Path | bytes) -> Path | None:
    if dst is None:
        return None
    dst = as_path(dst, "dst")
    if isinstance(source, Path) and source.resolve() == dst.resolve():
        raise ValueError("dst must differ from the model's file")
    return dst


def _deliver(data: bytes, dst: Path | None):
    """`data`, or the path `dst` once `data` is written there atomically."""
    if dst is None:
        return data
    atomic_write_bytes(dst, data)
    return dst


def _input(source: Path | bytes) -> tuple[str, int]:
    """The name and rank of the model's first input."""
    import onnx

    try:
        proto = (onnx.load_from_string(source) if isinstance(source, bytes)
                 else onnx.load(str(source), load_external_data=False))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ValueError(f"model is not an ONNX model: {exc}") from exc
    graph_input = proto.graph.input[0]
    return graph_input.name, len(graph_input.type.tensor_type.shape.dim)
