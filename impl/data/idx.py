"""Parse the IDX format of the MNIST family (big-endian header, then raw uint8 data)."""
from __future__ import annotations

import numpy as np

from impl.checks import as_bytes, as_str

__all__ = ["parse_images", "parse_labels"]

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def parse_images(content: bytes, what: str = "images") -> np.ndarray:
    """(n, rows, cols) uint8 from an IDX3 file's decompressed bytes."""
    content, what = as_bytes(content, "content"), as_str(what, "what")
    header = np.frombuffer(content[:16], dtype=">u4")
    if header.size != 4 or header[0] != _IMAGES_MAGIC:
        raise ValueError(f"{what}: content is not an IDX3 image file "
                         f"(magic {header[:1].tolist()}, expected {_IMAGES_MAGIC})")
    n, rows, cols = (int(v) for v in header[1:])
    if len(content) != 16 + n * rows * cols:
        raise ValueError(f"{what}: content has {len(content)} bytes, the header promises {16 + n * rows * cols}")
    return np.frombuffer(content, dtype=np.uint8, offset=16).reshape(n, rows, cols).copy()


def parse_labels(content: bytes, what: str = "labels") -> np.ndarray:
    """(n,) int64 from an IDX1 file's decompressed bytes."""
    content, what = as_bytes(content, "content"), as_str(what, "what")
    header = np.frombuffer(content[:8], dtype=">u4")
    if header.size != 2 or header[0] != _LABELS_MAGIC:
        raise ValueError(f"{what}: content is not an IDX1 label file "
                         f"(magic {header[:1].tolist()}, expected {_LABELS_MAGIC})")
    n = int(header[1])
    if len(content) != 8 + n:
        raise ValueError(f"{what}: content has {len(content)} bytes, the header promises {8 + n}")
    return np.frombuffer(content, dtype=np.uint8, offset=8).astype(np.int64)
