"""Atomic file writes: a temp file beside the target, then a rename.

An interrupted write never leaves a half-written artifact behind. Stage outputs are written in one
form each: JSON by `atomic_write_json` (sorted keys, so the bytes depend on the content only) and
torch objects by `atomic_save_torch`.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, content: Any) -> None:
    """`content` as JSON: one-space indent, sorted keys, a final newline. NaN and infinities are refused
    (they are not JSON, and a reader in another language would choke on them)."""
    try:
        text = json.dumps(content, indent=1, sort_keys=True, allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}; write a non-finite value as null or a string") from exc
    atomic_write_text(path, text + "\n")


def torch_bytes(obj: Any) -> bytes:
    """`torch.save(obj)` into memory (a state dict, a tensor, a dict of them)."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def atomic_save_torch(path: Path, obj: Any) -> None:
    """`torch.save` that a reader never sees half-written; load it back with `weights_only=True`."""
    atomic_write_bytes(path, torch_bytes(obj))
