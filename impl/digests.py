"""File digests: the MD5 that DVC records in dvc.lock for a file output (DVC 3, `hash: md5`)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from impl.checks import as_path

BLOCK_BYTES = 1 << 20


def file_md5(path: str | Path) -> str:
    """The MD5 hex digest of a file's bytes, read in 1 MiB blocks (models and datasets stay out of memory)."""
    path = as_path(path, "path")
    if not path.is_file():
        raise ValueError(f"path {path} is not a file")
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
