"""Prepared arrays on disk: an uncompressed `.npz` plus a `.sha256` sidecar, both written atomically.

Uncompressed so that loading full MNIST is a plain read (well under a second);
the sidecar lets every load detect a corrupt or half-replaced file before use
(`dvc status` reports the same file as modified; `dvc repro` then rebuilds it).
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.checks import as_bytes, as_path, as_str

__all__ = ["CorruptPreparedError", "sidecar", "save_bytes", "load_bytes", "save", "load", "load_split"]


class CorruptPreparedError(ValueError):
    """A prepared file does not match its recorded sha256 (or cannot be read)."""


def sidecar(path: Path) -> Path:
    path = as_path(path, "path")
    return path.with_name(path.name + ".sha256")


def save_bytes(path: Path, data: bytes) -> str:
    """Write `data` to `path` and its sha256 sidecar, both atomically; returns the sha256."""
    path, data = as_path(path, "path"), as_bytes(data, "data")
    digest = hashlib.sha256(data).hexdigest()
    # The sidecar is removed first, so an interruption between the two writes leaves a
    # file without a matching sidecar, which `load_bytes` rejects, never a stale pair that verifies.
    sidecar(path).unlink(missing_ok=True)
    atomic_write_bytes(path, data)
    atomic_write_text(sidecar(path), f"{digest}  {Path(path).name}\n")
    return digest


def load_bytes(path: Path, what: str = "prepared data") -> bytes:
    """The bytes of `path`, verified against its sidecar; missing or corrupt raises, naming the path."""
    path, what = as_path(path, "path"), as_str(what, "what")
    if not path.is_file():
        raise FileNotFoundError(f"{what}: {path} not found (run `dvc repro` to build it)")
    if not sidecar(path).is_file():
        raise CorruptPreparedError(f"{what}: {path} has no checksum sidecar {sidecar(path).name}; rebuild it with `dvc repro`")
    expected = sidecar(path).read_text(encoding="utf-8").split()[0]
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise CorruptPreparedError(
            f"{what}: {path} has sha256 {digest}, its sidecar records {expected}; "
            f"the file is corrupt: rebuild it with `dvc repro` (or `dvc checkout`)"
        )
    return data


def save(path: Path, arrays: dict[str, np.ndarray]) -> str:
    """Write `arrays` to `path` (npz, uncompressed) and its sha256 sidecar; returns the sha256."""
    path = as_path(path, "path")
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError("arrays must be a non-empty dict of name -> array")
    for name, value in arrays.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"arrays must be keyed by non-empty str names, got {name!r}")
        if np.asarray(value).dtype == object:  # would be pickled, and `load` never unpickles
            raise TypeError(f"arrays[{name!r}] has dtype object; only plain arrays can be saved")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # an exception here happens before anything touches `path`
    return save_bytes(path, buffer.getvalue())


def load(path: Path, what: str = "prepared data") -> dict[str, np.ndarray]:
    """Read and verify an npz written by `save`."""
    path, what = as_path(path, "path"), as_str(what, "what")
    data = load_bytes(path, what)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise CorruptPreparedError(f"{what}: {path} verifies but cannot be read: {exc}") from exc


def load_split(path: Path, what: str, split: str, splits: tuple[str, ...]):
    """(X, y) of `split` from a DVC stage's npz holding X_<split> and y_<split>.

    The producing stage is brought up to date first (`impl.pipeline.artifacts.require`), so a
    fresh clone builds it on first use, and the artifact's dvc.lock hash is recorded.
    """
    from impl import paths
    from impl.pipeline import artifacts

    path, what = as_path(path, "path"), as_str(what, "what")
    if not isinstance(splits, tuple) or not splits or not all(isinstance(s, str) and s for s in splits):
        raise TypeError(f"splits must be a non-empty tuple of split names, got {splits!r}")
    split = as_str(split, "split", choices=splits)
    arrays = load(artifacts.require(paths.relative(path)), what)
    return arrays[f"X_{split}"], arrays[f"y_{split}"]
