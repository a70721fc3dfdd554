"""What the lesson's stages share: atomic JSON and array writes with content only (no timings)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from impl.atomic import atomic_write_bytes, atomic_write_json

__all__: list[str] = []  # stage plumbing, not library API


def write_json(out_dir: Path, name: str, content: Any) -> None:
    atomic_write_json(Path(out_dir) / name, content)


def write_arrays(out_dir: Path, name: str, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # uncompressed: the bytes depend on the arrays only
    atomic_write_bytes(Path(out_dir) / name, buffer.getvalue())
