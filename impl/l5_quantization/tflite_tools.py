"""TFLite conversion of a Keras model and inference through LiteRT (`ai_edge_litert`).

Four variants of one model, each the TFLite converter's documented recipe:

- `float32`: no optimizations, the reference conversion;
- `float16`: `Optimize.DEFAULT` with `supported_types = [tf.float16]` (weights stored as float16);
- `dynamic`: `Optimize.DEFAULT` alone (dynamic-range: int8 weights, float activations; tensors with
  fewer than 1,024 elements stay float);
- `int8`: full integer, calibrated on a representative dataset, int8 input and output.

Inference uses `ai_edge_litert.interpreter.Interpreter`, not the deprecated `tf.lite.Interpreter`.
`TFLiteRunner` quantizes float inputs and dequantizes int8 outputs with the model's own
(scale, zero_point), so every variant is called with float images and returns float scores.
"""
from __future__ import annotations

import os

from typing import Any, Callable

import numpy as np

from impl.checks import MAX_DIM, as_bool, as_bytes, as_float_array, as_int, as_str
from impl.isolation import env_preserved, logger_levels_preserved

__all__ = ["VARIANTS", "in_fresh_process", "convert_keras", "TFLiteRunner"]

VARIANTS = ("float32", "float16", "dynamic", "int8")


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` run in a newly spawned Python process; returns its result.

    TensorFlow's thread pools, its global seeds, Keras' random seed and TF_USE_LEGACY_KERAS start from
    nothing there (so `impl.timing.pin_tf_threads` really pins), and none of them reaches the calling process.
    The child hashes strings and bytes with a fixed seed (PYTHONHASHSEED=0): converters that group by
    `hash()` (tf2onnx's duplicate-node merge) then write the same file every run.
    `function` must be importable by name (a module-level function); arguments and result are pickled.
    """
    if not callable(function) or not hasattr(function, "__qualname__") or "<" in function.__qualname__:
        raise TypeError(f"function must be a module-level function (importable by name), got {function!r}")
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with env_preserved(), ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        os.environ["PYTHONHASHSEED"] = "0"  # read by the child's interpreter when the pool spawns it (on submit)
        return pool.submit(function, *args).result()


def convert_keras(model, variant: str = "float32", representative=None) -> bytes:
    """The `.tflite` flatbuffer of a Keras (or tf_keras) model; `representative` (float inputs, batch
    first) is required for `int8` and used one image at a time."""
    variant = as_str(variant, "variant", choices=VARIANTS)
    if not (hasattr(model, "inputs") and hasattr(model, "outputs") and callable(model)):
        raise TypeError(f"model must be a Keras model, got {type(model).__name__}")
    if variant == "int8":
        if representative is None:
            raise ValueError("representative images are required for the int8 variant")
        representative = as_float_array(representative, "representative", dtype=np.float32)
        expected = tuple(model.inputs[0].shape[1:])
        if len(representative) > MAX_DIM or len(representative.shape[1:]) != len(expected) or any(
                want is not None and want != have for want, have in zip(expected, representative.shape[1:])):
            raise ValueError(f"representative must be a batch of at most {MAX_DIM} inputs of shape {expected}, "
                             f"got shape {representative.shape}")
    elif representative is not None:
        raise ValueError(f"representative is used by the int8 variant only, not {variant!r}")
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
        def samples():
            for image in representative:
                yield [image[None]]

        converter.representative_dataset = samples
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    with logger_levels_preserved("absl"):  # the converter sets absl's logger to WARNING for the whole process
        return converter.convert()


class TFLiteRunner:
    """A LiteRT interpreter over a `.tflite` flatbuffer, callable on float batches of any size."""

    def __init__(self, content: bytes, *, threads: int = 1, xnnpack: bool = True):
        """`threads`: the interpreter's (and XNNPACK's) threads. `xnnpack=False` runs TFLite's built-in kernels
        without the default XNNPACK delegate (which otherwise takes the float32 and the int8 models alike)."""
        content = as_bytes(content, "content", nonempty=True)
        threads = as_int(threads, "threads", minimum=1, maximum=256)
        xnnpack = as_bool(xnnpack, "xnnpack")
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        try:
            self.interpreter = Interpreter(model_content=content, num_threads=threads,
                                           experimental_op_resolver_type=resolver)
        except ValueError as exc:
            raise ValueError(f"content is not a TFLite model: {exc}") from exc
        self._input, self._output = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        self._batch = None
        self.input_dtype, self.output_dtype = self._input["dtype"], self._output["dtype"]

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self.interpreter.resize_tensor_input(self._input["index"], [batch, *self._input["shape"][1:]])
            self.interpreter.allocate_tensors()
            self._input, self._output = (self.interpreter.get_input_details()[0],
                                         self.interpreter.get_output_details()[0])
            self._batch = batch

    def __call__(self, x) -> np.ndarray:
        """Float scores for the float32 batch `x` (int8 I/O quantized and dequantized here)."""
        x = as_float_array(x, "x", dtype=np.float32)
        if x.shape[1:] != tuple(self._input["shape"][1:]):
            raise ValueError(f"x must have shape (n, {', '.join(map(str, self._input['shape'][1:]))}), got {x.shape}")
        self._resize(len(x))
        if self.input_dtype == np.int8:
            scale, zero_point = self._input["quantization"]
            x = np.clip(np.rint(x / scale) + zero_point, -128, 127).astype(np.int8)
        self.interpreter.set_tensor(self._input["index"], np.ascontiguousarray(x))
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self._output["index"])
        if self.output_dtype == np.int8:
            scale, zero_point = self._output["quantization"]
            return (out.astype(np.float32) - zero_point) * np.float32(scale)
        return out.copy()
