"""The serving wrapper: an ORT session behind an input contract, and the HTTP request parser in front of it.

Contract (declared by the ONNX graph and checked here): input `pixels`, float32, shape [N, 1, 28, 28]
with N >= 1 dynamic, values in [0, 1]; output `logits`, float32 [N, 10]. `Predictor.predict` refuses
anything else with a ValueError naming the problem instead of returning an output: ORT itself would
accept a float64 array after an error message, or silently broadcast a wrong batch layout.

`parse_request` turns a JSON request body into that array: `{"inputs": ...}` with one image
([1, 28, 28], a single prediction) or a batch ([N, 1, 28, 28]), optionally `"dtype": "float32"`.
Every refusal is a `RequestError` carrying the HTTP status (400 malformed JSON, 413 too large, 422 a
well-formed request that breaks the contract) and a message naming the field and the problem.
JSON numbers are read as float64 and cast to float32, which is exact for any float32 value a client
wrote with Python's shortest repr, so HTTP predictions can equal in-process ones bit for bit.
A body is parsed by orjson (strict RFC 8259, about 9x faster than the stdlib on an image's 784
numbers, most of a request's parse cost); a body orjson refuses is parsed again by the stdlib's
`json`, whose answer (a value, or the exact error) decides, so orjson speeds the valid requests
and changes no refusal. orjson reads an integer outside [-2**63, 2**64 - 1] as a float where the stdlib
keeps it exact; such a number has no place in a request that meets the contract, so the two parsers can
differ only on a body the orjson path refuses, and a refused body holding a run of 19 digits is judged again
on the stdlib's reading (a cost only refused requests pay).
"""
from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import orjson

from impl.checks import as_bytes, as_int, as_path
from impl.digests import file_md5

__all__ = ["IMAGE_SHAPE", "MAX_BATCH", "RequestError", "Predictor", "parse_request"]

IMAGE_SHAPE = (1, 28, 28)
MAX_BATCH = 256            # a larger batch is a client bug or an attack, not a workload (422)
# 19 digits in a row: maybe an integer outside orjson's 64-bit range (|n| >= 10**18); fraction or exponent
# digits match too, which only sends a refused body to the stdlib once more.
_LONG_DIGIT_RUN = re.compile(rb"\d{19}")


class RequestError(ValueError):
    """A request the service refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Predictor:
    """An ORT CPU session (`threads` intra-op threads) that predicts only for inputs meeting the contract."""

    def __init__(self, model_path, *, threads: int = 1, max_batch: int = MAX_BATCH):
        from impl import onnx_tools

        self.path = as_path(model_path, "model_path")
        if not self.path.is_file():
            raise ValueError(f"model_path {self.path} is not a file")
        self.max_batch = as_int(max_batch, "max_batch", minimum=1, maximum=1 << 16)
        self.session = onnx_tools.make_session(self.path, threads=as_int(threads, "threads", minimum=1, maximum=256))
        declared = self.session.get_inputs()[0]
        self.input_name = declared.name
        if declared.type != "tensor(float)" or list(declared.shape[1:]) != list(IMAGE_SHAPE):
            raise ValueError(f"model_path: the model's input {declared.name} is {declared.type} {declared.shape}, "
                             f"not float32 [N, {', '.join(map(str, IMAGE_SHAPE))}]")
        self.md5 = file_md5(self.path)

    def contract(self) -> dict[str, Any]:
        """The input and output declarations of the loaded graph."""
        inputs, outputs = self.session.get_inputs()[0], self.session.get_outputs()[0]
        return {"input": {"name": inputs.name, "dtype": "float32", "shape": [str(d) if isinstance(d, str) else d
                                                                              for d in inputs.shape],
                          "range": [0.0, 1.0], "max_batch": self.max_batch},
                "output": {"name": outputs.name, "dtype": "float32", "shape": [str(d) if isinstance(d, str) else d
                                                                                for d in outputs.shape]}}

    def check(self, pixels) -> np.ndarray:
        """`pixels` itself if it is a float32 [N, 1, 28, 28] array of finite values in [0, 1] with
        1 <= N <= max_batch; otherwise a ValueError naming what is wrong."""
        if not isinstance(pixels, np.ndarray):
            raise ValueError(f"pixels must be a numpy float32 array, got {type(pixels).__name__}")
        if pixels.dtype != np.float32:
            raise ValueError(f"pixels must have dtype float32, got {pixels.dtype}")
        if pixels.ndim != 4 or pixels.shape[1:] != IMAGE_SHAPE or pixels.shape[0] == 0:
            raise ValueError(f"pixels must have shape [N, 1, 28, 28] with N >= 1, got {list(pixels.shape)}")
        if pixels.shape[0] > self.max_batch:
            raise ValueError(f"pixels holds a batch of {pixels.shape[0]}, more than max_batch = {self.max_batch}")
        if not np.isfinite(pixels).all():
            raise ValueError("pixels contains NaN or infinite values")
        if pixels.min() < 0.0 or pixels.max() > 1.0:
            raise ValueError(f"pixels must lie in [0, 1], got {float(pixels.min())}..{float(pixels.max())}")
        return pixels

    def predict(self, pixels) -> np.ndarray:
        """float32 logits [N, 10] for a batch meeting the contract."""
        pixels = self.check(pixels)
        return self.session.run(None, {self.input_name: np.ascontiguousarray(pixels)})[0]


def _refuse_constant(name: str):
    raise RequestError(422, f"inputs contains {name}: every value must be a finite number in [0, 1]")


def _holds_boolean(value) -> bool:
    """Whether a parsed JSON value holds `true` or `false` anywhere (NumPy turns [0.5, true] into [0.5, 1.0])."""
    if isinstance(value, bool):
        return True
    return isinstance(value, list) and any(_holds_boolean(item) for item in value)


def parse_request(body, *, max_batch: int = MAX_BATCH) -> tuple[np.ndarray, bool]:
    """(float32 array [N, 1, 28, 28], single) from a JSON body; `single` when one [1, 28, 28] image was sent.
    Raises RequestError(status, message) for anything else."""
    body = as_bytes(body, "body")
    max_batch = as_int(max_batch, "max_batch", minimum=1, maximum=1 << 16)
    try:
        payload = orjson.loads(body)  # valid JSON, the common case: NaN, Infinity or 1,024 levels deep are not
    except orjson.JSONDecodeError:
        return _to_array(_parse_stdlib(body), body, max_batch)
    try:
        return _to_array(payload, body, max_batch)
    except RequestError:
        if not _LONG_DIGIT_RUN.search(body):
            raise
    return _to_array(_parse_stdlib(body), body, max_batch)  # the stdlib keeps a 65-bit integer exact; it decides


def _parse_stdlib(body: bytes) -> Any:
    """The body parsed by the stdlib's json (which also reads UTF-16/32), or the RequestError it earns."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except RequestError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(400, f"malformed JSON body: {exc}") from None
    except RecursionError:
        raise RequestError(400, "malformed JSON body: nested too deeply") from None


def _to_array(payload: Any, body: bytes, max_batch: int) -> tuple[np.ndarray, bool]:
    if not isinstance(payload, dict):
        raise RequestError(422, f"the body must be a JSON object with a field 'inputs', got {type(payload).__name__}")
    if "inputs" not in payload:
        raise RequestError(422, f"missing field 'inputs' (got fields {sorted(payload)})")
    unknown = sorted(set(payload) - {"inputs", "dtype"})
    if unknown:
        raise RequestError(422, f"unknown fields {unknown}: a request has 'inputs' and optionally 'dtype'")
    if payload.get("dtype", "float32") != "float32":
        raise RequestError(422, f"dtype must be 'float32' (the model's input dtype), got {payload['dtype']!r}")
    inputs = payload["inputs"]
    if not isinstance(inputs, list):
        raise RequestError(422, f"inputs must be a nested list of numbers, got {type(inputs).__name__}")
    # A JSON boolean among numbers would become 1.0 or 0.0 in the array below. A request that conforms holds
    # neither token (its only strings are the field names and "float32"), so the walk runs only for bad ones.
    try:
        boolean = (b"true" in body or b"false" in body) and _holds_boolean(inputs)
    except RecursionError:
        raise RequestError(422, "inputs is nested too deeply: expected [1, 28, 28] or [N, 1, 28, 28]") from None
    if boolean:
        raise RequestError(422, "inputs contains a JSON boolean (true/false): every value must be a finite number "
                                "in [0, 1]")
    # A batch's first dimension is known before the array is built: refuse a huge batch cheaply.
    if len(inputs) > max_batch and not (inputs and isinstance(inputs[0], list) and len(inputs) == 1):
        raise RequestError(422, f"inputs holds a batch of {len(inputs)}, more than the maximum {max_batch}")
    try:
        array = np.asarray(inputs)
    except (ValueError, RecursionError):
        raise RequestError(422, "inputs must be a rectangular nested list of numbers (rows of equal length)") from None
    if array.dtype.kind not in "fiu":  # strings, booleans, nulls, objects
        raise RequestError(422, f"inputs must hold numbers only (dtype float32), got JSON values of kind "
                                f"{array.dtype.kind!r} ({array.dtype})")
    single = array.ndim == 3
    if single:
        array = array[None]
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE or array.shape[0] == 0:
        raise RequestError(422, f"inputs must have shape [1, 28, 28] (one image) or [N, 1, 28, 28] (a batch), "
                                f"got {list(array.shape[1:] if single else array.shape)}")
    if array.shape[0] > max_batch:
        raise RequestError(422, f"inputs holds a batch of {array.shape[0]}, more than the maximum {max_batch}")
    if not np.isfinite(array).all():
        raise RequestError(422, "inputs contains NaN or infinite values: every value must be a finite number in [0, 1]")
    if array.min() < 0 or array.max() > 1:
        raise RequestError(422, f"inputs must lie in [0, 1] (pixels / 255), got {float(array.min())}.."
                                f"{float(array.max())}")
    return array.astype(np.float32), single
