"""Saving and reloading models safely: ONNX export (`impl.onnx_tools`, with this lesson's input
name), artifact hashes checked against dvc.lock before anything is deserialised, and predictions from
a fresh Python process (ONNX files are opened by `onnx_tools.make_session`).

Nothing untrusted is unpickled: torch files load with `weights_only=True` (tensors and plain
containers only), and a joblib/pickle file is opened only after its MD5 equals the one `dvc.lock`
records for the output our own stage wrote (`load_joblib_verified`).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from impl import onnx_tools
from impl.checks import as_float, as_float_array, as_instance, as_int, as_path, as_str
from impl.digests import file_md5

__all__ = ["KINDS", "INPUT_NAME", "to_onnx", "locked_md5", "verify_against_lock", "load_joblib_verified",
           "predict_in_fresh_process"]

KINDS = ("torch_mlp", "torch_lowrank", "onnx", "joblib", "pickle")
OPSET = 17
INPUT_NAME = "x"


def to_onnx(model, in_features: int) -> bytes:
    """The model (rows of `in_features` floats in, `INPUT_NAME`; `logits` out) exported by the
    TorchScript-based exporter (dynamo=False) at opset 17, batch axis dynamic, weights inline, as bytes;
    IR version as the exporter writes it for opset 17 (8)."""
    import torch

    as_instance(model, "model", torch.nn.Module)
    in_features = as_int(in_features, "in_features", minimum=1, maximum=10**5)
    example = np.zeros((1, in_features), np.float32)
    try:
        return onnx_tools.export(model, example, exporter="torchscript", opset=OPSET, input_name=INPUT_NAME,
                                 output_name="logits", batch_name="batch")
    except ValueError as exc:  # the only example-dependent refusal: rows of this width do not fit the model
        raise ValueError(f"in_features = {in_features} does not fit the model: {exc}") from exc


def locked_md5(relpath: str) -> str:
    """The MD5 dvc.lock records for the root-relative output `relpath`."""
    from impl.pipeline import provenance

    relpath = as_str(relpath, "relpath")
    hashes = provenance.dvc_lock_hashes()
    if relpath not in hashes:
        raise ValueError(f"relpath {relpath!r} is not an output recorded in any dvc.lock")
    return hashes[relpath]


def verify_against_lock(relpath: str, path=None) -> Path:
    """The file (default: the output `relpath` itself; or a copy of it at `path`) once its bytes hash
    to the MD5 dvc.lock records for `relpath`; raises ValueError otherwise."""
    from impl import paths

    expected = locked_md5(relpath)
    path = paths.ROOT / relpath if path is None else as_path(path, "path")
    found = file_md5(path)
    if found != expected:
        raise ValueError(f"relpath {relpath}: md5 {found} differs from dvc.lock's {expected}; refusing to load it")
    return path


def load_joblib_verified(relpath: str, path=None):
    """joblib.load of a stage output (or of a copy at `path`), only after `verify_against_lock` passed:
    unpickling runs code, so only bytes our own stage wrote are ever unpickled."""
    import joblib

    return joblib.load(verify_against_lock(relpath, path))


def predict_in_fresh_process(kind: str, relpath: str, X, timeout_s: float = 300.0) -> np.ndarray:
    """Outputs (logits or class scores) of the artifact `relpath` for rows X, computed by a new Python
    process that loads it from disk (`python -m impl.l7_capstone.reload`), as float32/float64 array. The child
    runs with this process's torch and BLAS thread counts (`processes.same_threads_env`)."""
    kind = as_str(kind, "kind", choices=KINDS)
    relpath = as_str(relpath, "relpath")
    X = as_float_array(X, "X", ndim=2, dtype=np.float32)
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, low_open=True)
    from impl import paths, processes

    with tempfile.TemporaryDirectory() as folder:
        inputs, outputs = Path(folder) / "x.npy", Path(folder) / "y.npy"
        np.save(inputs, X)
        done = subprocess.run([sys.executable, "-m", "impl.l7_capstone.reload", kind, relpath, str(inputs), str(outputs)],
                              cwd=paths.ROOT, capture_output=True, text=True, timeout=timeout_s,
                              env=processes.same_threads_env())  # bit for bit needs this process's thread counts
        if done.returncode != 0:
            raise RuntimeError(f"reload of {relpath} ({kind}) failed:\n{done.stderr[-3000:]}")
        result = np.load(outputs, allow_pickle=False)
        json.loads(done.stdout.strip().splitlines()[-1])  # the child's receipt: it hashed before loading
    return result
